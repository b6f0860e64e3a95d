import { Gauge, type Registry } from 'prom-client';
import type { PortAllocator } from './PortAllocator.ts';

/**
 * `switchboard_rtp_port_pairs{state}`: the RTP port range by state, read
 * from the allocator at scrape time — `free`, `in_use` by our calls, and
 * `held_elsewhere` (bound by another process, set aside until rechecked).
 * When `free` reaches 0, RTP calls are refused with 503 and Retry-After.
 */
export function registerPortMetrics(registry: Registry, ports: PortAllocator): void {
  new Gauge({
    name: 'switchboard_rtp_port_pairs',
    help: 'RTP/RTCP port pairs of the configured range, by state (free, in_use, held_elsewhere)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const c = ports.counts();
      this.set({ state: 'free' }, c.free);
      this.set({ state: 'in_use' }, c.inUse);
      this.set({ state: 'held_elsewhere' }, c.heldElsewhere);
    },
  });
}
