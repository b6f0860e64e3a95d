import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { LATCH_PROBATION_PACKETS } from '../../../src/actors/rtp/LatchProbation.ts';
import { OpusEncoder } from '../../../src/dsp/opus.ts';
import { serializeRtp } from '../../../src/wire/rtp.ts';
import { OPUS } from '../../../src/wire/rtpPayloadTypes.ts';
import { startRtpRuntime } from '../../helpers/rtpRuntime.ts';
import { sleep, TestPeer, until } from '../../helpers/rtpPeer.ts';

/**
 * The leg and its peer, against real sockets on 127.0.0.1. Latch mode: who
 * becomes the peer (the tone agent talks all the time, so whoever is latched
 * receives its packets and nobody else does). And a leg with nothing to do
 * costs nothing per tick: before a peer, and while the agent is silent, its
 * frames are skipped — not encoded, not sent, not heard — and the RTP clock
 * runs on, so the audio that follows is stamped where it belongs and starts
 * a talkspurt.
 */
const PORT_MIN = 30_000 + 2 * ((process.pid * 13) % 1500);

let sup: Supervisor;
const peers: TestPeer[] = [];
beforeAll(async () => {
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 0.2 })).sup;
});
afterAll(async () => {
  await sup?.stop();
  for (const p of peers.splice(0)) p.close();
});

async function peer(): Promise<TestPeer> {
  const p = await TestPeer.create();
  peers.push(p);
  return p;
}

function stats(callId: string, kind: string): Record<string, number> {
  return sup.status().actors.find((a) => a.kind === kind && sup.getCall(callId)!.actors.includes(a.id))!.stats;
}
const legStats = (callId: string): Record<string, number> => stats(callId, 'rtp');

const pcmu = (seq: number, ssrc: number): Uint8Array =>
  serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrc: [], paddingLength: 0, payload: new Uint8Array(160).fill(0x7f) });

async function latchCall(extra: Record<string, unknown> = {}): Promise<{ id: string; port: number }> {
  const call = await sup.createCall({ transport: 'rtp', remote: 'latch', codec: 'PCMU', agent: 'tone', ...extra });
  return { id: call.id, port: (call['rtp'] as { localPort: number }).localPort };
}

describe('RTP leg latch (real sockets)', () => {
  it('a hostile first packet does not become the peer, one packet latches nobody, a run of in-sequence packets does', async () => {
    const { id, port } = await latchCall();
    const hostile = await peer();
    const caller = await peer();
    hostile.send(pcmu(9000, 0x666), port);
    await sleep(60);
    caller.send(pcmu(1, 0x1234), port);
    await sleep(100);
    expect(legStats(id)['remotePort']).toBe(0);
    expect(legStats(id)['droppedLatchProbation']).toBe(2);
    expect(hostile.received.length + caller.received.length).toBe(0);
    // The rest of the caller's run, with the hostile source sending between its packets.
    for (let seq = 2; seq <= LATCH_PROBATION_PACKETS; seq++) {
      hostile.send(pcmu(9000 + seq, 0x666), port);
      caller.send(pcmu(seq, 0x1234), port);
      await sleep(20);
    }
    await until(() => caller.received.length >= 5, 2000, 'the agent to reach the latched caller');
    const st = legStats(id);
    expect(st['remotePort']).toBe(caller.port);
    expect(st['packetsIn']).toBe(1);
    expect(caller.received[0]!.marker).toBe(true);
    // Once latched, a full run from elsewhere changes nothing.
    for (let seq = 20; seq < 30; seq++) hostile.send(pcmu(seq, 0x666), port);
    await until(() => legStats(id)['droppedWrongSource']! >= 10, 2000, 'the hostile run to be refused');
    await sleep(60);
    expect(legStats(id)['remotePort']).toBe(caller.port);
    expect(hostile.received.length).toBe(0);
    await sup.deleteCall(id);
  });

  it('latchCidr: a source outside the blocks never latches, however long its run; one inside does', async () => {
    const outside = await latchCall({ latchCidr: '10.0.0.0/8, fd00::/8' });
    const inside = await latchCall({ latchCidr: ['10.0.0.0/8', '127.0.0.0/8'] });
    const caller = await peer();
    for (let seq = 1; seq <= 3 * LATCH_PROBATION_PACKETS; seq++) {
      caller.send(pcmu(seq, 0x1234), outside.port);
      caller.send(pcmu(seq, 0x1234), inside.port);
      await sleep(5);
    }
    await until(() => caller.received.length >= 5, 2000, 'the inside call to latch');
    await until(() => legStats(outside.id)['droppedLatchRefused'] === 3 * LATCH_PROBATION_PACKETS, 2000, 'the outside packets to be refused');
    expect(legStats(outside.id)['remotePort']).toBe(0);
    expect(legStats(outside.id)['packetsIn']).toBe(0);
    expect(legStats(inside.id)['remotePort']).toBe(caller.port);
    expect(legStats(inside.id)['droppedLatchRefused']).toBe(0);
    // Only the inside call's leg sends to the caller.
    expect(new Set(caller.received.map((r) => r.ssrc)).size).toBe(1);
    await sup.deleteCall(outside.id);
    await sup.deleteCall(inside.id);
  });

  it('refuses bad latchCidr blocks, and latchCidr with a given remote, as 422 before taking a port', async () => {
    await expect(latchCall({ latchCidr: '10.0.0.0/40' })).rejects.toMatchObject({ status: 422, message: /latchCidr: .*10\.0\.0\.0\/40/ });
    await expect(latchCall({ latchCidr: 42 })).rejects.toMatchObject({ status: 422, message: /latchCidr/ });
    await expect(sup.createCall({ transport: 'rtp', remote: '127.0.0.1:9', codec: 'PCMU', latchCidr: '10.0.0.0/8' })).rejects.toMatchObject({
      status: 422,
      message: /only for remote "latch"/,
    });
    expect(sup.listCalls()).toEqual([]);
  });
});

describe('RTP leg with nothing to do (real sockets, real workers)', () => {
  it('an idle latch Opus leg encodes and sends nothing while the agent talks to nobody; once the caller latches, audio flows', async () => {
    const call = await sup.createCall({ transport: 'rtp', remote: 'latch', codec: 'opus', agent: 'tone' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    await until(() => stats(call.id, 'agent')['framesOut']! >= 15, 2000, 'the agent to talk');
    const idle = stats(call.id, 'rtp');
    expect(idle['framesEncoded']).toBe(0);
    expect(idle['packetsOut']).toBe(0);
    expect(idle['framesSkipped']).toBeGreaterThan(10);
    // The agent hears nothing of what no one received.
    expect(stats(call.id, 'agent')['lastTruncateMs']).toBe(0);

    const caller = await peer();
    const enc = new OpusEncoder({ rateHz: 48000, bitrateBps: 24_000, backend: 'wasm' });
    const payload = new Uint8Array(1275);
    const n = enc.encode(new Int16Array(960), payload);
    enc.destroy();
    for (let seq = 0; seq < LATCH_PROBATION_PACKETS; seq++) {
      caller.sendRtp({ payloadType: OPUS.payloadType, sequenceNumber: seq, timestamp: seq * 960, payload: payload.subarray(0, n) }, port);
      await sleep(20);
    }
    await until(() => caller.received.filter((r) => r.payloadType === OPUS.payloadType).length >= 10, 3000, 'Opus from the leg');
    const live = stats(call.id, 'rtp');
    expect(live['framesEncoded']).toBeGreaterThanOrEqual(10);
    expect(live['packetsOut']).toBeGreaterThanOrEqual(10);
    expect(caller.received[0]!.marker).toBe(true);
    await sup.deleteCall(call.id);
  });

  it('with a peer and a silent agent on PCMU: silence goes out as continuous RTP (trunks and recorders expect it)', async () => {
    const caller = await peer();
    // The loopback agent returns the caller's audio: silence (flagged so) until the caller speaks.
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${caller.port}`, codec: 'PCMU', agent: 'loopback' });
    await until(() => caller.received.length >= 15, 3000, 'silence from the leg');
    const got = caller.received.slice(0, 15);
    expect(got.every((r, i) => i === 0 || (r.sequenceNumber === ((got[i - 1]!.sequenceNumber + 1) & 0xffff) && r.timestamp - got[i - 1]!.timestamp === 160))).toBe(true);
    expect(legStats(call.id)['silenceFramesSkipped']).toBe(0);
    await sup.deleteCall(call.id);
  });

  it('with Opus DTX and a silent agent: nothing encoded or sent, RTCP keeps the session alive; the first words start a talkspurt on the running clock', async () => {
    const caller = await peer();
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${caller.port}`, codec: 'opus', agent: 'loopback', opusDtx: true });
    const port = (call['rtp'] as { localPort: number }).localPort;
    await until(() => caller.rtcpReceived.length >= 1 && legStats(call.id)['silenceFramesSkipped']! >= 15, 3000, 'RTCP and skipped silence');
    const srSeenAt = performance.now();
    await sleep(300);
    expect(legStats(call.id)['framesEncoded']).toBe(0);
    expect(caller.received).toEqual([]);
    // A voiced frame (a 300 Hz tone) from the caller, looped back: the leg's first packets.
    const enc = new OpusEncoder({ rateHz: 48000, bitrateBps: 24_000, backend: 'wasm' });
    const payload = new Uint8Array(1275);
    const tone = new Int16Array(960);
    for (let seq = 0; seq < 10; seq++) {
      for (let k = 0; k < 960; k++) tone[k] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * (seq * 960 + k)) / 48000));
      const n = enc.encode(tone, payload);
      caller.sendRtp({ payloadType: OPUS.payloadType, sequenceNumber: seq, timestamp: seq * 960, payload: payload.subarray(0, n) }, port);
      await sleep(20);
    }
    enc.destroy();
    await until(() => caller.received.filter((r) => r.payloadType === OPUS.payloadType).length >= 3, 2000, 'the looped audio');
    const spoke = performance.now();
    const [first, second] = caller.received.filter((r) => r.payloadType === OPUS.payloadType);
    expect(first!.marker).toBe(true);
    expect(second!.marker).toBe(false);
    expect(second!.timestamp - first!.timestamp).toBe(960);
    // RFC 3550 §5.1: through the silence the timestamp ran with the sampling clock (48 kHz for
    // Opus, RFC 7587 §4.1), so the first packet is stamped after the report sent before it
    // (§6.4.1) by the time between them.
    const sr = caller.rtcpReceived[0]!;
    const srRtp = new DataView(sr.buffer, sr.byteOffset).getUint32(16);
    const ahead = (first!.timestamp - srRtp) >>> 0;
    expect(ahead).toBeGreaterThanOrEqual(48 * 250);
    expect(ahead).toBeLessThanOrEqual(48 * (spoke - srSeenAt + 250));
    await sup.deleteCall(call.id);
  });
});
