/**
 * Where a clock gets the time and its timers. Injected so the clock's logic
 * runs on a fake clock in tests without waiting.
 */
export interface TimeSource {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Blocks the thread for `ms` (fractional). Optional: without it the clock
   * fires from its timer alone, a millisecond or so less precisely.
   */
  sleepSync?(ms: number): void;
}

/**
 * The process's monotonic clock and Node's timers. `sleepSync` parks the
 * thread on a private SharedArrayBuffer word nobody notifies: the kernel wakes
 * it after the timeout, typically within 0.1 ms, without burning CPU.
 */
export const realTime: TimeSource = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  sleepSync: (ms) => {
    Atomics.wait(sleepWord, 0, 0, ms);
  },
};
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

export interface FrameClockOptions {
  /** Called once per frame with the frame's index since `start` and how late it fires. */
  onTick(tickIndex: number, lateMs: number): void;
  /** Frame period; 20 ms by default. */
  periodMs?: number;
  time?: TimeSource;
  /**
   * How long before a deadline the timer fires so the clock can finish the
   * wait with `sleepSync`. Node's timers resolve to the millisecond and fire
   * up to about a millisecond early or late; the blocking finish lands within
   * about 0.1 ms. The price: the event loop is blocked for up to this long
   * (plus the timer's error) each frame, though the CPU stays idle. 0 uses
   * the timer alone and never blocks.
   */
  finishMs?: number;
  /** Most ticks fired back to back after a stall; older missed ticks are skipped. */
  maxBurst?: number;
  /** A tick firing at least this long after its deadline counts as late. */
  lateMs?: number;
}

export const DEFAULT_PERIOD_MS = 20;
/** Covers the timer's error (about 1 ms either way) with a millisecond to spare. */
export const DEFAULT_FINISH_MS = 2;
/**
 * 4 frames (80 ms at 20 ms): a GC pause or a descheduled thread of that
 * length is caught up in full, which rings of a few slots absorb; a longer
 * stall is real time lost, and replaying all of it would only flood the
 * next actor's ring.
 */
export const DEFAULT_MAX_BURST = 4;

/**
 * A drift-free frame clock. Tick n is due at t0 + n·period, computed from the
 * monotonic base every time, so the error of one timer never carries into the
 * next (chained setTimeouts would accumulate it: ~1 ms per frame, 3 s an hour).
 *
 * Catch-up policy: when the thread wakes with several ticks overdue, it fires
 * them back to back, at most `maxBurst` per wake; if more than `maxBurst` are
 * overdue, the oldest are skipped (counted in `skippedTicks`, and visible as
 * a jump in `tickIndex`) so a long stall never turns into an unbounded burst.
 * After a burst the clock yields to the event loop before firing more.
 */
export class FrameClock {
  readonly periodMs: number;
  readonly #onTick: (tickIndex: number, lateMs: number) => void;
  readonly #time: TimeSource;
  readonly #finishMs: number;
  readonly #maxBurst: number;
  readonly #lateMs: number;
  /** Made once so arming the timer allocates no closure. */
  readonly #wake: () => void;
  #running = false;
  /** Bumped by every start, so a wake from an earlier run neither ticks nor re-arms after a restart. */
  #run = 0;
  #handle: unknown = undefined;
  #t0 = 0;
  #next = 0;
  #ticks = 0;
  #lateTicks = 0;
  #skippedTicks = 0;

  constructor(options: FrameClockOptions) {
    const periodMs = options.periodMs ?? DEFAULT_PERIOD_MS;
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) {
      throw new RangeError(`FrameClock: periodMs must be a positive number [periodMs:${periodMs}]`);
    }
    const maxBurst = options.maxBurst ?? DEFAULT_MAX_BURST;
    if (!Number.isInteger(maxBurst) || maxBurst < 1) {
      throw new RangeError(`FrameClock: maxBurst must be a positive integer [maxBurst:${maxBurst}]`);
    }
    this.periodMs = periodMs;
    this.#onTick = options.onTick;
    this.#time = options.time ?? realTime;
    this.#finishMs = this.#time.sleepSync === undefined ? 0 : Math.max(0, options.finishMs ?? DEFAULT_FINISH_MS);
    this.#maxBurst = maxBurst;
    this.#lateMs = options.lateMs ?? periodMs / 4;
    this.#wake = () => this.#onWake();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Ticks fired since construction. */
  get ticks(): number {
    return this.#ticks;
  }

  /** Ticks that fired `lateMs` or more after their deadline. */
  get lateTicks(): number {
    return this.#lateTicks;
  }

  /** Ticks never fired because the clock was more than `maxBurst` behind. */
  get skippedTicks(): number {
    return this.#skippedTicks;
  }

  /**
   * Starts the clock (no-op when running): tick 0 is due now and fires from
   * the timer, never inside `start`. A restart begins again at tick 0 from a
   * new base; the counters carry on.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#run++;
    this.#t0 = this.#time.now();
    this.#next = 0;
    this.#arm(this.#t0);
  }

  /** Stops the clock (no-op when stopped). Safe to call from inside `onTick`, as is a restart. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    if (this.#handle !== undefined) {
      this.#time.clearTimer(this.#handle);
      this.#handle = undefined;
    }
  }

  #deadline(n: number): number {
    return this.#t0 + n * this.periodMs;
  }

  #arm(now: number): void {
    const delay = this.#deadline(this.#next) - this.#finishMs - now;
    this.#handle = this.#time.setTimer(this.#wake, delay > 0 ? delay : 0);
  }

  #onWake(): void {
    this.#handle = undefined;
    if (!this.#running) return;
    const run = this.#run;
    const time = this.#time;
    let now = time.now();
    const early = this.#deadline(this.#next) - now;
    if (early > 0) {
      if (early > this.#finishMs) {
        // The timer fired before the finishing window (timers may be a
        // millisecond early): wait again rather than tick early.
        this.#arm(now);
        return;
      }
      time.sleepSync!(early);
      now = time.now();
    }
    const overdue = Math.floor((now - this.#t0) / this.periodMs) - this.#next + 1;
    if (overdue > this.#maxBurst) {
      const skip = overdue - this.#maxBurst;
      this.#skippedTicks += skip;
      this.#next += skip;
    }
    let fired = 0;
    try {
      // Re-reading the time per tick lets a burst end as soon as it has
      // caught up, and reports each tick's own lateness.
      while (this.#running && this.#run === run && fired < this.#maxBurst) {
        const n = this.#next;
        const lateMs = now - this.#deadline(n);
        if (lateMs < 0) break;
        this.#next = n + 1;
        this.#ticks++;
        if (lateMs >= this.#lateMs) this.#lateTicks++;
        fired++;
        this.#onTick(n, lateMs);
        now = time.now();
      }
    } finally {
      // Re-armed even when onTick threw: the schedule survives a bad tick,
      // and the error still reaches whoever runs the timers.
      if (this.#running && this.#run === run) this.#arm(now);
    }
  }
}
