import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { statusSummary } from '../../src/server/statusSummary.ts';
import { ENGINE_LATENCY_BOUNDS_US } from '../../src/actors/engineLatency.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { TestPeer, until } from '../helpers/rtpPeer.ts';

/**
 * The `call` placement: a call's actors share one call worker and tick in
 * stage order (jitter/PLC, agent, leg), so a caller's frame goes back out in
 * the tick it was played in — no ring hop waits for another thread's tick.
 * Real sockets, real workers; the loopback agent returns each frame as is.
 */
const PORT_MIN = 32_000 + 2 * ((process.pid * 7) % 1000);
const CALLS = 4;
const PACKETS = 60;

let sup: Supervisor;
const peers: TestPeer[] = [];
beforeAll(async () => {
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 40, rtcpMinIntervalS: 1, placement: 'call', mediaWorkers: 2 })).sup;
});
afterAll(async () => {
  await sup?.stop();
  for (const p of peers.splice(0)) p.close();
});

const stats = (callId: string, kind: string): Record<string, number> =>
  sup.status().actors.find((a) => a.kind === kind && sup.getCall(callId)!.actors.includes(a.id))!.stats;

describe('placement: call', () => {
  it("puts each call's actors on one call worker, spreads calls over the workers, and returns a frame within its tick", async () => {
    const calls: { id: string; port: number; peer: TestPeer }[] = [];
    for (let i = 0; i < CALLS; i++) {
      const peer = await TestPeer.create();
      peers.push(peer);
      const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback' });
      calls.push({ id: call.id, port: (call['rtp'] as { localPort: number }).localPort, peer });
    }
    const workersOf = calls.map((c) => new Set(sup.getCall(c.id)!.actors.map((a) => sup.workerOf(a))));
    for (const w of workersOf) {
      expect(w.size).toBe(1);
      expect([...w][0]).toMatch(/^call-[01]$/);
    }
    expect(new Set(workersOf.map((w) => [...w][0])).size).toBe(2);
    expect(sup.status().workers.map((w) => w.id).sort()).toEqual(['call-0', 'call-1']);
    // A narrowband call's pcm rings hold 20 ms at 8 kHz (callEdge), its packet ring small slots: resident memory per call.
    const agent = sup.getCall(calls[0]!.id)!.actors.find((a) => a.startsWith('agent.'))!;
    expect([sup.ringOf(agent, 'in')!.maxSamples, sup.ringOf(agent, 'out')!.maxSamples]).toEqual([160, 160]);

    // A tone, one packet per 20 ms to every call.
    const payload = new Uint8Array(160);
    for (let i = 0; i < 160; i++) payload[i] = i % 16 < 8 ? 0x20 : 0xa0;
    for (let seq = 0; seq < PACKETS; seq++) {
      for (const c of calls) {
        c.peer.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0x5000, csrc: [], paddingLength: 0, payload }), c.port);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => calls.every((c) => stats(c.id, 'rtp')['engineLatencyFrames']! >= PACKETS / 2), 3000, 'the looped-back frames to be measured');
    // The summary a sampler polls sums the legs' histograms over the live calls.
    // (The legs keep sending concealment while this reads: the sum lies between two readings.)
    const frames = (): number => calls.reduce((n, c) => n + stats(c.id, 'rtp')['engineLatencyFrames']!, 0);
    const before = frames();
    const summary = statusSummary(sup);
    const after = frames();
    expect(summary.calls).toEqual({ rtp: CALLS });
    expect(summary.engineLatency['engineLatencyFrames']).toBeGreaterThanOrEqual(before);
    expect(summary.engineLatency['engineLatencyFrames']).toBeLessThanOrEqual(after);
    expect(before).toBeGreaterThan(0);
    for (const c of calls) {
      const st = stats(c.id, 'rtp');
      // Played out and sent in one tick: well under a frame for nearly all of them. Under the `kind`
      // placement each of the three hops waits for another thread's tick (0–20 ms each, by phase).
      const within2ms = ENGINE_LATENCY_BOUNDS_US.slice(0, 3).reduce((n, b) => n + st[`engineLatencyLe${b}us`]!, 0);
      expect(within2ms / st['engineLatencyFrames']!).toBeGreaterThan(0.9);
      expect(c.peer.received.length).toBeGreaterThan(PACKETS / 2);
    }
  });
});
