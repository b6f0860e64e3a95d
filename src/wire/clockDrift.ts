/**
 * The drift of a sender's media clock against ours, from its RTP packets:
 * each packet pairs an RTP timestamp (the sender's clock, at its nominal
 * rate) with our arrival time. Their difference, the transit, is the clocks'
 * offset plus network and scheduling delay; the delay only ever adds, so the
 * least transit of each block of BLOCK_MS (the lower envelope, as NTP's
 * clock filter and NetEq's minimum-transit window take it) follows the
 * clocks alone. The drift is the slope of those minima against our time,
 * fitted by Theil–Sen (the median of the pairwise slopes: Sen, JASA 63,
 * 1968), which a minority of delayed blocks cannot move, with Sen's
 * distribution-free 95% confidence interval on it as the uncertainty.
 *
 * Positive ppm: the sender's clock runs fast (it sends more audio per
 * second of ours). Per packet `add` is O(1) and allocation-free; the fit
 * runs when a block closes (once a second) on preallocated arrays (a
 * subarray view is its one allocation).
 */

/** One block of the lower envelope: long enough to hold some undelayed packets, short enough to track. */
export const BLOCK_MS = 1000;
/** Blocks kept: the fit spans the last minute. */
export const BLOCKS = 60;
/** Blocks before a slope is reported (two points are a line, not a fit). */
export const MIN_BLOCKS = 4;
/** A transit step beyond this is the sender resetting its clock, not drift: the fit starts over. */
export const RESET_STEP_MS = 1000;
/** z for a two-sided 95% interval. */
const Z95 = 1.96;

export class ClockDriftEstimator {
  readonly clockRateHz: number;
  /** Local time (ms) and least transit (ms) of each closed block, a ring. */
  readonly #at = new Float64Array(BLOCKS);
  readonly #min = new Float64Array(BLOCKS);
  readonly #slopes = new Float64Array((BLOCKS * (BLOCKS - 1)) / 2);
  #blocks = 0;
  #blockStartMs = Number.NaN;
  #blockMin = Infinity;
  #blockMinAt = 0;
  #lastTs = 0;
  #extTs = 0;
  #lastTransit = Number.NaN;
  /** The fit: ppm, its 95% half-width, NaN before MIN_BLOCKS. */
  driftPpm = Number.NaN;
  driftCiPpm = Number.NaN;
  /** Times the sender's timestamps jumped and the fit started over. */
  resets = 0;

  constructor(clockRateHz: number) {
    this.clockRateHz = clockRateHz;
  }

  /** Blocks in the fit. */
  get blocks(): number {
    return Math.min(this.#blocks, BLOCKS);
  }

  /** One packet: its RTP timestamp and our arrival time, ms. */
  add(arrivalMs: number, rtpTimestamp: number): void {
    if (!Number.isFinite(arrivalMs)) return;
    const ts = rtpTimestamp >>> 0;
    if (Number.isNaN(this.#blockStartMs)) {
      this.#lastTs = ts;
      this.#extTs = ts;
      this.#blockStartMs = arrivalMs;
    }
    // Unwrapped as the nearest value: a signed 32-bit step from the last (RFC 3550 A.1's reading of timestamps).
    this.#extTs += (ts - this.#lastTs) | 0;
    this.#lastTs = ts;
    const transit = arrivalMs - (this.#extTs / this.clockRateHz) * 1000;
    if (!Number.isNaN(this.#lastTransit) && Math.abs(transit - this.#lastTransit) > RESET_STEP_MS) {
      this.#restart(arrivalMs);
      this.resets++;
    }
    this.#lastTransit = transit;
    if (arrivalMs - this.#blockStartMs >= BLOCK_MS) this.#closeBlock(arrivalMs);
    if (transit < this.#blockMin) {
      this.#blockMin = transit;
      this.#blockMinAt = arrivalMs;
    }
  }

  /** Forgets everything (a new source). */
  reset(): void {
    this.#blockStartMs = Number.NaN;
    this.#lastTransit = Number.NaN;
    this.#restart(0);
  }

  #restart(nowMs: number): void {
    this.#blocks = 0;
    this.#blockMin = Infinity;
    this.#blockStartMs = nowMs;
    this.driftPpm = Number.NaN;
    this.driftCiPpm = Number.NaN;
  }

  #closeBlock(nowMs: number): void {
    if (this.#blockMin !== Infinity) {
      const i = this.#blocks % BLOCKS;
      this.#at[i] = this.#blockMinAt;
      this.#min[i] = this.#blockMin;
      this.#blocks++;
      if (this.#blocks >= MIN_BLOCKS) this.#fit();
    }
    this.#blockMin = Infinity;
    this.#blockStartMs = nowMs;
  }

  /** Theil–Sen slope of the block minima, with Sen's interval (ranks of the sorted pairwise slopes). */
  #fit(): void {
    const n = this.blocks;
    const slopes = this.#slopes;
    let m = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dt = this.#at[j]! - this.#at[i]!;
        if (dt !== 0) slopes[m++] = (this.#min[j]! - this.#min[i]!) / dt;
      }
    }
    if (m === 0) return;
    // Sorted in place, the unused tail pushed past the end: a subarray view would allocate on the packet path.
    slopes.fill(Infinity, m);
    const sorted = slopes.sort();
    const median = m % 2 === 1 ? sorted[(m - 1) >> 1]! : (sorted[m / 2 - 1]! + sorted[m / 2]!) / 2;
    // Sen (1968): the interval runs between ranks (m ∓ C)/2 with C = z·√(n(n−1)(2n+5)/18), the variance of Kendall's S.
    const c = Z95 * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
    const lo = sorted[Math.max(0, Math.floor((m - c) / 2))]!;
    const hi = sorted[Math.min(m - 1, Math.ceil((m + c) / 2))]!;
    // Transit = ours − theirs: it falls as their clock gains.
    this.driftPpm = -median * 1e6;
    this.driftCiPpm = ((hi - lo) / 2) * 1e6;
  }
}
