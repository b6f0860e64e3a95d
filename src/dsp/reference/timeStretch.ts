/**
 * Plain TypeScript time stretcher for the jitter buffer: the specification the
 * WebAssembly kernel (assembly/timeStretch.ts) must match to the sample.
 *
 * WSOLA (Verhelst & Roelands, ICASSP 1993) reduced to what a jitter buffer
 * needs, as in NetEq's Accelerate and PreemptiveExpand: one pitch period is
 * removed from (or inserted into) a block of input, chosen so the two
 * overlapping segments are as similar as possible, and joined with a
 * cross-fade, so the pitch and the timbre are unchanged and only the duration
 * moves, by one period (2.5–15 ms).
 *
 * - The period P is the lag of greatest normalised correlation between the
 *   start of the block and the signal P later (coarse at 4 kHz, refined at
 *   full rate), at most half the block, so a 30 ms block allows 15 ms.
 * - The operation is done only when the two periods A = x[0, P) and
 *   B = x[P, 2P) correlate at least `TS_CORRELATION_THRESHOLD` (periodic
 *   speech, where the repetition is inaudible), or when the block is quiet
 *   (below `TS_QUIET_DBFS`, where nothing can be heard to repeat); otherwise
 *   the block is returned unchanged, and the caller tries again on the next.
 * - accelerate: A fades into B, then x[2P…] follows: P samples fewer.
 * - expand: x[0, P), then B fades into A, then x[P…] follows: P samples more.
 *
 * Every join is continuous: the cross-fade starts on the sample the signal
 * would have had there and ends on the one that follows it.
 */
import { plcFindPitch, plcRateFactor, roundToInt16 } from './plc.ts';

export const TS_PITCH_MIN_8K = 20; // 2.5 ms, 400 Hz
export const TS_PITCH_MAX_8K = 120; // 15 ms, 66.7 Hz
/** Largest block handled in one call: 60 ms; samples beyond it are ignored (neither stretched nor copied). */
export const TS_MAX_INPUT_8K = 480;
export const TS_SEARCH_RATE_HZ = 4000;
/** NetEq accepts the splice at a normalised correlation of 0.9 (14746 in Q14). */
export const TS_CORRELATION_THRESHOLD = 0.9;
/** −50 dBFS as a mean square: quieter blocks are stretched whatever their correlation. */
export const TS_QUIET_MEAN_SQUARE = 32767 * 32767 * 1e-5;

export interface TimeStretchLimits {
  readonly pmin: number;
  readonly pmax: number;
  readonly dec: number;
  readonly maxInput: number;
}

export function timeStretchLimits(rateHz: number): TimeStretchLimits {
  const r = plcRateFactor(rateHz);
  return { pmin: TS_PITCH_MIN_8K * r, pmax: TS_PITCH_MAX_8K * r, dec: rateHz / TS_SEARCH_RATE_HZ, maxInput: TS_MAX_INPUT_8K * r };
}

/**
 * The period to remove or insert in x[0, n), or 0 to decline. `n` must
 * already be clamped to the block limit.
 */
export function timeStretchPeriod(x: ArrayLike<number>, n: number, lim: TimeStretchLimits): number {
  const maxLag = Math.min(lim.pmax, n >> 1);
  if (maxLag < lim.pmin) return 0;
  const p = plcFindPitch(x, 0, n - maxLag, lim.pmin, maxLag, lim.dec, 1).lag;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < p; i++) {
    const a = x[i]!;
    const b = x[p + i]!;
    ab += a * b;
    aa += a * a;
    bb += b * b;
  }
  if ((aa + bb) / (2 * p) < TS_QUIET_MEAN_SQUARE) return p;
  if (ab <= 0 || ab / Math.sqrt(aa * bb) < TS_CORRELATION_THRESHOLD) return 0;
  return p;
}

export class ReferenceTimeStretcher {
  readonly rateHz: number;
  readonly limits: TimeStretchLimits;
  /** The period removed or inserted by the last call; 0 when it declined. */
  lastPeriod = 0;

  constructor(rateHz: number) {
    this.rateHz = rateHz;
    this.limits = timeStretchLimits(rateHz);
  }

  /** Output samples `out` must hold for an input of n samples. */
  maxOutput(n: number): number {
    return Math.min(n, this.limits.maxInput) + this.limits.pmax;
  }

  accelerate(input: Int16Array, inputLength: number, out: Int16Array): number {
    return this.#stretch(input, inputLength, out, -1);
  }

  expand(input: Int16Array, inputLength: number, out: Int16Array): number {
    return this.#stretch(input, inputLength, out, 1);
  }

  #stretch(x: Int16Array, inputLength: number, out: Int16Array, dir: -1 | 1): number {
    const n = Math.max(0, Math.min(inputLength, x.length, this.limits.maxInput));
    let p = timeStretchPeriod(x, n, this.limits);
    if (n + dir * p > out.length) p = 0;
    this.lastPeriod = p;
    if (p === 0) {
      const m = Math.min(n, out.length);
      for (let i = 0; i < m; i++) out[i] = x[i]!;
      return m;
    }
    if (dir < 0) {
      for (let i = 0; i < p; i++) {
        const w = (i + 1) / (p + 1);
        out[i] = roundToInt16(x[i]! * (1 - w) + x[p + i]! * w);
      }
      for (let i = 2 * p; i < n; i++) out[i - p] = x[i]!;
      return n - p;
    }
    for (let i = 0; i < p; i++) out[i] = x[i]!;
    for (let i = 0; i < p; i++) {
      const w = (i + 1) / (p + 1);
      out[p + i] = roundToInt16(x[p + i]! * (1 - w) + x[i]! * w);
    }
    for (let i = p; i < n; i++) out[p + i] = x[i]!;
    return n + p;
  }
}
