import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CALL_COLUMNS, CALL_UNITS, DashboardFeed } from '../../src/server/dashboard/feed.ts';
import { HistoryRing } from '../../src/server/dashboard/HistoryRing.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { TestPeer } from '../helpers/rtpPeer.ts';

/**
 * The dashboard's feed against a real runtime with a real RTP call: a call's
 * row carries the figures /status has for it (in the units the page
 * expects), and the history ring keeps the newest points in a fixed space.
 */
const PORT_MIN = 38_000 + 2 * ((process.pid * 29) % 1000);

let sup: Supervisor;
let peer: TestPeer;
beforeAll(async () => {
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 10, rtcpMinIntervalS: 1, placement: 'call', mediaWorkers: 1 })).sup;
  peer = await TestPeer.create();
});
afterAll(async () => {
  await sup?.stop();
  peer?.close();
});

function parse(json: string): { meta: Array<[number, string, string, number]>; rows: string } {
  return JSON.parse(json);
}

describe('DashboardFeed', () => {
  it("gives a call's row the figures /status rates it with: level, jitter, loss, buffer delay, concealment, MOS", async () => {
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    // 40 packets of a tone with 5 missing: loss and concealment to show.
    const payload = new Uint8Array(160).map((_, k) => (k % 16 < 8 ? 0x10 : 0x90));
    for (let seq = 0; seq < 40; seq++) {
      if (seq % 8 !== 3) peer.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0x4242, csrc: [], paddingLength: 0, payload }), port);
      await new Promise((r) => setTimeout(r, 20));
    }
    const feed = new DashboardFeed(sup, 10);
    const jitterId = call.actors.find((a) => a.startsWith('jitter.'))!;
    // The worker writes the figures every tick: read the row and /status's figures until both come from one tick.
    await vi.waitFor(
      () => {
        feed.sample(Date.now(), { history: true, calls: true });
        const frame = parse(feed.update());
        const qos = sup.callQos(call.id);
        const level = sup.status().actors.find((a) => a.id === jitterId)!.stats['levelDbfs']!;
        expect(frame.meta).toEqual([[1, call.id, 'rtp', Date.parse(call.createdAt)]]);
        const row = frame.rows.split(',').map(Number);
        expect(row).toHaveLength(CALL_COLUMNS.length);
        const j = qos['jitter']!;
        const c = qos['call']!;
        const u = CALL_UNITS;
        expect(row).toEqual([
          1,
          0,
          Math.round(level),
          Math.round(j['jitterMs']! / u.jitterMs),
          Math.round(c['lossPct']! / u.lossPct),
          Math.round(j['currentDelayMs']!),
          expect.any(Number),
          Math.round(c['mos']! / u.mos),
        ]);
        expect(c['lossPct']).toBeGreaterThan(0);
        expect(level).toBeGreaterThan(-40);
        expect(row[6]).toBeGreaterThan(0);
      },
      { timeout: 3_000, interval: 5 },
    );
    await sup.deleteCall(call.id);
    feed.sample(Date.now(), { history: true, calls: true });
    expect(parse(feed.update()).rows).toBe('');
    expect(parse(feed.snapshot(10)).meta).toEqual([]);
  });
});

describe('HistoryRing', () => {
  it('keeps the newest points, oldest first, in a fixed space', () => {
    const ring = new HistoryRing(3);
    expect(ring.json(10)).toBe('[]');
    for (let t = 1; t <= 5; t++) ring.push(t, t * 10, t + 0.04, t * 100, 50.06);
    expect(ring.length).toBe(3);
    expect(JSON.parse(ring.json(10))).toEqual([
      [3, 30, 3, 300, 50.1],
      [4, 40, 4, 400, 50.1],
      [5, 50, 5, 500, 50.1],
    ]);
    expect(JSON.parse(ring.json(1))).toEqual([[5, 50, 5, 500, 50.1]]);
    expect(ring.json(0)).toBe('[]');
    expect(() => new HistoryRing(0)).toThrow(RangeError);
  });
});
