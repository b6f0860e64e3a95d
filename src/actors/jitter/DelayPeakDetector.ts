/**
 * Tells isolated delay peaks from recurring ones, after NetEq's
 * DelayPeakDetector: a peak is a packet whose relative delay is far above
 * what ordinary packets take; the playout target should cover peaks only
 * while they recur. One stall on the path (its packets arriving bunched
 * seconds late) says little about the next minute, and holding a target
 * for it costs every later packet its whole height in latency.
 *
 * Peak mode, as NetEq has it: at least two peaks with each period (start to
 * start) within MAX_PEAK_PERIOD_MS, and the last peak no longer ago than
 * twice the longest of the recent periods. The packets behind one stall
 * arrive within a few ms of each other and are one peak (PEAK_MERGE_MS).
 *
 * Besides peak mode, a peak is covered for PEAK_HOLD_MS after its last
 * packet: the burst it brings is played at its own delay and steered down
 * (a low target there would have the playout skip it as a backlog).
 * On the bench's spike model (bench/lib/network.ts, seed 1) the first spike
 * no longer holds the target until the second: mean delay 128 → 99 ms, late
 * loss still 0.0%; Pareto jitter, whose tail packets recur as peaks every
 * few seconds, stays covered as before (1.10× the oracle).
 *
 * Time is the arrival clock of the packets seen (`update`); nothing here
 * allocates after construction.
 */

/** A peak's delay is above the ordinary delay by at least this, and at least twice it (NetEq: 2 packets, or twice the target). */
export const PEAK_MARGIN_MS = 60;
/** Peak packets this close to the previous one belong to the same peak (a stall's backlog drains within tens of ms). */
export const PEAK_MERGE_MS = 500;
/**
 * Peaks further apart than this are not recurring: the history restarts.
 * Above the 8–12.5 s between the bench's spikes (bench/lib/network.ts), which
 * are the recurring case to cover; NetEq uses 10 s.
 */
export const MAX_PEAK_PERIOD_MS = 15_000;
/** Periods remembered (NetEq keeps 8). */
const MAX_PERIODS = 8;
/** How long a peak is covered whether or not it recurs: enough for its burst to be decided. */
export const PEAK_HOLD_MS = 1000;

export class DelayPeakDetector {
  readonly #periods = new Float64Array(MAX_PERIODS);
  #count = 0;
  #next = 0;
  #peakStartMs = -Infinity;
  #lastPeakMs = -Infinity;
  #nowMs = -Infinity;

  /**
   * One packet arrived at `arrivalMs` with relative delay `relMs`, while
   * ordinary packets take up to `ordinaryMs`. Returns true when it is (part
   * of) a peak.
   */
  update(arrivalMs: number, relMs: number, ordinaryMs: number): boolean {
    this.#nowMs = arrivalMs;
    const threshold = ordinaryMs + PEAK_MARGIN_MS > 2 * ordinaryMs ? ordinaryMs + PEAK_MARGIN_MS : 2 * ordinaryMs;
    if (!(relMs > threshold)) return false;
    if (arrivalMs - this.#lastPeakMs > PEAK_MERGE_MS) {
      const period = arrivalMs - this.#peakStartMs;
      if (period <= MAX_PEAK_PERIOD_MS) {
        this.#periods[this.#next] = period;
        this.#next = (this.#next + 1) % MAX_PERIODS;
        if (this.#count < MAX_PERIODS) this.#count++;
      } else {
        this.#count = 0;
        this.#next = 0;
      }
      this.#peakStartMs = arrivalMs;
    }
    this.#lastPeakMs = arrivalMs;
    return true;
  }

  /** Peaks recur: at least two, close enough together, and the last one recent. */
  get peakMode(): boolean {
    if (this.#count === 0) return false;
    let longest = 0;
    for (let i = 0; i < this.#count; i++) if (this.#periods[i]! > longest) longest = this.#periods[i]!;
    return this.#nowMs - this.#lastPeakMs <= 2 * longest;
  }

  /** The target should cover peaks: they recur, or one is just being played out. */
  get covering(): boolean {
    return this.#nowMs - this.#lastPeakMs <= PEAK_HOLD_MS || this.peakMode;
  }

  /** Peaks seen in the current history (0 when none or the last was isolated long ago). */
  get peaks(): number {
    return this.#peakStartMs === -Infinity ? 0 : this.#count + 1;
  }

  reset(): void {
    this.#count = 0;
    this.#next = 0;
    this.#peakStartMs = -Infinity;
    this.#lastPeakMs = -Infinity;
    this.#nowMs = -Infinity;
  }
}
