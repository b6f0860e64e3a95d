import { describe, expect, it } from 'vitest';
import { FrameKind } from '../../../src/actors/jitter/JitterBuffer.ts';
import { createJitterBuffer } from '../../../src/actors/jitter/JitterActor.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const RATE = 16000;
const SPF = 320;

/** A voiced L16 frame (RFC 3551 big-endian): 200 Hz and two harmonics, four whole periods, so frames join seamlessly and WSOLA finds the period. */
function voicedPayload(): Uint8Array {
  const b = new Uint8Array(2 * SPF);
  for (let i = 0; i < SPF; i++) {
    const t = i / RATE;
    const v = Math.round(6000 * Math.sin(2 * Math.PI * 200 * t) + 3000 * Math.sin(2 * Math.PI * 400 * t) + 1500 * Math.sin(2 * Math.PI * 600 * t));
    b[2 * i] = (v >> 8) & 0xff;
    b[2 * i + 1] = v & 0xff;
  }
  return b;
}
const PAYLOAD = voicedPayload();

/**
 * Simulated time: a sender whose clock runs `ppm` fast sends 20 ms of its
 * audio every 20 ms of its time, each packet 3 ms plus 0–`jitterMs` (seeded) on its way; the buffer
 * is pulled every 20 ms of ours. Returns the delay as heard over time and
 * the stretching it took.
 */
function drive(ppm: number, seconds: number, jitterMs: number, syncDelayAt?: { s: number; ms: number }) {
  const jb = createJitterBuffer({ codec: 'L16', rateHz: RATE, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 });
  const rnd = mulberry32(5);
  const out = new Int16Array(SPF);
  const delays: number[] = [];
  let concealed = 0;
  let netAtMinute = 0;
  let k = 0;
  let nextArrival = 3;
  for (let t = 10; t < seconds * 1000; t += 20) {
    if (syncDelayAt !== undefined && t >= syncDelayAt.s * 1000 && jb.syncDelayMs === 0) jb.syncDelayMs = syncDelayAt.ms;
    while (nextArrival <= t) {
      jb.insert(k & 0xffff, (k * SPF) >>> 0, nextArrival, PAYLOAD, 2 * SPF, false, 7);
      k++;
      nextArrival = (k * 20) / (1 + ppm / 1e6) + 3 + rnd() * jitterMs;
    }
    if (jb.pull(out, t) === FrameKind.CONCEALED) concealed++;
    delays.push(jb.lastPlayedDelayMs);
    if (t === 60_010) netAtMinute = net(jb);
  }
  // Net stretch after the first minute: the start's settling from startDelayMs to the target is left out.
  return { jb, delays, concealed, net: net(jb) - netAtMinute };
}

/** Samples taken out (accelerate) less samples put in (preemptive expand). */
const net = (jb: ReturnType<typeof createJitterBuffer>): number => jb.stats.removedSamplesForAcceleration - jb.stats.insertedSamplesForDeceleration;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('jitter buffer under sender clock drift (simulated time)', () => {
  it.each([100, -100])('holds its delay over 10 minutes of a %d ppm sender: time-stretching takes up the drift', (ppm) => {
    const minutes = 10;
    const { delays, concealed, net } = drive(ppm, minutes * 60, 1);
    const perMinute = 3000;
    const first = mean(delays.slice(perMinute, 2 * perMinute));
    const last = mean(delays.slice(-perMinute));
    // Uncorrected, the buffer would drift by 6 ms a minute: 54 ms between the second minute and the tenth.
    expect(Math.abs(last - first)).toBeLessThan(10);
    // Accelerated minus expanded samples match the sender's extra (or missing) audio: 100 ppm of 9 min at 16 kHz = 864.
    const drift = (ppm / 1e6) * (minutes - 1) * 60 * RATE;
    expect(net).toBeGreaterThan(drift - 300);
    expect(net).toBeLessThan(drift + 300);
    expect(concealed).toBe(0);
  });

  it('reaches a sync delay by stretching, without a gap', () => {
    const { jb, delays, concealed } = drive(0, 20, 1, { s: 5, ms: 60 });
    const before = mean(delays.slice(150, 250)); // 3–5 s
    const after = mean(delays.slice(-100)); // the last 2 s
    expect(jb.syncDelayMs).toBe(60);
    expect(after - before).toBeGreaterThan(45);
    expect(after - before).toBeLessThan(75);
    expect(concealed).toBe(0);
    jb.syncDelayMs = 1e9;
    expect(jb.syncDelayMs).toBe(200); // clamped to maxDelayMs
    jb.syncDelayMs = Number.NaN;
    expect(jb.syncDelayMs).toBe(0);
  });
});
