/**
 * Silences in a returned stream, by arrival: the longest, and those worth
 * reporting with their time — what a worker restart or a stalled tick cost
 * the call. Per packet it compares and stores numbers; nothing is allocated.
 */

/** A silence this much longer than a frame is reported with its time (a tick's jitter is far below). */
export const GAP_REPORT_MS = 40;
const MAX_GAPS_KEPT = 32;

export class GapTracker {
  #lastArrivalMs = Number.NaN;
  longestMs = 0;
  longestEndedAtMs: number | null = null;
  /** [ended at, ms] pairs, the first MAX_GAPS_KEPT. */
  readonly #gaps = new Float64Array(2 * MAX_GAPS_KEPT);
  #count = 0;

  readonly #frameMs: number;
  constructor(frameMs: number) {
    this.#frameMs = frameMs;
  }

  /** A packet arrived at `atMs` (epoch ms). */
  arrived(atMs: number): void {
    const gap = atMs - this.#lastArrivalMs - this.#frameMs;
    this.#lastArrivalMs = atMs;
    if (!(gap > 0)) return;
    if (gap > this.longestMs) {
      this.longestMs = gap;
      this.longestEndedAtMs = atMs;
    }
    if (gap > GAP_REPORT_MS && this.#count < MAX_GAPS_KEPT) {
      this.#gaps[2 * this.#count] = atMs;
      this.#gaps[2 * this.#count + 1] = gap;
      this.#count++;
    }
  }

  /** The reported silences as [ended at (epoch ms), ms]. */
  gaps(): Array<[number, number]> {
    return Array.from({ length: this.#count }, (_, i) => [this.#gaps[2 * i]!, this.#gaps[2 * i + 1]!] as [number, number]);
  }
}
