import { afterEach, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { ulawDecode, ulawEncode } from '../../../src/dsp/g711.ts';
import { parseRtcpCompound, serializeRtcpCompound } from '../../../src/wire/rtcp.ts';
import { ntpMiddle32, NTP_UNIX_OFFSET_S } from '../../../src/wire/rtpStats.ts';
import { epochMs } from '../../../src/frames/epochClock.ts';
import { SrtpContext } from '../../../src/wire/srtp.ts';
import { sdesInline } from '../../../src/wire/srtpKeys.ts';
import { serializeRtp } from '../../../src/wire/rtp.ts';
import { DtmfReceive, DtmfReceiver } from '../../../src/wire/dtmf.ts';
import { speech } from '../../helpers/fixtures.ts';
import { segmentedCorrelation, sleep, TestPeer, until } from '../../helpers/rtpPeer.ts';
import { startRtpRuntime } from '../../helpers/rtpRuntime.ts';

/** A port range per test file and process, so parallel test files do not collide. */
const PORT_MIN = 40_000 + 2 * ((process.pid * 7) % 2000);

let sup: Supervisor | undefined;
const peers: TestPeer[] = [];
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
  for (const p of peers.splice(0)) p.close();
});

async function start(portMax = PORT_MIN + 20, idleTimeoutMs?: number) {
  const started = await startRtpRuntime({ portMin: PORT_MIN, portMax, rtcpMinIntervalS: 0.2, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}) });
  sup = started.sup;
  return started;
}

async function peer(): Promise<TestPeer> {
  const p = await TestPeer.create();
  peers.push(p);
  return p;
}

function legStats(s: Supervisor, callId: string): Record<string, number> {
  const leg = s.getCall(callId)!.actors[0]!;
  return s.status().actors.find((a) => a.id === leg)!.stats;
}

/** Sends `samples` as PCMU packets on a 20 ms pace, starting at seq/ts given. */
async function sendPcmu(p: TestPeer, toPort: number, samples: Int16Array, ssrc = 0x1234): Promise<void> {
  const payload = new Uint8Array(160);
  const t0 = performance.now();
  const frames = Math.floor(samples.length / 160);
  for (let k = 0; k < frames; k++) {
    ulawEncode(samples.subarray(k * 160, k * 160 + 160), payload);
    p.sendRtp({ payloadType: 0, sequenceNumber: 100 + k, timestamp: 5000 + 160 * k, ssrc, marker: k === 0, payload }, toPort);
    const wait = t0 + 20 * (k + 1) - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

/**
 * What the peer plays from `fromMs` (epoch ms) on: each packet at its RTP timestamp (RFC 3550 §5.1),
 * silence where nothing was sent. The leg's first SR ties its RTP clock to the wall clock (§6.4.1).
 */
function decodeReceived(p: TestPeer, fromMs: number): Int16Array {
  const sr = parseRtcpCompound(p.rtcpReceived[0]!)[0]!;
  if (sr.type !== 'sr') throw new Error('expected an SR first');
  const srMs = (sr.ntpSeconds - NTP_UNIX_OFFSET_S) * 1000 + (sr.ntpFraction / 2 ** 32) * 1000;
  const origin = (sr.rtpTimestamp - Math.round((srMs - fromMs) * 8)) >>> 0;
  const pts = p.received.filter((r) => r.payloadType === 0 && ((r.timestamp - origin) | 0) >= 0);
  const at = (r: (typeof pts)[number]): number => (r.timestamp - origin) >>> 0;
  const out = new Int16Array(Math.max(0, ...pts.map(at)) + 160);
  for (const r of pts) ulawDecode(r.payload, out.subarray(at(r), at(r) + 160));
  return out;
}

describe('RTP leg (real sockets, real workers)', () => {
  it('loops PCMU back through jitter → loopback agent → leg, with RTCP, and BYE on hang-up', async () => {
    const { sup: s, transport } = await start();
    const p = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'loopback' });
    const localPort = (call['rtp'] as { localPort: number }).localPort;
    expect(localPort % 2).toBe(0);
    expect(transport.ports.inUse).toBe(1);
    const ref = speech('synth-m-8k').samples.subarray(0, 8000 * 1.5);
    const sentAt = epochMs();
    await sendPcmu(p, localPort, ref);
    await sleep(300);
    await until(() => p.rtcpReceived.length >= 1, 2000, 'an RTCP report');
    const got = decodeReceived(p, sentAt);
    // The speech comes back, with the silence around it: RTP is continuous (the first packet
    // starts the stream, marked), and the sequence numbers count packets with no gap.
    expect(p.received.length).toBeGreaterThan(80);
    expect(p.received[0]!.marker).toBe(true);
    expect(p.received.every((r, i) => i === 0 || r.sequenceNumber === ((p.received[i - 1]!.sequenceNumber + 1) & 0xffff))).toBe(true);
    expect(p.received.every((r) => r.ssrc === p.received[0]!.ssrc)).toBe(true);
    // Segment by segment, so the alignment follows the jitter buffer's time-stretching.
    expect(segmentedCorrelation(ref, got, 400, 8000)).toBeGreaterThanOrEqual(0.9);
    const st = legStats(s, call.id);
    expect(st['packetsIn']).toBe(75);
    expect(st['droppedWrongSource']).toBe(0);
    expect(st['silenceFramesSkipped']).toBe(0);
    // The call's quality figures in /status and /metrics, from the leg and its jitter actor.
    const qos = s.status().calls.find((c) => c.id === call.id)!.qos!;
    expect(qos['rtp']!['packetsIn']).toBe(75);
    expect(qos['jitter']!['packetsReceived']).toBe(75);
    expect(qos['jitter']!['packetsLost']).toBe(0);
    // One rating per call, from the jitter actor's real delay and loss and the leg's RTT.
    expect(qos['call']!['mos']).toBeGreaterThan(4);
    expect(qos['rtp']!['mos']).toBeUndefined();
    const metrics = await s.metrics.metrics();
    expect(metrics).toContain('switchboard_calls_qos{transport="rtp",kind="rtp",figure="packetsIn"} 75');
    expect(metrics).not.toContain(call.id);
    // RTCP: SR + SDES from the leg, at the shortened interval.
    await until(() => p.rtcpReceived.length >= 1, 2000, 'an RTCP report');
    const first = parseRtcpCompound(p.rtcpReceived[0]!);
    expect(first[0]!.type).toBe('sr');
    expect(first.some((x) => x.type === 'sdes')).toBe(true);

    const before = p.rtcpReceived.length;
    expect(await s.deleteCall(call.id)).toBe(true);
    await until(() => p.rtcpReceived.length > before && parseRtcpCompound(p.rtcpReceived.at(-1)!).some((x) => x.type === 'bye'), 2000, 'BYE');
    expect(transport.ports.inUse).toBe(0);
  });

  it('sends DTMF as RFC 4733 telephone-events in place of audio, then resumes the audio clock', async () => {
    const { sup: s } = await start();
    const p = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'tone' });
    await until(() => p.received.length >= 5, 2000, 'audio');
    expect(await s.sendDtmf(call.id, '1#')).toBe(true);
    await expect(s.sendDtmf(call.id, '12x')).rejects.toMatchObject({ status: 422 });
    expect(await s.sendDtmf('no-such-call', '1')).toBe(false);
    // The leg takes no other command, nor does the call's tone agent take a tool output: each refusal is
    // a RangeError from the worker naming the command and the kind, a 422 through the call.
    const leg = s.getCall(call.id)!.actors[0]!;
    await expect(s.commandActor(leg, { type: 'mute', muted: true })).rejects.toMatchObject({ name: 'RangeError', message: 'actor kind "rtp" takes no "mute" command' });
    await expect(s.sendToolOutput(call.id, 'call_1', 'x')).rejects.toMatchObject({ status: 422, message: 'actor kind "agent" takes no "toolOutput" command' });
    // 100 ms events at 20 ms: 4 updates and 3 redundant end packets each.
    await until(() => p.received.filter((r) => r.payloadType === 101).length >= 2 * 7, 3000, 'two digits');
    await sleep(100);
    const rx = new DtmfReceiver();
    const digits: number[] = [];
    const events = p.received.filter((r) => r.payloadType === 101);
    for (const r of events) {
      if (rx.receive(r.payload, 0, r.payload.length, r.timestamp) === DtmfReceive.START) digits.push(rx.event.event);
    }
    expect(digits).toEqual([1, 11]); // '1' and '#' (RFC 4733 §3.2 event codes)
    // One sequence across audio and events; audio after the events continues the media clock.
    const seqs = p.received.map((r) => r.sequenceNumber);
    expect(seqs.every((q, i) => i === 0 || q === ((seqs[i - 1]! + 1) & 0xffff))).toBe(true);
    const lastEvent = p.received.lastIndexOf(events.at(-1)!);
    const before = p.received[p.received.indexOf(events[0]!) - 1]!;
    const after = p.received[lastEvent + 1]!;
    expect(after.payloadType).toBe(0);
    expect((after.timestamp - before.timestamp) >>> 0).toBe(160 * (lastEvent + 1 - p.received.indexOf(before)));
    expect(legStats(s, call.id)['dtmfSent']).toBe(events.length);
  });

  it('drops wrong-source, malformed and unknown packets, counts them by reason, and keeps playing', async () => {
    const { sup: s } = await start();
    const p = await peer();
    const intruder = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'loopback' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    const good = (seq: number) => serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 7, csrc: [], paddingLength: 0, payload: new Uint8Array(160).fill(0x55) });
    for (let i = 0; i < 10; i++) p.send(good(i), port);
    intruder.send(good(10), port);
    const bad = good(11);
    p.send(bad.subarray(0, 8), port); // truncated
    const v1 = bad.slice();
    v1[0] = 0x40; // version 1
    p.send(v1, port);
    const cc = bad.slice(0, 20);
    cc[0] = 0x8f; // 15 CSRCs in 20 bytes
    p.send(cc, port);
    const pad = bad.slice();
    pad[0] |= 0x20;
    pad[pad.length - 1] = 250; // padding longer than the payload
    p.send(pad, port);
    const ext = bad.slice(0, 24);
    ext[0] |= 0x10;
    ext[14] = 0xff; // extension of 255 words
    p.send(ext, port);
    const pt = bad.slice();
    pt[1] = 96; // not ours
    p.send(pt, port);
    p.send(new Uint8Array([0x80, 0xc8, 0, 1, 2, 3]), port); // garbage RTCP on the RTP port
    p.send(new Uint8Array([0x80, 0xc8, 0xff, 0xff, 0, 0, 0, 0]), port + 1, p.rtcp); // garbage RTCP
    for (let i = 12; i < 20; i++) p.send(good(i), port);
    // Two sockets, read in no fixed order: the RTCP port's garbage may be read after the RTP port's last packet.
    await until(() => legStats(s, call.id)['packetsIn']! >= 18 && legStats(s, call.id)['droppedBadRtcp']! >= 2, 2000, 'good packets and both bad RTCP');
    const st = legStats(s, call.id);
    expect(st['packetsIn']).toBe(18);
    expect(st['droppedWrongSource']).toBe(1);
    expect(st['droppedTooShort']).toBe(1);
    expect(st['droppedBadVersion']).toBe(1);
    expect(st['droppedCsrcPastEnd']).toBe(1);
    expect(st['droppedBadPadding']).toBe(1);
    expect(st['droppedExtensionPastEnd']).toBe(1);
    expect(st['droppedWrongPayloadType']).toBe(1);
    expect(st['droppedBadRtcp']).toBe(2);
    const n = p.received.length;
    await sleep(200);
    expect(p.received.length).toBeGreaterThan(n + 5);
  });

  it('latches the first good source and never moves to another', async () => {
    const { sup: s } = await start();
    const first = await peer();
    const second = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: 'latch', codec: 'PCMU', agent: 'loopback' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    await sleep(100);
    expect(first.received.length + second.received.length).toBe(0); // nobody to send to yet
    const pkt = (seq: number, ssrc: number) => serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrc: [], paddingLength: 0, payload: new Uint8Array(160) });
    second.send(new Uint8Array([1, 2, 3]), port); // garbage does not latch
    for (let i = 0; i < 5; i++) first.send(pkt(i, 1), port);
    await until(() => first.received.length > 3, 2000, 'media to the latched peer');
    for (let i = 0; i < 5; i++) second.send(pkt(i, 2), port);
    await sleep(200);
    const st = legStats(s, call.id);
    expect(st['remotePort']).toBe(first.port);
    expect(st['droppedWrongSource']).toBe(5);
    expect(st['droppedTooShort']).toBe(1);
    expect(second.received.length).toBe(0);
  });

  it('releases the port pair on hang-up so the next call can bind it', async () => {
    const { sup: s, transport } = await start(PORT_MIN);
    const p = await peer();
    const a = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMA', agent: 'echo' });
    await expect(s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU' })).rejects.toThrow(/no free RTP port/);
    await s.deleteCall(a.id);
    expect(transport.ports.inUse).toBe(0);
    const b = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'G722', agent: 'tone' });
    expect((b['rtp'] as { localPort: number }).localPort).toBe(PORT_MIN);
    await until(() => p.received.some((r) => r.payloadType === 9), 2000, 'G.722 packets');
    await expect(s.createCall({ transport: 'rtp', remote: 'nowhere', codec: 'PCMU' })).rejects.toThrow(/remote/);
    await expect(s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'GSM' })).rejects.toThrow(/codec/);
  });

  it('under SRTP: drops forged tags and replays, keeps playing, and what it sends decrypts with its key', async () => {
    const { sup: s } = await start();
    const p = await peer();
    const ours = { masterKey: new Uint8Array(16).fill(1), masterSalt: new Uint8Array(14).fill(2) };
    const theirs = { masterKey: new Uint8Array(16).fill(3), masterSalt: new Uint8Array(14).fill(4) };
    const call = await s.createCall({
      transport: 'rtp',
      remote: `127.0.0.1:${p.port}`,
      codec: 'PCMU',
      agent: 'loopback',
      srtp: { localKey: sdesInline(ours), remoteKey: sdesInline(theirs) },
    });
    const port = (call['rtp'] as { localPort: number }).localPort;
    const tx = new SrtpContext(theirs);
    const protect = (seq: number): Uint8Array => {
      const clear = serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 9, csrc: [], paddingLength: 0, payload: new Uint8Array(160).fill(0x33) });
      const out = new Uint8Array(clear.length + 10);
      return out.subarray(0, tx.protectRtp(clear, clear.length, out));
    };
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      sent.push(protect(i));
      p.send(sent[i]!, port);
    }
    p.send(sent[3]!, port); // replay
    const forged = protect(10);
    forged[forged.length - 2] ^= 0x40;
    p.send(forged, port);
    for (let i = 11; i < 20; i++) p.send(protect(i), port);
    await until(() => legStats(s, call.id)['packetsIn']! >= 19, 2000, 'SRTP packets');
    const st = legStats(s, call.id);
    expect([st['packetsIn'], st['droppedSrtpReplay'], st['droppedSrtpAuth']]).toEqual([19, 1, 1]);
    // The peer's side: our packets fail as plain RTP payload checks would not tell, so decrypt them.
    const rx = new SrtpContext(ours);
    const raw = await new Promise<Uint8Array>((resolve) => p.rtp.once('message', (m) => resolve(new Uint8Array(m))));
    expect(rx.unprotectRtp(raw, raw.length, raw)).toBe(raw.length - 10);
  });

  it('hangs up the call when the peer sends RTCP BYE, and frees its port pair', async () => {
    const { sup: s, transport } = await start();
    const p = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'PCMU', agent: 'loopback' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    await until(() => p.rtcpReceived.length > 0, 2000, 'RTCP from the leg');
    const bye = serializeRtcpCompound([
      { type: 'rr', ssrc: 0x7777, reports: [] },
      { type: 'bye', ssrcs: [0x7777], reason: 'done' },
    ]);
    p.send(bye, port + 1, p.rtcp);
    await until(() => s.getCall(call.id) === undefined, 3000, 'the call to end');
    expect(transport.ports.inUse).toBe(0);
    expect(s.status().actors).toEqual([]);
  });

  it('hangs up a call whose peer goes silent (no RTP, no RTCP) without BYE; a peer that keeps sending stays', async () => {
    const { sup: s, transport } = await start(PORT_MIN + 20, 1000);
    const gone = await peer();
    const alive = await peer();
    const a = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${gone.port}`, codec: 'PCMU', agent: 'loopback' });
    const b = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${alive.port}`, codec: 'PCMU', agent: 'loopback' });
    const portA = (a['rtp'] as { localPort: number }).localPort;
    const portB = (b['rtp'] as { localPort: number }).localPort;
    const payload = new Uint8Array(160).fill(0xff);
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      // The first peer sends for 300 ms, then vanishes; the second goes on.
      if (seq < 15) gone.sendRtp({ sequenceNumber: seq, timestamp: seq * 160, payload }, portA);
      alive.sendRtp({ sequenceNumber: seq, timestamp: seq * 160, payload }, portB);
    }, 20);
    try {
      await until(() => s.getCall(a.id) === undefined, 4000, 'the silent call to end');
      expect(s.getCall(b.id)).toBeDefined();
      expect(transport.ports.inUse).toBe(1);
    } finally {
      clearInterval(timer);
    }
  });

  it("reads the peer's RTCP: RTT from LSR/DLSR, its view of our loss; Opus backs off and turns FEC on", async () => {
    const { sup: s } = await start();
    const p = await peer();
    const call = await s.createCall({ transport: 'rtp', remote: `127.0.0.1:${p.port}`, codec: 'opus', agent: 'tone' });
    const port = (call['rtp'] as { localPort: number }).localPort;
    await until(() => p.rtcpReceived.length >= 1 && p.received.length > 0, 3000, 'an SR and media');
    const sr = parseRtcpCompound(p.rtcpReceived[0]!)[0]!;
    if (sr.type !== 'sr') throw new Error('expected an SR first');
    expect(sr.ssrc).toBe(p.received[0]!.ssrc);
    // Hold the SR 50 ms, then report 10 % loss of the leg's stream.
    await sleep(50);
    const rr = serializeRtcpCompound([
      {
        type: 'rr',
        ssrc: 0x5151,
        reports: [{ ssrc: sr.ssrc, fractionLost: 26, cumulativeLost: 12, extendedHighestSeq: 1000, jitter: 480, lsr: ntpMiddle32(sr.ntpSeconds, sr.ntpFraction), dlsr: Math.round(0.05 * 65536) }],
      },
      { type: 'sdes', chunks: [{ ssrc: 0x5151, items: [{ type: 1, text: 'peer@test' }] }] },
    ]);
    const sentAt = epochMs();
    p.send(rr, port + 1, p.rtcp);
    await until(() => legStats(s, call.id)['rtcpIn'] === 1, 2000, 'the RR to be read');
    const readBy = epochMs();
    const st = legStats(s, call.id);
    expect(st['peerLossFraction']).toBeCloseTo(26 / 256, 5);
    expect(st['peerCumulativeLost']).toBe(12);
    expect(st['peerJitterMs']).toBe(10);
    // RTT = arrival − LSR − DLSR (RFC 3550 §6.4.1): the time since the SR left the leg, less the
    // 50 ms hold the RR declares. Its arrival lies between our send and the moment we saw it read
    // (a few ms of slack for the SR timestamp's rounding and the threads' clocks).
    const srAtMs = (sr.ntpSeconds - NTP_UNIX_OFFSET_S) * 1000 + (sr.ntpFraction / 2 ** 32) * 1000;
    expect(st['rttMs']).toBeGreaterThanOrEqual(sentAt - srAtMs - 50 - 3);
    expect(st['rttMs']).toBeLessThanOrEqual(readBy - srAtMs - 50 + 3);
    expect(st['opusBitrateBps']).toBe(22_400);
    expect(st['opusFec']).toBe(1);
    // The call's one rating counts half the leg's RTT (one reading of both).
    const qos = s.callQos(call.id);
    expect(qos['rtp']!['rttMs']).toBeGreaterThan(0);
    expect(qos['call']!['oneWayDelayMs']).toBeGreaterThanOrEqual(qos['rtp']!['rttMs']! / 2);
  });
});
