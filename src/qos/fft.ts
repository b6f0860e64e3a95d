/**
 * A radix-2 decimation-in-time FFT in plain TypeScript, for the evaluation
 * harness (feature extraction off the real-time path, so clarity over speed).
 * One instance per size holds its twiddle and bit-reversal tables so repeated
 * transforms of the same size allocate nothing.
 */
export class Fft {
  readonly size: number;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #bitrev: Uint32Array;
  readonly #re: Float64Array;
  readonly #im: Float64Array;

  /** Throws RangeError unless `size` is a power of two ≥ 2. */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size must be a power of two ≥ 2 [size:${size}]`);
    }
    this.size = size;
    const half = size >> 1;
    this.#cos = new Float64Array(half);
    this.#sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.#sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    const bits = Math.log2(size);
    this.#bitrev = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#bitrev[i] = r;
    }
    this.#re = new Float64Array(size);
    this.#im = new Float64Array(size);
  }

  /**
   * Power spectrum |X[k]|² of a real frame for k = 0 … size/2 (the rfft bins)
   * into `power` (length ≥ size/2 + 1).
   */
  powerSpectrum(frame: ArrayLike<number>, power: Float64Array): void {
    const n = this.size;
    const re = this.#re;
    const im = this.#im;
    for (let i = 0; i < n; i++) {
      re[this.#bitrev[i]!] = frame[i]!;
      im[i] = 0;
    }
    for (let len = 2; len <= n; len <<= 1) {
      const halfLen = len >> 1;
      const step = n / len;
      for (let start = 0; start < n; start += len) {
        for (let k = 0; k < halfLen; k++) {
          const wr = this.#cos[k * step]!;
          const wi = this.#sin[k * step]!;
          const a = start + k;
          const b = a + halfLen;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    for (let k = 0; k <= n >> 1; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
}
