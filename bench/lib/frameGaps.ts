import { FrameMeta, type FrameRing } from '../../src/frames/FrameRing.ts';

/** How often the watcher drains the rings: well under a frame, so a gap is measured to a few ms. */
const POLL_MS = 2;

/**
 * Reads actors' output rings on the main thread as a consumer would and
 * keeps, per ring, the longest wall-clock interval between two frames: the
 * gap a listener hears when a worker dies and its actors come back (minus
 * the 20 ms a frame lasts).
 */
export class FrameGapWatch {
  readonly #rings: FrameRing[];
  readonly #last: number[];
  readonly #longest: number[];
  readonly #frames: number[];
  readonly #buf = new Int16Array(960);
  readonly #meta = new FrameMeta();
  readonly #timer: NodeJS.Timeout;

  constructor(rings: readonly FrameRing[]) {
    this.#rings = [...rings];
    const now = performance.now();
    this.#last = this.#rings.map(() => now);
    this.#longest = this.#rings.map(() => 0);
    this.#frames = this.#rings.map(() => 0);
    for (const r of this.#rings) while (r.read(this.#buf, this.#meta));
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
  }

  /** Starts a new measuring window: longest intervals from now on. */
  reset(): void {
    this.#poll();
    const now = performance.now();
    this.#last.fill(now);
    this.#longest.fill(0);
    this.#frames.fill(0);
  }

  /** Longest interval without a frame, ms, per ring (the open interval up to now included). */
  longestMs(): number[] {
    this.#poll();
    const now = performance.now();
    return this.#longest.map((l, i) => Math.max(l, now - this.#last[i]!));
  }

  /** Frames read per ring since the window began. */
  frames(): number[] {
    return [...this.#frames];
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #poll(): void {
    const now = performance.now();
    for (let i = 0; i < this.#rings.length; i++) {
      let got = false;
      while (this.#rings[i]!.read(this.#buf, this.#meta)) {
        got = true;
        this.#frames[i]!++;
      }
      if (!got) continue;
      const gap = now - this.#last[i]!;
      if (gap > this.#longest[i]!) this.#longest[i] = gap;
      this.#last[i] = now;
    }
  }
}
