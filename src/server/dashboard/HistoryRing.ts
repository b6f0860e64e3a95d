/** A history point's columns, in order: seconds since the epoch (to a tenth), live calls, process CPU % of one core, the longest last tick of any worker (µs), RSS (MB). */
export const HISTORY_COLUMNS = ['t', 'calls', 'cpuPct', 'tickUs', 'rssMb'] as const;

const WIDTH = HISTORY_COLUMNS.length;

/**
 * The dashboard's charts' memory: one point a second for the last
 * `capacity` seconds, kept on the main thread whether or not anyone watches,
 * so a page opened during an incident shows the minutes before it. A fixed
 * Float64Array ring: the memory is the same after a day as after a minute.
 */
export class HistoryRing {
  readonly capacity: number;
  readonly #points: Float64Array;
  #count = 0;
  #next = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer [capacity:${capacity}]`);
    this.capacity = capacity;
    this.#points = new Float64Array(capacity * WIDTH);
  }

  get length(): number {
    return this.#count;
  }

  /** Adds a point (evicting the oldest when full); returns it as JSON. */
  push(t: number, calls: number, cpuPct: number, tickUs: number, rssMb: number): string {
    const at = this.#next * WIDTH;
    const p = this.#points;
    p[at] = t;
    p[at + 1] = calls;
    p[at + 2] = Math.round(cpuPct * 10) / 10;
    p[at + 3] = Math.round(tickUs);
    p[at + 4] = Math.round(rssMb * 10) / 10;
    this.#next = (this.#next + 1) % this.capacity;
    this.#count = Math.min(this.capacity, this.#count + 1);
    return this.#pointJson(at);
  }

  /** The newest `n` points (all of them at most), oldest first, as a JSON array of arrays. */
  json(n: number): string {
    const count = Math.min(Math.max(0, Math.floor(n)), this.#count);
    let out = '';
    for (let i = count; i >= 1; i--) {
      const slot = (this.#next - i + this.capacity) % this.capacity;
      out += (out === '' ? '' : ',') + this.#pointJson(slot * WIDTH);
    }
    return `[${out}]`;
  }

  #pointJson(at: number): string {
    const p = this.#points;
    return `[${p[at]},${p[at + 1]},${p[at + 2]},${p[at + 3]},${p[at + 4]}]`;
  }
}
