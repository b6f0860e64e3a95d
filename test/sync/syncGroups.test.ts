import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { epochMs } from '../../src/frames/epochClock.ts';
import { serializeRtcpCompound } from '../../src/wire/rtcp.ts';
import { ntpFromUnixMs } from '../../src/wire/rtpStats.ts';
import { sleep, until } from '../helpers/rtpPeer.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { ScaledClockPeer } from '../helpers/scaledClockPeer.ts';

/** A port range per test file and process, so parallel test files do not collide. */
const PORT_MIN = 44_000 + 2 * ((process.pid * 11) % 1500);
const FRAME_MS = 20;

let sup: Supervisor;
const peers: ScaledClockPeer[] = [];
beforeAll(async () => {
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 0.5 })).sup;
});
afterAll(async () => {
  for (const p of peers) p.close();
  await sup?.stop();
});

function stats(actorId: string): Record<string, number> {
  const v = sup.actorStats(actorId)!;
  return Object.fromEntries(v.names.map((n, i) => [n, v.values[i]!]));
}

/** A call from a peer, and its leg's and jitter actor's ids. */
async function call(p: ScaledClockPeer) {
  const info = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'loopback' });
  const ids = info.actors;
  const kind = (id: string): string => sup.actorStats(id)!.kind;
  return {
    id: info.id,
    port: (info['rtp'] as { localPort: number }).localPort,
    leg: ids.find((id) => kind(id) === 'rtp')!,
    jitter: ids.find((id) => kind(id) === 'jitter')!,
  };
}

/** When the engine plays a sample less when the peer truly took it, ms (the peer's ground truth, not the engine's mapping). */
function trueLag(p: ScaledClockPeer, jitterId: string): number {
  const j = stats(jitterId);
  return j['playedAtMs']! - p.takenAtMs(j['playedRtpTimestamp']!);
}

describe('sync groups (real UDP peers with skewed clocks, real workers)', () => {
  it('measures each sender clock and plays two peers that sent the same instant within a frame of each other', async () => {
    // Both senders' wallclocks are 250 ms ahead of ours (the same remote site); A's clock runs 100 ppm fast, B's 100
    // ppm slow, and B's packets take 60 ms longer, so unsynchronized B plays ~60 ms after A.
    const a = await ScaledClockPeer.create({ ppm: 100, aheadMs: 250, delayMs: 0, srEveryMs: 500, ssrc: 0xa11ce, rtpBase: 0xfffff000 });
    const b = await ScaledClockPeer.create({ ppm: -100, aheadMs: 250, delayMs: 60, srEveryMs: 500, ssrc: 0xb0b, rtpBase: 123_456 });
    peers.push(a, b);
    const ca = await call(a);
    const cb = await call(b);
    const t0 = epochMs() + 20;
    a.start(ca.port, t0);
    b.start(cb.port, t0);

    await until(() => Number.isFinite(stats(ca.jitter)['playedAtMs']!) && Number.isFinite(stats(cb.jitter)['playedAtMs']!), 10_000, 'both playing');
    await sleep(1500);
    const apart = trueLag(b, cb.jitter) - trueLag(a, ca.jitter);
    expect(apart).toBeGreaterThan(40);

    // Hostile RTCP from A's own address, once its mapping stands: an SR under another SSRC, one with an absurd NTP time, one whose RTP timestamp jumped.
    const bad = (ssrc: number, unixMs: number, rtp: number): Uint8Array => {
      const ntp = ntpFromUnixMs(unixMs);
      return serializeRtcpCompound([{ type: 'sr', ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: rtp, packetCount: 0, octetCount: 0, reports: [] }]);
    };
    await until(() => stats(ca.leg)['srAccepted']! >= 2, 5000, "A's mapping");
    a.sendRtcp(bad(0xbad, epochMs(), 0), ca.port);
    a.sendRtcp(bad(0xa11ce, epochMs() + 40 * 86_400_000, 5), ca.port);
    a.sendRtcp(bad(0xa11ce, epochMs() + 250, 0x40000000), ca.port);

    sup.joinSyncGroup('room-1', ca.id);
    sup.joinSyncGroup('room-1', cb.id);
    expect(sup.syncGroups()[0]!.members.map((m) => m.call)).toEqual([ca.id, cb.id]);

    // Converged: sampled every 100 ms over the last second and a half, the two play the same instant within a frame.
    await sleep(3500);
    const spreads: number[] = [];
    for (let i = 0; i < 15; i++) {
      spreads.push(Math.abs(trueLag(b, cb.jitter) - trueLag(a, ca.jitter)));
      await sleep(100);
    }
    expect(Math.max(...spreads)).toBeLessThanOrEqual(FRAME_MS);
    const group = sup.syncGroups()[0]!;
    expect(group.members.every((m) => m.mapped)).toBe(true);
    expect(group.members[0]!.syncDelayMs).toBeGreaterThan(30); // A waits for B

    // Each sender clock, as measured from its packets' arrivals: the right sign, within its interval plus a margin for
    // this loaded machine's scheduling.
    const la = stats(ca.leg);
    const lb = stats(cb.leg);
    for (const [leg, ppm] of [
      [la, 100],
      [lb, -100],
    ] as const) {
      expect(Number.isFinite(leg['clockDriftPpm']!)).toBe(true);
      expect(Math.abs(leg['clockDriftPpm']! - ppm)).toBeLessThan(Math.max(80, leg['clockDriftCiPpm']!));
      // The sender's clock less ours: its 250 ms lead less the least one-way delay (a few ms here, 60 more for B).
      expect(leg['clockOffsetMs']!).toBeGreaterThan(ppm > 0 ? 230 : 170);
      expect(leg['clockOffsetMs']!).toBeLessThan(ppm > 0 ? 252 : 192);
    }
    // The hostile SRs were counted, and did not move the mapping (alignment above held).
    expect(la['srForeignSsrc']).toBe(1);
    expect(la['srRejected']).toBeGreaterThanOrEqual(2);
    expect(la['srAccepted']).toBeGreaterThan(4);

    // Per call in /status, and across calls in /metrics.
    const qos = sup.status().calls.find((c) => c.id === cb.id)!.qos!['rtp']!;
    expect(qos['clockDriftPpm']).toBeLessThan(0);
    expect(await sup.metrics.metrics()).toMatch(/switchboard_call_clock_drift_ppm_count\{transport="rtp"\} 2\n/);
    expect(sup.status().syncGroups?.[0]?.group).toBe('room-1');

    // Leaving: the call's buffer goes back to its own delay.
    expect(sup.leaveSyncGroup(ca.id)).toBe(true);
    await until(() => stats(ca.jitter)['syncDelayMs'] === 0, 2000, 'sync delay released');
    expect(sup.leaveSyncGroup(ca.id)).toBe(false);
  }, 20_000);

  it('refuses a bad group name, an unknown call and a full group with clear errors', () => {
    expect(() => sup.joinSyncGroup('no spaces or ünïcode', 'x')).toThrow(/sync group name/);
    expect(() => sup.joinSyncGroup('g', 'no-such-call')).toThrow(/no such call/);
    expect(() => sup.joinSyncGroup('x'.repeat(65), 'x')).toThrow(/sync group name/);
  });
});
