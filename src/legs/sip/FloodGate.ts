/**
 * A token bucket per source address for new INVITEs: `ratePerS` a second with
 * a burst of twice that. A flood from one address is dropped (counted by the
 * stack) while other callers go on; the map is bounded, so a flood from many
 * addresses cannot grow it past MAX_SOURCES (the stalest are dropped first).
 */
const MAX_SOURCES = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class FloodGate {
  readonly #buckets = new Map<string, Bucket>();
  readonly #ratePerS: number;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(ratePerS: number, now: () => number = () => performance.now()) {
    this.#ratePerS = ratePerS;
    this.#burst = 2 * ratePerS;
    this.#now = now;
  }

  /** True when `source` may send one more. */
  take(source: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(source);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_SOURCES) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.#burst, atMs: now };
    } else {
      this.#buckets.delete(source); // re-inserted below: the map stays in least-recently-seen order
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.atMs) / 1000) * this.#ratePerS);
      b.atMs = now;
    }
    this.#buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
