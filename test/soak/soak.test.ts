import { describe, expect, it } from 'vitest';
import { runSoak } from '../../src/soak/runSoak.ts';
import { analyseSoak, slopePerS, warmUpS } from '../../src/soak/soakAnalysis.ts';
import { soakMissed } from '../../src/soak/soakTables.ts';

/**
 * The soak run in small (`npm run soak` is the hour-long one): real RTP calls
 * churned through a daemon process; once the last has ended, its descriptors,
 * handles, timers and RTP port pairs are back to their idle counts.
 */
describe('soak', () => {
  it('churns calls and leaves nothing behind once they end', { timeout: 60_000 }, async () => {
    const r = await runSoak({ calls: 4, durationS: 8, callS: 2, sampleS: 0.5, seed: 3 });
    expect(r.callsPlaced).toBe(16);
    expect(r.callsFailed).toBe(0);
    expect(r.samples.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...r.samples.map((s) => s.calls))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...r.samples.map((s) => s.rtpPortsInUse))).toBeGreaterThanOrEqual(3);
    expect(r.before.fds).toBeGreaterThan(0);
    expect(r.verdict.leaked).toEqual({ fds: 0, timers: 0, handles: 0, rtpPortsInUse: 0 });
    expect(soakMissed(r)).toEqual([]);
  });

  it('reads the memory trend after warm-up by least squares, in MB per hour', () => {
    expect(slopePerS([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2);
    expect(slopePerS([[0, 1], [1, 3]])).toBeNull();
    expect(warmUpS(3600)).toBe(720);
    expect(warmUpS(60)).toBe(30);
    const MB = 1024 * 1024;
    // 1 MB every 10 minutes after a warm-up jump: 6 MB/h, the jump left out.
    const samples = Array.from({ length: 61 }, (_, i) => ({
      t: i * 60, calls: 100, heapUsedBytes: 50 * MB, workerHeapMb: 10, fds: 40, timers: 3, handles: 5, rtpPortsInUse: 100,
      rssBytes: (i * 60 < 720 ? 100 + i : 200 + (i * 60) / 600) * MB,
    }));
    const idle = { fds: 40, timers: 3, handles: 5, rtpPortsInUse: 0, rssBytes: 100 * MB };
    const v = analyseSoak(samples, 3600, idle, { ...idle, fds: 42 });
    expect(v.rssMbPerHour).toBeCloseTo(6, 5);
    expect(v.heapMbPerHour).toBeCloseTo(0, 5);
    expect(v.leaked).toEqual({ fds: 2, timers: 0, handles: 0, rtpPortsInUse: 0 });
  });
});
