import { afterEach, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { sleep, TestPeer, until } from '../../helpers/rtpPeer.ts';
import { startRtpRuntime } from '../../helpers/rtpRuntime.ts';

/**
 * A leg re-created after its worker died goes on as the same RTP source
 * (RFC 3550 §5.1): the same SSRC, the next sequence number, and a timestamp
 * clock that advanced with the outage — so the peer's jitter buffer (and an
 * SRTP replay window) sees a gap in time, not a new stream.
 */
const PORT_MIN = 44_000 + 2 * ((process.pid * 11) % 1500);

let sup: Supervisor | undefined;
let p: TestPeer | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
  p?.close();
});

describe('RTP leg across a worker restart', () => {
  it('keeps its SSRC, continues its sequence numbers and advances its timestamps by the outage', { timeout: 60_000 }, async () => {
    ({ sup } = await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 10, rtcpMinIntervalS: 5, spareThreads: true }));
    p = await TestPeer.create();
    const arrivals: number[] = [];
    p.rtp.on('message', () => arrivals.push(performance.now()));
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'tone' });
    await until(() => p!.received.length >= 25, 20_000, 'packets before the crash');
    const leg = sup.getCall(call.id)!.actors.find((a) => a.startsWith('rtp'))!;
    const worker = sup.status().actors.find((a) => a.id === leg)!.worker;
    const before = p.received.length;
    // A hang: the watchdog replaces the worker after half a second, so the outage dwarfs any tick's jitter.
    await sup.injectFault(worker, 'hang');
    await until(() => sup!.workerStatuses().find((w) => w.id === worker)!.restarts >= 1, 20_000, 'the restart');
    await until(() => p!.received.length >= before + 25, 20_000, 'packets after the restart');
    await sleep(20);

    const got = p.received.filter((r) => r.payloadType === 0);
    expect(new Set(got.map((r) => r.ssrc)).size).toBe(1);
    // Every packet's sequence number is the one before it plus one: nothing repeated, nothing skipped.
    for (let i = 1; i < got.length; i++) expect((got[i]!.sequenceNumber - got[i - 1]!.sequenceNumber) & 0xffff).toBe(1);
    // The timestamp clock kept time through the outage: the media time less the arrival time is the
    // same before and after it (medians, so a late tick's bunched packets do not move it).
    const lastBefore = before - 1;
    const offset = (from: number, to: number): number => {
      const d = got.slice(from, to).map((r, i) => ((r.timestamp - got[0]!.timestamp) >>> 0) / 8 - (arrivals[from + i]! - arrivals[0]!));
      return d.sort((x, y) => x - y)[d.length >> 1]!;
    };
    const outageMs = arrivals[before]! - arrivals[lastBefore]!;
    expect(outageMs).toBeGreaterThan(400);
    expect(Math.abs(offset(before, got.length) - offset(0, before))).toBeLessThan(60);
  });
});
