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
 *   7           PROGRESS         worker       +1 per actor ticked (wraps): a long tick still moves it
 *   8           LOAD_PERMILLE    worker       tick work / frame period, smoothed (1000 = the whole frame)
 *   9           HEAP_MB          worker       V8 heap in use, sampled off the frame path
 *  10–19        TICK_HISTOGRAM   worker       ticks whose work took at most 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20 ms, and longer (wrap)
 *  20           OS_TID           worker       the worker's kernel thread id (0 where unknown), written once at start
 * ```
 * A worker whose BEAT and PROGRESS both stand still is hung (a loop in one
 * actor); one whose ticks merely run long is overloaded: it keeps moving
 * PROGRESS and is shed (no new actors), not killed; one that stands still
 * because the machine gave it no CPU (its kernel thread waited on a run
 * queue, src/frames/osThread.ts) is starved, and that time is excused.
 * A block of its own per worker, so two workers' blocks never share a cache
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
  PROGRESS: 7,
  LOAD_PERMILLE: 8,
  HEAP_MB: 9,
  /** The first of the tick-time histogram's counters (TICK_BOUNDS_US, then one for longer ticks). */
  TICK_HISTOGRAM: 10,
  OS_TID: 20,
} as const;

/**
 * Upper bounds of the tick-time histogram's buckets, µs: percentiles of tick
 * work over any window are differences of these counters (a capacity run's
 * "tick p99 < 10 ms" is the share of ticks in the first four buckets).
 */
export const TICK_BOUNDS_US = [500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000] as const;

/** Smoothing of LOAD_PERMILLE per tick: a time constant of ~10 frames (200 ms). */
const LOAD_ALPHA = 0.1;

/** Two 64-byte lines (the histogram fills the second); one block per worker, so no two workers share a line. */
export const HEARTBEAT_BYTES = 128;

export function createHeartbeatBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEARTBEAT_BYTES);
}

/** Worker side: written once per tick; allocation-free. */
export class HeartbeatWriter {
  readonly #cells: Int32Array;
  readonly #periodUs: number;
  #load = 0;
  constructor(block: SharedArrayBuffer, periodMs = 20) {
    this.#cells = new Int32Array(block);
    this.#periodUs = periodMs * 1000;
  }
  /** One actor ticked, or an I/O callback did its work: proof of life inside a long tick or a long burst of input. */
  progress(): void {
    Atomics.add(this.#cells, HB.PROGRESS, 1);
  }
  heapUsed(mb: number): void {
    Atomics.store(this.#cells, HB.HEAP_MB, mb);
  }
  beat(framesThisTick: number, tickUs: number, late: boolean, actors: number): void {
    const c = this.#cells;
    this.#load += (tickUs / this.#periodUs - this.#load) * LOAD_ALPHA;
    Atomics.store(c, HB.LOAD_PERMILLE, Math.round(this.#load * 1000));
    Atomics.add(c, HB.FRAMES, framesThisTick);
    Atomics.store(c, HB.TICK_US, tickUs);
    if (tickUs > Atomics.load(c, HB.MAX_TICK_US)) Atomics.store(c, HB.MAX_TICK_US, tickUs);
    if (late) Atomics.add(c, HB.LATE_TICKS, 1);
    let b = 0;
    while (b < TICK_BOUNDS_US.length && tickUs > TICK_BOUNDS_US[b]!) b++;
    Atomics.add(c, HB.TICK_HISTOGRAM + b, 1);
    Atomics.store(c, HB.ACTORS, actors);
    // The beat goes last: a reader that sees a new beat sees this tick's figures.
    Atomics.add(c, HB.BEAT, 1);
  }
  osThread(tid: number): void {
    Atomics.store(this.#cells, HB.OS_TID, tid);
  }
  setReady(): void {
    Atomics.store(this.#cells, HB.READY, 1);
  }
}

/** Supervisor side. */
export class HeartbeatReader {
  readonly #cells: Int32Array;
  #lastBeat = -1;
  #lastProgress = 0;
  #lastChangeMs = -1;
  constructor(block: SharedArrayBuffer) {
    this.#cells = new Int32Array(block);
  }
  /** Samples the beat and progress counters; returns ms since either last changed (-1 before the first beat). */
  sample(nowMs: number): number {
    const beat = Atomics.load(this.#cells, HB.BEAT);
    const progress = Atomics.load(this.#cells, HB.PROGRESS);
    if (beat !== this.#lastBeat) {
      const first = this.#lastBeat === -1 && beat === 0;
      this.#lastBeat = beat;
      if (!first) this.#lastChangeMs = nowMs;
    }
    if (progress !== this.#lastProgress) {
      this.#lastProgress = progress;
      if (this.#lastBeat !== -1 && this.#lastChangeMs >= 0) this.#lastChangeMs = nowMs;
    }
    return this.#lastChangeMs < 0 ? -1 : nowMs - this.#lastChangeMs;
  }
  /** Starts the stale-beat timer now (a worker that never beats is stale from its start). */
  arm(nowMs: number): void {
    this.#lastBeat = Atomics.load(this.#cells, HB.BEAT);
    this.#lastProgress = Atomics.load(this.#cells, HB.PROGRESS);
    this.#lastChangeMs = nowMs;
  }
  /**
   * Time the supervisor itself could not look (its own thread was stalled:
   * the whole process starved of CPU) is not held against the worker.
   */
  excuse(ms: number): void {
    if (this.#lastChangeMs >= 0) this.#lastChangeMs += ms;
  }
  /** Tick work over the frame period, smoothed: 1 = the whole frame. */
  get load(): number {
    return Atomics.load(this.#cells, HB.LOAD_PERMILLE) / 1000;
  }
  get heapMb(): number {
    return Atomics.load(this.#cells, HB.HEAP_MB);
  }
  /** The worker's kernel thread id, 0 where unknown. */
  get osThreadId(): number {
    return Atomics.load(this.#cells, HB.OS_TID);
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
  /** Ticks by work time so far: TICK_BOUNDS_US's buckets, then the longer ones (counters that wrap at 2^32). */
  tickHistogram(): number[] {
    const out: number[] = [];
    for (let b = 0; b <= TICK_BOUNDS_US.length; b++) out.push(Atomics.load(this.#cells, HB.TICK_HISTOGRAM + b) >>> 0);
    return out;
  }
  get actors(): number {
    return Atomics.load(this.#cells, HB.ACTORS);
  }
  get ready(): boolean {
    return Atomics.load(this.#cells, HB.READY) === 1;
  }
}
