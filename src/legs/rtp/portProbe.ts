import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { PortAllocator } from './PortAllocator.ts';
import { RequestError } from '../../supervisor/Runtime.ts';

/** What a probe found: both ports bindable, one held by another socket, or a failure that is not about the pair. */
export type PairProbe = { kind: 'free' } | { kind: 'held' } | { kind: 'error'; message: string };

/** Between two tries of a pair our own leg may still be closing (its BYE in flight). */
const RETRY_STEP_MS = 20;

function bindOnce(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(err.code ?? err.message);
    });
    // Exclusive, as the leg binds: a port another process holds is refused here too.
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.close();
      resolve(undefined);
    });
  });
}

/**
 * Binds the pair's RTP and RTCP ports on `host` and lets them go at once, so
 * a pair another process holds (EADDRINUSE) is found on the main thread in
 * well under a millisecond instead of failing a leg on a worker. `retryMs`:
 * how long to keep trying a held pair (for one of ours released a moment
 * ago, whose sockets may still be closing). The leg binds right after; a
 * process that takes a port in between is caught there.
 */
export async function probePair(host: string, rtpPort: number, retryMs = 0): Promise<PairProbe> {
  const t0 = performance.now();
  for (;;) {
    const code = (await bindOnce(host, rtpPort)) ?? (await bindOnce(host, rtpPort + 1));
    if (code === undefined) return { kind: 'free' };
    if (code !== 'EADDRINUSE') return { kind: 'error', message: `rtp: cannot bind ${host}:${rtpPort} [code:${code}]` };
    if (performance.now() - t0 >= retryMs) return { kind: 'held' };
    await new Promise((r) => setTimeout(r, RETRY_STEP_MS));
  }
}

/** A pair released this recently may still be closing in its old leg: its probe retries for CLOSING_RETRY_MS. */
const RECENTLY_RELEASED_MS = 1000;
const CLOSING_RETRY_MS = 300;

/**
 * Takes a free pair that binds. A pair another process holds is set aside
 * and the next one tried — across the whole range if need be, each pair at
 * most once per request; when none is left, a 503 whose Retry-After says
 * when one may be: a call of ours may end any moment (1 s), otherwise the
 * first set-aside pair's recheck.
 */
export async function reservePair(ports: PortAllocator, host: string): Promise<number> {
  for (let attempt = 0; attempt < ports.capacity; attempt++) {
    const port = ports.allocate();
    if (port === undefined) break;
    const probe = await probePair(host, port, ports.releasedAgoMs(port) < RECENTLY_RELEASED_MS ? CLOSING_RETRY_MS : 0);
    if (probe.kind === 'free') return port;
    if (probe.kind === 'held') {
      ports.setAside(port);
      continue;
    }
    ports.release(port);
    throw new RequestError(503, probe.message);
  }
  const c = ports.counts();
  const recheckMs = ports.nextRecheckInMs();
  const retryAfterS = c.inUse === 0 && recheckMs !== undefined ? Math.max(1, Math.ceil(recheckMs / 1000)) : undefined;
  throw new RequestError(
    503,
    `no free RTP port pair in ${ports.portMin}–${ports.portMax} [in use:${c.inUse}, held by other processes:${c.heldElsewhere}]`,
    retryAfterS,
  );
}
