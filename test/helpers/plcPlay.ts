/** Helpers shared by the concealer's tests: test signals and frame-by-frame players. */
import { mulberry32 } from './prng.ts';

/** What every concealer under test offers (the WASM one, the references). */
export interface PlcLike {
  readonly samplesPerFrame: number;
  readonly delaySamples: number;
  good(frame: Int16Array, out: Int16Array): void;
  conceal(out: Int16Array): void;
  concealBefore?(next: Int16Array, out: Int16Array, framesUntilNext?: number): void;
}

/**
 * A synthetic vowel: harmonics of f0 under a two-formant envelope (700 and
 * 1200 Hz, an /a/), with seeded phases, peaking near ±12000.
 */
export function vowel(rateHz: number, f0: number, n: number, seed = 1): Int16Array {
  const rng = mulberry32(seed);
  const parts: Array<[number, number, number]> = [];
  for (let k = 1; k * f0 < Math.min(3400, rateHz / 2 - 200); k++) {
    const f = k * f0;
    const env = 1 / (1 + ((f - 700) / 150) ** 2) + 0.6 / (1 + ((f - 1200) / 200) ** 2) + 0.05;
    parts.push([(2 * Math.PI * f) / rateHz, env, 2 * Math.PI * rng()]);
  }
  const x = new Float64Array(n);
  let peak = 0;
  for (let i = 0; i < n; i++) {
    for (const [w, a, ph] of parts) x[i]! += a * Math.sin(w * i + ph);
    peak = Math.max(peak, Math.abs(x[i]!));
  }
  return Int16Array.from(x, (v) => Math.round((v / peak) * 12000));
}

/** Plays `x` through a concealer frame by frame; lost[f] true conceals frame f (with the next frame when `withNext`). */
export function play(c: PlcLike, x: Int16Array, lost: (f: number) => boolean, withNext = false): Int16Array {
  const n = c.samplesPerFrame;
  const frames = Math.floor(x.length / n);
  const y = new Int16Array(frames * n);
  const out = new Int16Array(n);
  for (let f = 0; f < frames; f++) {
    if (!lost(f)) c.good(x.subarray(f * n, f * n + n), out);
    else if (withNext && c.concealBefore !== undefined && f + 1 < frames && !lost(f + 1)) {
      c.concealBefore(x.subarray(f * n + n, f * n + 2 * n), out);
    } else c.conceal(out);
    y.set(out, f * n);
  }
  return y;
}

/**
 * Plays `x` with whole bursts announced: every lost frame whose burst ends
 * before the input does is concealed with concealBefore(next, out, k), k the
 * frames left in the burst, `next` the frame after it.
 */
export function playBursts(c: PlcLike, x: Int16Array, lost: (f: number) => boolean): Int16Array {
  const n = c.samplesPerFrame;
  const frames = Math.floor(x.length / n);
  const y = new Int16Array(frames * n);
  const out = new Int16Array(n);
  for (let f = 0; f < frames; f++) {
    let k = 0;
    while (f + k < frames && lost(f + k)) k++;
    if (k === 0) c.good(x.subarray(f * n, f * n + n), out);
    else if (f + k < frames) c.concealBefore!(x.subarray((f + k) * n, (f + k + 1) * n), out, k);
    else c.conceal(out);
    y.set(out, f * n);
  }
  return y;
}

/** Largest step between neighbouring samples in y[from..to). */
export function maxStep(y: Int16Array, from = 1, to = y.length): number {
  let m = 0;
  for (let i = Math.max(1, from); i < to; i++) m = Math.max(m, Math.abs(y[i]! - y[i - 1]!));
  return m;
}

export function maxAbsDiff(a: Int16Array, b: Int16Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
