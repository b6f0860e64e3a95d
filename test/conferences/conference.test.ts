import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import type { RtpPacket } from '../../src/wire/rtp.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { sleep, TestPeer, until } from '../helpers/rtpPeer.ts';
import { rms, sine } from '../helpers/spectral.ts';
import { ulawDecodeSample, ulawEncodeSample } from '../peers/g711.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { haveFfmpeg, RtpRelay, runFfmpeg } from '../helpers/ffmpeg.ts';

/**
 * A conference of 32 real RTP peers on real sockets, each sending its own
 * tone as PCMU through its own call (leg → jitter/PLC on a call worker →
 * the mixer, on whichever call worker it was placed → the leg). Every peer
 * must hear the 31 others and never itself (a least-squares tone fit per
 * frequency over what it received); then gains and mutes; then one call
 * worker crashes: the members on the mixer's worker lose no frame, and the
 * crashed ones come back. ffmpeg joins another conference as a member
 * sending speech.
 */
const PORT_MIN = 34_000 + 2 * ((process.pid * 13) % 1500);
const MEMBERS = 32;
const AMPLITUDE = 500; // 31 × 500 stays under the limiter's knee: the mix is the exact sum
const freqOf = (i: number): number => 300 + 90 * i;

let sup: Supervisor;
const peers: TestPeer[] = [];
const calls: string[] = [];
let conference = '';
let sender: NodeJS.Timeout | undefined;

beforeAll(async () => {
  sup = (await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 2 * MEMBERS + 20, rtcpMinIntervalS: 1, placement: 'call', mediaWorkers: 2, spareThreads: true })).sup;
  conference = (await sup.conferences.create({ rateHz: 8000 })).id;
  const ports: number[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const peer = await TestPeer.create();
    peers.push(peer);
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'echo', conference });
    calls.push(call.id);
    ports.push((call['rtp'] as { localPort: number }).localPort);
  }
  // Each peer's tone, one packet per 20 ms, continuous in phase.
  let seq = 0;
  const payload = new Uint8Array(160);
  sender = setInterval(() => {
    for (let i = 0; i < MEMBERS; i++) {
      const w = (2 * Math.PI * freqOf(i)) / 8000;
      for (let k = 0; k < 160; k++) payload[k] = ulawEncodeSample(Math.round(AMPLITUDE * Math.sin(w * (seq * 160 + k))));
      peers[i]!.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x7000 + i, csrc: [], paddingLength: 0, payload }), ports[i]!);
    }
    seq++;
  }, 20);
}, 60_000);

afterAll(async () => {
  clearInterval(sender);
  await sup?.stop();
  for (const p of peers.splice(0)) p.close();
});

/** The PCM of the packets a peer received from `from` on (by position in its list). */
function heard(packets: readonly RtpPacket[], from = 0): Int16Array {
  const got = packets.slice(from);
  const out = new Int16Array(got.length * 160);
  got.forEach((p, j) => p.payload.forEach((b, k) => (out[j * 160 + k] = ulawDecodeSample(b))));
  return out;
}

/** A Blackman window over 80 ms: its side lobes are 58 dB down, its main lobe narrower than the tones' 90 Hz spacing. */
const WINDOW = Float64Array.from({ length: 640 }, (_, k) => {
  const x = (2 * Math.PI * k) / 639;
  return 0.42 - 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);
});
const WINDOW_SUM = WINDOW.reduce((p, q) => p + q, 0);
const TONES = Array.from({ length: MEMBERS }, (_, t) => freqOf(t));

/**
 * Each member's tone amplitude in `x`: windowed DFT at the tone's frequency,
 * power averaged over half-overlapping 80 ms windows (Welch). Phase-blind,
 * so the jitter buffers' time-stretching and a late frame here and there
 * (the machine is shared) lower a tone a little rather than scatter it.
 */
function toneLevels(x: Int16Array, freqs: readonly number[] = TONES): number[] {
  const power = new Float64Array(freqs.length);
  let windows = 0;
  for (let at = 0; at + WINDOW.length <= x.length; at += WINDOW.length / 2, windows++) {
    for (let t = 0; t < freqs.length; t++) {
      const w = (2 * Math.PI * freqs[t]!) / 8000;
      let re = 0;
      let im = 0;
      for (let k = 0; k < WINDOW.length; k++) {
        const v = x[at + k]! * WINDOW[k]!;
        re += v * Math.cos(w * k);
        im -= v * Math.sin(w * k);
      }
      power[t] += (re * re + im * im) * (2 / WINDOW_SUM) ** 2;
    }
  }
  return Array.from(power, (p) => Math.sqrt(p / windows));
}

/** The most tone `t` may measure in `x` and still be absent: twice the floor 45 Hz either side of it (at least 3% of `typical`). */
function notAbove(x: Int16Array, t: number, typical: number): number {
  return Math.max(2 * Math.max(...toneLevels(x, [freqOf(t) - 45, freqOf(t) + 45])), typical * 0.03);
}

const median = (v: number[]): number => [...v].sort((p, q) => p - q)[v.length >> 1]!;

/** Each member's tone amplitude in what peer `i` received over its last `frames` packets. */
function tonesHeardBy(i: number, frames: number): number[] {
  return toneLevels(heard(peers[i]!.received, peers[i]!.received.length - frames));
}

describe('a 32-member conference of RTP peers', () => {
  it('gives every member the 31 others and never itself', async () => {
    const info = sup.conferences.get(conference)!;
    expect(info.members).toHaveLength(MEMBERS);
    expect(new Set(info.members.map((m) => m.slot)).size).toBe(MEMBERS);
    // The calls' agents are gone: the mixer took their seats.
    for (const id of calls) expect(sup.getCall(id)!.actors.some((a) => a.startsWith('agent.'))).toBe(false);
    await until(() => peers.every((p) => p.received.length >= 40), 8000, 'every peer to receive 40 mixed packets');
    await sleep(300);
    for (let i = 0; i < MEMBERS; i++) {
      const x = heard(peers[i]!.received, peers[i]!.received.length - 50);
      const a = toneLevels(x);
      // Relative to the typical tone heard: late frames (silence in their place) lower them all alike.
      const typical = median(a.filter((_, t) => t !== i));
      // (The machine is shared: under load a late frame is concealed or silent, and all tones lose alike.)
      expect(typical).toBeGreaterThan(AMPLITUDE * 0.3);
      for (let t = 0; t < MEMBERS; t++) if (t !== i) expect(a[t]! / typical, `member ${i} hears member ${t}`).toBeGreaterThan(0.6);
      // Its own tone does not stand out of the floor beside it (μ-law noise, and the 50 Hz sidebands
      // of the others' tones that late frames make), and is far under the others.
      expect(a[i]!, `member ${i} hears itself`).toBeLessThan(notAbove(x, i, typical));
      expect(a[i]! / typical, `member ${i} hears itself`).toBeLessThan(0.5);
    }
    const st = sup.conferences.get(conference)!;
    // A tone of amplitude 500 is −39 dBFS RMS.
    for (const m of st.members) expect([m.levelDbfs > -45, m.levelDbfs < -33, m.framesIn > 30]).toEqual([true, true, true]);
    expect(sup.status().conferences).toHaveLength(1);
    // A 33rd member is refused before a call is made for it: 409, and the 32 go on.
    const callsBefore = sup.status().calls.length;
    const extra = await TestPeer.create();
    try {
      await expect(sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${extra.port}`, codec: 'PCMU', agent: 'echo', conference })).rejects.toMatchObject({
        status: 409,
        message: expect.stringMatching(/is full \(32 members\)/) as unknown,
      });
    } finally {
      extra.close();
    }
    expect(sup.status().calls.length).toBe(callsBefore);
    expect(sup.conferences.get(conference)!.members).toHaveLength(MEMBERS);
  }, 20_000);

  it('applies a member\'s gain and mute to what the others hear', async () => {
    // Member 16's tone (1740 Hz) is far from member 0's (300 Hz): neither's sidebands reach the other.
    await sup.conferences.updateMember(conference, calls[0]!, { muted: true });
    await sup.conferences.updateMember(conference, calls[16]!, { gain: 2 });
    await sleep(1200);
    for (const i of [2, 17, 31]) {
      const x = heard(peers[i]!.received, peers[i]!.received.length - 50);
      const a = toneLevels(x);
      const typical = median(a.filter((_, t) => t !== 0 && t !== 16 && t !== i));
      expect(a[0]!).toBeLessThan(notAbove(x, 0, typical));
      expect(a[16]! / typical).toBeGreaterThan(1.6);
      expect(a[16]! / typical).toBeLessThan(2.4);
    }
    // The muted member still hears everyone.
    const a0 = tonesHeardBy(0, 50);
    expect(Math.min(...a0.slice(1)) / median(a0.slice(1))).toBeGreaterThan(0.5);
    expect(sup.conferences.get(conference)!.members.find((m) => m.call === calls[0])!.muted).toBe(true);
    await sup.conferences.updateMember(conference, calls[0]!, { muted: false });
    await sup.conferences.updateMember(conference, calls[16]!, { gain: 1 });
  }, 10_000);

  it("loses the others no frame when a member's worker crashes, and the member comes back", async () => {
    const mixerWorker = sup.conferences.get(conference)!.mixer.worker;
    const workerOfCall = (id: string): string | undefined => sup.workerOf(sup.getCall(id)!.actors[0]!);
    const crashed = calls.map((id, i) => ({ id, i })).filter((c) => workerOfCall(c.id) !== mixerWorker);
    const survivors = calls.map((id, i) => ({ id, i })).filter((c) => workerOfCall(c.id) === mixerWorker);
    expect(crashed.length).toBeGreaterThan(0);
    expect(survivors.length).toBeGreaterThan(1);
    const marks = peers.map((p) => p.received.length);
    const before = sup.conferences.get(conference)!.members;
    await sup.injectFault(sup.getCall(crashed[0]!.id)!.actors[0]!, 'crash');
    // Back: every crashed member is heard by a survivor again.
    await until(
      () => {
        const s = survivors[0]!.i;
        if (peers[s]!.received.length - marks[s]! < 30) return false;
        const a = tonesHeardBy(s, 20);
        const typical = median(survivors.filter((o) => o.i !== s).map((o) => a[o.i]!));
        return crashed.every((c) => a[c.i]! > typical * 0.6);
      },
      8000,
      'the crashed members to be heard again',
    );
    for (const s of survivors) {
      const got = peers[s.i]!.received.slice(marks[s.i]!);
      // Not a packet missing from the survivor's leg: the RTP sequence runs on without a gap…
      for (let j = 1; j < got.length; j++) expect((got[j]!.sequenceNumber - got[j - 1]!.sequenceNumber) & 0xffff).toBe(1);
      // …and the other survivors' tones are in it as loud as before the crash.
      const a = toneLevels(heard(got));
      const b = toneLevels(heard(peers[s.i]!.received.slice(0, marks[s.i]!), marks[s.i]! - 50));
      for (const o of survivors) if (o.i !== s.i) expect(a[o.i]! / b[o.i]!, `member ${s.i} hears ${o.i}`).toBeGreaterThan(0.5);
    }
    // The mixer had each survivor's frame every tick, and its leg took every mix-minus.
    const after = sup.conferences.get(conference)!.members;
    for (const s of survivors) {
      const b = before.find((m) => m.call === s.id)!;
      const a = after.find((m) => m.call === s.id)!;
      expect([a.framesMissing - b.framesMissing, a.framesDropped - b.framesDropped, a.outOverflows - b.outOverflows], `member ${s.i}`).toEqual([0, 0, 0]);
    }
    expect(sup.getCall(crashed[0]!.id)?.state).toBe('active');
  }, 20_000);
});

describe.skipIf(!haveFfmpeg())('ffmpeg as a conference member', () => {
  it('is heard by the other members, talking and at a level, through its own RTP stream', async () => {
    const conf = (await sup.conferences.create({ rateHz: 8000 })).id;
    const listener = await TestPeer.create();
    const relay = await RtpRelay.create(listener.port + 100);
    try {
      const speaker = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${relay.legSide.port}`, codec: 'PCMU', conference: conf });
      relay.legPort = (speaker['rtp'] as { localPort: number }).localPort;
      const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${listener.port}`, codec: 'PCMU' });
      // This one joins after it was made: its agent's seat goes to the mixer.
      await sup.conferences.addMember(conf, { call: call.id });
      const port = (call['rtp'] as { localPort: number }).localPort;
      const tone = sine(160, 1000, 8000, 300);
      const ticker = setInterval(() => listener.sendRtp({ payloadType: 0, sequenceNumber: listener.received.length & 0xffff, timestamp: 0, payload: Uint8Array.from(tone, ulawEncodeSample) }, port), 20);
      let talked = false;
      const watch = setInterval(() => {
        const m = sup.conferences.get(conf)!.members.find((x) => x.call === speaker.id);
        if (m?.talking === true && m.levelDbfs > -45) talked = true;
      }, 20);
      try {
        const wav = fixturePath('speech/synth-m-8k.wav');
        await runFfmpeg(['-re', '-t', '2', '-i', wav, '-ac', '1', '-af', 'asetnsamples=n=160', '-ar', '8000', '-c:a', 'pcm_mulaw', '-f', 'rtp', `rtp://127.0.0.1:${relay.inPair.port}?pkt_size=172`]);
      } finally {
        clearInterval(ticker);
        clearInterval(watch);
      }
      expect(talked).toBe(true);
      // The listener heard speech: energy well above the nothing it would hear otherwise.
      const x = heard(listener.received, Math.max(0, listener.received.length - 80));
      expect(rms(x)).toBeGreaterThan(300);
      await sup.conferences.delete(conf);
      // Out of the conference, the call has an agent again.
      expect(sup.getCall(call.id)!.actors.some((a) => a.startsWith('agent.'))).toBe(true);
      expect(sup.getCall(call.id)!['conference']).toBeUndefined();
    } finally {
      relay.close();
      listener.close();
    }
  }, 20_000);
});
