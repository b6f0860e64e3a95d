import { describe, expect, it } from 'vitest';
import { createJitterBuffer } from '../../../src/actors/jitter/JitterActor.ts';
import { FrameKind, InsertResult, type JitterBuffer } from '../../../src/actors/jitter/JitterBuffer.ts';
import { speech } from '../../helpers/fixtures.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { type Arrival, l16Buffer, l16Packet, playedValues, RATE_HZ, run, SPF, valueOf } from '../../helpers/jitter.ts';

/** Late versus lost: when a missing packet is given up, waited for, or played after all. */

/** The buffer as the actor builds it: the WebAssembly concealer and time stretcher. */
function pcmBuffer(): JitterBuffer {
  return createJitterBuffer({ codec: 'L16', rateHz: RATE_HZ, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => valueOf(i));

function stream(n: number, transit: (i: number) => number | null, payloadOf = (i: number) => l16Packet(valueOf(i))): Arrival[] {
  const out: Arrival[] = [];
  for (let i = 0; i < n; i++) {
    const t = transit(i);
    if (t !== null) out.push({ seq: i, ts: i * SPF, atMs: 1000 + 20 * i + t, payload: payloadOf(i) });
  }
  return out;
}

/** Packet `i` of a speech fixture (looped), as L16: time stretching needs a signal with pitch. */
const voice = speech('synth-m-16k').samples;
function speechPacket(i: number): Uint8Array {
  const x = voice;
  const b = new Uint8Array(2 * SPF);
  for (let n = 0; n < SPF; n++) {
    const v = x[(i * SPF + n) % x.length]!;
    b[2 * n] = (v >> 8) & 0xff;
    b[2 * n + 1] = v & 0xff;
  }
  return b;
}

/** Runs like `run`, also collecting each played packet's delay above the earliest arrival (ms). */
function runWithDelays(jb: JitterBuffer, arrivals: readonly Arrival[], untilMs: number, baseMs: number) {
  const sorted = [...arrivals].sort((a, b) => a.atMs - b.atMs);
  const out = new Int16Array(SPF);
  const delays: number[] = [];
  let k = 0;
  let last = -1;
  for (let t = 7; t < untilMs; t += 20) {
    while (k < sorted.length && sorted[k]!.atMs <= t) {
      const a = sorted[k++]!;
      jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, false, 1);
    }
    jb.pull(out, t);
    if (jb.lastPlayedSeq !== last && jb.lastPlayedSeq >= 0) {
      last = jb.lastPlayedSeq;
      delays.push(jb.lastPlayoutMs - (1000 + 20 * last) - baseMs);
    }
  }
  return delays;
}

describe('JitterBuffer lateness', () => {
  it('gives a missing packet up at once when there is no jitter: one concealed frame per lost packet', () => {
    const jb = l16Buffer();
    const lost = (i: number) => i >= 100 && i % 10 === 0;
    const { kinds } = run(jb, stream(400, (i) => (lost(i) ? null : 30)), 9600);
    const last = kinds.lastIndexOf(FrameKind.NORMAL);
    const concealed = kinds.slice(0, last).filter((k) => k === FrameKind.CONCEALED).length;
    expect(concealed).toBe(30);
    expect(jb.stats.packetsLost).toBe(30);
  });

  it('on 0–40 ms uniform jitter: no packet late, mean delay within 1.2× of the best fixed delay', () => {
    const rng = mulberry32(11);
    const transit = Array.from({ length: 1500 }, () => 30 + rng() * 40);
    const jb = pcmBuffer();
    const delays = runWithDelays(jb, stream(1500, (i) => transit[i]!, speechPacket), 31000, Math.min(...transit));
    jb.destroy();
    const relative = transit.map((t) => t - Math.min(...transit)).sort((a, b) => a - b);
    const oracle = relative[relative.length - 1 - Math.floor(0.01 * relative.length)]!;
    const settled = delays.slice(200);
    const mean = settled.reduce((a, b) => a + b, 0) / settled.length;
    expect(jb.stats.packetsLate).toBeLessThanOrEqual(15);
    expect(mean / oracle).toBeLessThanOrEqual(1.2);
  });

  it('plays the packets a delay spike held back instead of losing them', () => {
    const jb = l16Buffer();
    // Packets 200–219 are stuck in a 400 ms stall and then arrive 1 ms apart.
    const s = stream(400, (i) => (i >= 200 && i < 220 ? 4430 + (i - 200) - 20 * i : 30));
    const { firsts } = run(jb, s, 10000);
    jb.destroy();
    expect(jb.stats.packetsLate).toBe(0);
    expect(playedValues(firsts)).toEqual(range(400));
  });

  it('a packet that turns up after its frame was concealed is merged without a peak above the tone (real concealer)', () => {
    const jb = pcmBuffer();
    const amp = 8000;
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 200; i++) {
      const payload = new Uint8Array(2 * SPF);
      for (let n = 0; n < SPF; n++) {
        const v = Math.round(amp * Math.sin((2 * Math.PI * 440 * (i * SPF + n)) / RATE_HZ));
        payload[2 * n] = (v >> 8) & 0xff;
        payload[2 * n + 1] = v & 0xff;
      }
      // Packet 120 comes 25 ms behind the others: after its frame was concealed, before the next pull.
      arrivals.push({ seq: i, ts: i * SPF, atMs: 1000 + 20 * i + (i === 120 ? 55 : 30), payload });
    }
    const sorted = [...arrivals].sort((a, b) => a.atMs - b.atMs);
    const out = new Int16Array(SPF);
    let k = 0;
    let peak = 0;
    const kinds: number[] = [];
    for (let t = 7; t < 1000 + 200 * 20; t += 20) {
      while (k < sorted.length && sorted[k]!.atMs <= t) {
        const a = sorted[k++]!;
        jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, a.seq === 0, 1);
      }
      kinds.push(jb.pull(out, t));
      for (let n = 0; n < SPF; n++) peak = Math.max(peak, Math.abs(out[n]!));
    }
    jb.destroy();
    expect(jb.stats.packetsLate).toBe(0);
    expect(kinds.filter((x) => x === FrameKind.CONCEALED).length).toBe(1);
    expect(peak).toBeLessThanOrEqual(amp * 1.05);
  });

  it('on 0–40 ms jitter a lost packet costs one concealed frame: the frame that waited for it is its concealment', () => {
    const rng = mulberry32(5);
    const transit = Array.from({ length: 1500 }, () => 30 + rng() * 40);
    const concealedWith = (lost: (i: number) => boolean) => {
      const jb = pcmBuffer();
      const { kinds } = run(jb, stream(1500, (i) => (lost(i) ? null : transit[i]!), speechPacket), 32000, 7);
      jb.destroy();
      return { concealed: kinds.filter((k) => k === FrameKind.CONCEALED).length, lost: jb.stats.packetsLost, late: jb.stats.packetsLate };
    };
    const clean = concealedWith(() => false);
    const lossy = concealedWith((i) => i >= 200 && i % 25 === 0);
    expect(lossy.lost).toBe(52);
    expect(lossy.late).toBe(0);
    // Waiting for a missing packet and then concealing it again cost two frames per loss.
    expect(lossy.concealed - clean.concealed).toBeLessThanOrEqual(Math.round(1.1 * lossy.lost));
    expect(lossy.concealed - clean.concealed).toBeGreaterThanOrEqual(Math.round(0.8 * lossy.lost));
  });

  it('a packet given up while later ones were already here costs one concealed frame, and when it turns up it is late and dropped', () => {
    const jb = pcmBuffer();
    // Packet 150 comes 300 ms behind: packets after it are buffered when it is due.
    const s = stream(300, (i) => (i === 150 ? 330 : 30), speechPacket);
    const sorted = [...s].sort((a, b) => a.atMs - b.atMs);
    const out = new Int16Array(SPF);
    const kinds: number[] = [];
    let k = 0;
    let lateResult = -1;
    for (let t = 7; t < 1000 + 300 * 20; t += 20) {
      while (k < sorted.length && sorted[k]!.atMs <= t) {
        const a = sorted[k++]!;
        const r = jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, a.seq === 0, 1);
        if (a.seq === 150) lateResult = r;
      }
      kinds.push(jb.pull(out, t));
    }
    jb.destroy();
    const lastDecoded = kinds.lastIndexOf(FrameKind.NORMAL);
    expect(kinds.slice(0, lastDecoded).filter((x) => x === FrameKind.CONCEALED).length).toBe(1);
    expect(lateResult).toBe(InsertResult.LATE);
    expect(jb.stats.packetsLate).toBe(1);
    expect(jb.stats.packetsDiscarded).toBe(1);
  });
});

