/**
 * Plain TypeScript conference mixer: the specification assembly/mixer.ts is
 * tested against (bit for bit) and benchmarked beside. It performs the same
 * f32 operations in the same order: each product and sum rounded to f32
 * (`Math.fround`, or a store into a Float32Array), rounding half to even at
 * the end as `f32x4.nearest` does.
 *
 * Soft limiter (see assembly/mixer.ts for why it is shaped so):
 *
 *   |y| = |x|                                  for |x| <= T
 *   |y| = T + K − K² / (|x| − T + K)           for |x| >  T,   T = 16384 (−6 dBFS), K = 32768 − T
 */

export const MIXER_MAX_INPUTS = 256;
export const MIXER_MAX_SAMPLES = 5760;
export const MIXER_MAX_GAIN = 16;
export const MIXER_KNEE = 16384;
const HEADROOM = 32768 - MIXER_KNEE;
const HEADROOM_SQUARED = HEADROOM * HEADROOM;

/** Round half to even, as WebAssembly's `nearest`. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** The limiter on one f32 value, rounded and saturated to int16. */
export function limitSample(x: number): number {
  const a = Math.abs(x);
  const over = Math.max(Math.fround(a - MIXER_KNEE), 0);
  const bent = Math.fround(HEADROOM - Math.fround(HEADROOM_SQUARED / Math.fround(over + HEADROOM)));
  const y = Math.fround(Math.min(a, MIXER_KNEE) + bent);
  const r = roundHalfEven(x < 0 ? -y : y);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** The gain the kernel stores for a requested one: NaN and negative mute, above 16 clamps. */
export function sanitizeGain(gain: number): number {
  return gain >= 0 ? Math.fround(Math.min(gain, MIXER_MAX_GAIN)) : 0;
}

export class MixerReference {
  readonly inputs: Int16Array[];
  readonly outputs: Int16Array[];
  readonly mix: Int16Array;
  readonly gains: Float32Array;
  readonly #sum: Float32Array;

  constructor(
    readonly maxInputs: number,
    readonly samplesPerFrame: number,
  ) {
    this.inputs = Array.from({ length: maxInputs }, () => new Int16Array(samplesPerFrame));
    this.outputs = Array.from({ length: maxInputs }, () => new Int16Array(samplesPerFrame));
    this.mix = new Int16Array(samplesPerFrame);
    this.gains = new Float32Array(maxInputs).fill(1);
    this.#sum = new Float32Array(samplesPerFrame);
  }

  setGain(i: number, gain: number): void {
    this.gains[i] = sanitizeGain(gain);
  }

  /** Sum of the first `count` inputs into the full mix; every output i = limit(sum − gain_i·input_i). */
  mixMinusOne(count: number): number {
    const n = this.mix.length;
    const c = this.#sumInputs(count);
    const sum = this.#sum;
    for (let i = 0; i < c; i++) {
      const x = this.inputs[i]!;
      const out = this.outputs[i]!;
      const g = this.gains[i]!;
      for (let k = 0; k < n; k++) out[k] = limitSample(Math.fround(sum[k]! - Math.fround(g * x[k]!)));
    }
    return c;
  }

  mixOnly(count: number): number {
    return this.#sumInputs(count);
  }

  #sumInputs(count: number): number {
    const c = Math.min(Math.max(count | 0, 0), this.maxInputs);
    const n = this.mix.length;
    const sum = this.#sum;
    sum.fill(0);
    for (let i = 0; i < c; i++) {
      const x = this.inputs[i]!;
      const g = this.gains[i]!;
      // Float32Array stores round to f32: the same per-step rounding as f32x4.add.
      for (let k = 0; k < n; k++) sum[k] = sum[k]! + Math.fround(g * x[k]!);
    }
    for (let k = 0; k < n; k++) this.mix[k] = limitSample(sum[k]!);
    return c;
  }
}
