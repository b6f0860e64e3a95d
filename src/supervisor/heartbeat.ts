/**
 * The heartbeat and load block a worker writes every tick and the supervisor
 * reads, so liveness and load cost no message per frame.
 *
 * ```
 * Int32 index   field            writer       meaning
 *   0           BEAT             worker       +1 per tick (wraps)
 *   1           FRAMES           worker       frames processed by all actors (wraps)
 *   2           TICK_US          worker       the last tick's work, µs
 *   3           MAX_TICK_US      worker/sup.  longest tick since the supervisor last took it (exchange → 0)
 *   4           LATE_TICKS       worker       ticks that started late by more than a frame
 *   5           ACTORS           worker       actors hosted
 *   6           READY            worker       1 once the worker serves requests
 *   7           (reserved)
 * ```
 * One 64-byte line per worker, so two workers' blocks never share a cache
 * line. All accesses use Atomics: the values are read on another thread.
 */
export const HB = {
  BEAT: 0,
  FRAMES: 1,
  TICK_US: 2,
  MAX_TICK_US: 3,
  LATE_TICKS: 4,
  ACTORS: 5,
  READY: 6,
} as const;

export const HEARTBEAT_BYTES = 64;

export function createHeartbeatBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEARTBEAT_BYTES);
}

/** Worker side: written once per tick; allocation-free. */
export class HeartbeatWriter {
  readonly #cells: Int32Array;
  constructor(block: SharedArrayBuffer) {
    this.#cells = new Int32Array(block);
  }
  beat(framesThisTick: number, tickUs: number, late: boolean, actors: number): void {
    const c = this.#cells;
    Atomics.add(c, HB.FRAMES, framesThisTick);
    Atomics.store(c, HB.TICK_US, tickUs);
    if (tickUs > Atomics.load(c, HB.MAX_TICK_US)) Atomics.store(c, HB.MAX_TICK_US, tickUs);
    if (late) Atomics.add(c, HB.LATE_TICKS, 1);
    Atomics.store(c, HB.ACTORS, actors);
    // The beat goes last: a reader that sees a new beat sees this tick's figures.
    Atomics.add(c, HB.BEAT, 1);
  }
  setReady(): void {
    Atomics.store(this.#cells, HB.READY, 1);
  }
}

/** Supervisor side. */
export class HeartbeatReader {
  readonly #cells: Int32Array;
  #lastBeat = -1;
  #lastChangeMs = -1;
  constructor(block: SharedArrayBuffer) {
    this.#cells = new Int32Array(block);
  }
  /** Samples the beat counter; returns ms since it last changed (-1 before the first beat). */
  sample(nowMs: number): number {
    const beat = Atomics.load(this.#cells, HB.BEAT);
    if (beat !== this.#lastBeat) {
      const first = this.#lastBeat === -1 && beat === 0;
      this.#lastBeat = beat;
      if (!first) this.#lastChangeMs = nowMs;
    }
    return this.#lastChangeMs < 0 ? -1 : nowMs - this.#lastChangeMs;
  }
  /** Starts the stale-beat timer now (a worker that never beats is stale from its start). */
  arm(nowMs: number): void {
    this.#lastBeat = Atomics.load(this.#cells, HB.BEAT);
    this.#lastChangeMs = nowMs;
  }
  get beats(): number {
    return Atomics.load(this.#cells, HB.BEAT);
  }
  get framesProcessed(): number {
    return Atomics.load(this.#cells, HB.FRAMES) >>> 0;
  }
  get tickUs(): number {
    return Atomics.load(this.#cells, HB.TICK_US);
  }
  /** Longest tick since the previous call. */
  takeMaxTickUs(): number {
    return Atomics.exchange(this.#cells, HB.MAX_TICK_US, 0);
  }
  get lateTicks(): number {
    return Atomics.load(this.#cells, HB.LATE_TICKS);
  }
  get actors(): number {
    return Atomics.load(this.#cells, HB.ACTORS);
  }
  get ready(): boolean {
    return Atomics.load(this.#cells, HB.READY) === 1;
  }
}
