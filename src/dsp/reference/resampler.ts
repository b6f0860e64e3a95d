/**
 * Plain TypeScript sample-rate conversion: the reference the WebAssembly
 * kernel (assembly/resampler.ts) is tested against and benchmarked beside.
 * Same filter design and the same algorithm, one tap at a time in float64.
 *
 * A rational L/M resampler: the input, raised to L·fromHz by inserting L−1
 * zeros per sample, goes through a linear-phase low-pass prototype h of N
 * taps, and every M-th sample is kept. Output j touches only the taps that
 * meet real samples: with t = j·M, phase p = t mod L and newest input
 * b = ⌊t/L⌋, y[j] = Σ_k h[p + L·k] · x[b − k] (the polyphase decomposition,
 * Crochiere and Rabiner, "Multirate Digital Signal Processing", 1983, §3.3.4).
 *
 * h is a Kaiser-windowed sinc (J. F. Kaiser, Proc. IEEE ISCAS 1974) cut off
 * halfway between the passband edge, 0.4 × the lower rate, and the stopband
 * edge, 0.5 × the lower rate, long enough for RESAMPLER_ATTENUATION_DB by
 * Kaiser's formula and rounded up to N = 2·M·D + 1 so that its group delay
 * is D whole output samples. Coefficients are rounded to float32, as the
 * kernel stores them.
 */

/** Stopband attenuation the prototype is designed for, dB (70 promised, the rest is margin). */
export const RESAMPLER_ATTENUATION_DB = 80;
/** Passband edge, as a fraction of the lower of the two rates. */
export const RESAMPLER_PASSBAND = 0.4;
/** Stopband edge (no image or alias above it), as a fraction of the lower rate. */
export const RESAMPLER_STOPBAND = 0.5;

export interface ResamplerDesign {
  /** Interpolation factor. */
  readonly l: number;
  /** Decimation factor. */
  readonly m: number;
  /** The prototype at L·fromHz, N taps, float32 values. */
  readonly prototype: Float32Array;
  /** Group delay in output samples: (N − 1) / (2M). */
  readonly delaySamples: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0, by its power series. */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/** The filter design of a rate pair (the identity is a single unit tap). */
export function designResampler(fromHz: number, toHz: number): ResamplerDesign {
  const g = gcd(fromHz, toHz);
  const l = toHz / g;
  const m = fromHz / g;
  if (l === 1 && m === 1) return { l, m, prototype: Float32Array.of(1), delaySamples: 0 };

  const lowHz = Math.min(fromHz, toHz);
  const protoHz = l * fromHz;
  const transition = (2 * Math.PI * (RESAMPLER_STOPBAND - RESAMPLER_PASSBAND) * lowHz) / protoHz;
  const minOrder = (RESAMPLER_ATTENUATION_DB - 7.95) / (2.285 * transition);
  const delaySamples = Math.ceil(minOrder / (2 * m));
  const n = 2 * m * delaySamples + 1;

  const cutoff = (((RESAMPLER_PASSBAND + RESAMPLER_STOPBAND) / 2) * lowHz) / protoHz;
  const beta = 0.1102 * (RESAMPLER_ATTENUATION_DB - 8.7);
  const i0Beta = besselI0(beta);
  const centre = (n - 1) / 2;
  const prototype = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i - centre;
    const x = 2 * cutoff * t;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const r = t / centre;
    const window = besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
    // Gain L: inserting L−1 zeros per sample leaves the baseband at 1/L.
    prototype[i] = l * 2 * cutoff * sinc * window;
  }
  return { l, m, prototype, delaySamples };
}

/** One stream: process() and reset() behave as the WebAssembly-backed Resampler's. */
export class ReferenceResampler {
  readonly fromHz: number;
  readonly toHz: number;
  readonly delaySamples: number;
  readonly design: ResamplerDesign;

  /** Input history, newest last; its first taps-per-phase − 1 entries are the inputs before this call. */
  #history: Float64Array;
  #phase = 0;
  /** Inputs still to come before the next output's newest input. */
  #skip = 0;
  readonly #kept: number;

  constructor(fromHz: number, toHz: number) {
    this.fromHz = fromHz;
    this.toHz = toHz;
    this.design = designResampler(fromHz, toHz);
    this.delaySamples = this.design.delaySamples;
    this.#kept = Math.ceil(this.design.prototype.length / this.design.l) - 1;
    this.#history = new Float64Array(this.#kept);
  }

  /** Resamples `input` into `output`; returns the samples written (the rest are dropped, timing kept). Allocates. */
  process(input: Int16Array, output: Int16Array): number {
    const { l, m, prototype: h } = this.design;
    const n = h.length;
    const kept = this.#kept;
    const x = new Float64Array(kept + input.length);
    x.set(this.#history);
    for (let i = 0; i < input.length; i++) x[kept + i] = input[i]!;

    let phase = this.#phase;
    let newest = kept + this.#skip;
    let written = 0;
    while (newest < x.length) {
      if (written < output.length) {
        let y = 0;
        for (let k = 0, tap = phase; tap < n; k++, tap += l) y += h[tap]! * x[newest - k]!;
        output[written++] = Math.min(Math.max(roundHalfEven(y), -32768), 32767);
      }
      phase += m;
      while (phase >= l) {
        phase -= l;
        newest++;
      }
    }
    this.#phase = phase;
    this.#skip = newest - x.length;
    this.#history = x.slice(x.length - kept);
    return written;
  }

  reset(): void {
    this.#history.fill(0);
    this.#phase = 0;
    this.#skip = 0;
  }
}

/** Round to nearest, ties to even (as WebAssembly's f32.nearest). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
