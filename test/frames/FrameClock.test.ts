import { describe, expect, it } from 'vitest';
import { FrameClock, type TimeSource } from '../../src/frames/FrameClock.ts';
import { mulberry32 } from '../helpers/prng.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A fake clock: time moves only in `advance` (timers fire in order, each at
 * its due time plus `lateness()`) or `busy` (the thread is occupied: time
 * passes and nothing fires).
 */
class FakeTime implements TimeSource {
  t = 1000;
  timers: Timer[] = [];
  sleeps: number[] = [];
  #nextId = 1;
  /** `lateness(delayMs)`: how late (negative: early) a timer of that delay fires. */
  constructor(readonly lateness: (delayMs: number) => number = () => 0) {}

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.t + Math.max(0, ms + this.lateness(ms)), fn };
    this.timers.push(timer);
    return timer.id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = Math.max(this.t, end);
  }
  busy(ms: number): void {
    this.t += ms;
  }
}

/** A fake clock whose thread can also block for a precise time, as the real one can. */
class FakeTimeWithSleep extends FakeTime {
  sleepSync(ms: number): void {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

function recording(time: TimeSource, extra: Partial<ConstructorParameters<typeof FrameClock>[0]> = {}) {
  const ticks: Array<{ n: number; lateMs: number; at: number }> = [];
  const clock = new FrameClock({
    time,
    onTick: (n, lateMs) => ticks.push({ n, lateMs, at: time.now() }),
    ...extra,
  });
  return { clock, ticks };
}

describe('FrameClock on a fake clock', () => {
  it('fires tick n at t0 + n·20 ms, never inside start()', () => {
    const time = new FakeTime();
    const { clock, ticks } = recording(time);
    clock.start();
    expect(ticks).toHaveLength(0);
    time.advance(20 * 100);
    expect(ticks.map((t) => t.n)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    for (const t of ticks) expect(t.at).toBe(1000 + 20 * t.n);
    expect([clock.ticks, clock.lateTicks, clock.skippedTicks]).toEqual([101, 0, 0]);
  });

  it('does not drift when every timer fires late: each deadline comes from the base', () => {
    const rnd = mulberry32(3);
    const time = new FakeTime(() => rnd() * 1.5);
    const { clock, ticks } = recording(time);
    clock.start();
    time.advance(20 * 3000); // a minute of frames
    expect(ticks.length).toBeGreaterThanOrEqual(3000);
    for (const t of ticks) {
      expect(t.at - (1000 + 20 * t.n)).toBeGreaterThanOrEqual(0);
      expect(t.at - (1000 + 20 * t.n)).toBeLessThanOrEqual(1.5);
      expect(t.lateMs).toBeCloseTo(t.at - (1000 + 20 * t.n), 9);
    }
    expect(clock.lateTicks).toBe(0);
  });

  it('never ticks early when a timer fires before its deadline', () => {
    // Node's timers round to the loop's millisecond, so one may fire up to
    // about 1 ms before its delay is up (never before it was set).
    const time = new FakeTime((ms) => -Math.min(0.9, ms / 2));
    const { clock, ticks } = recording(time);
    clock.start();
    time.advance(20 * 50);
    expect(ticks.length).toBeGreaterThanOrEqual(49);
    for (const t of ticks) expect(t.at).toBeGreaterThanOrEqual(1000 + 20 * t.n);
  });

  it('finishes the wait with a blocking sleep when the time source has one', () => {
    const time = new FakeTimeWithSleep(() => 0.4);
    const { clock, ticks } = recording(time, { finishMs: 2 });
    clock.start();
    time.advance(20 * 10 + 5);
    // The timer is armed 2 ms early and fires 0.4 ms late: 1.6 ms is slept.
    expect(time.sleeps.slice(1).every((ms) => Math.abs(ms - 1.6) < 1e-9)).toBe(true);
    // Tick 0 is due at start, so only its timer's lateness shows; the rest land on time.
    for (const t of ticks.slice(1)) expect(t.at).toBeCloseTo(1000 + 20 * t.n, 9);
  });

  it('catches up a short stall back to back and counts the late ticks', () => {
    const time = new FakeTime();
    const { clock, ticks } = recording(time);
    clock.start();
    time.advance(20 * 5); // ticks 0..5 on time
    time.busy(70); // ticks 6, 7, 8 pass unserved; now = t0 + 170
    time.advance(0);
    expect(ticks.slice(6).map((t) => [t.n, t.lateMs])).toEqual([
      [6, 50],
      [7, 30],
      [8, 10],
    ]);
    expect([clock.lateTicks, clock.skippedTicks]).toEqual([3, 0]); // late means ≥ 5 ms by default
    time.advance(30);
    expect(ticks.at(-1)).toEqual({ n: 10, lateMs: 0, at: 1000 + 200 });
  });

  it('skips ahead after a long stall instead of bursting every missed tick', () => {
    const time = new FakeTime();
    const { clock, ticks } = recording(time, { maxBurst: 4 });
    clock.start();
    time.advance(0); // tick 0
    time.busy(1000); // 50 periods: ticks 1..50 are due
    time.advance(0);
    expect(ticks.slice(1).map((t) => t.n)).toEqual([47, 48, 49, 50]);
    expect(clock.skippedTicks).toBe(46);
    time.advance(20);
    expect(ticks.at(-1)).toEqual({ n: 51, lateMs: 0, at: 1000 + 51 * 20 });
  });

  it('yields between bursts when every tick overruns the period', () => {
    const time = new FakeTime();
    let calls = 0;
    const clock = new FrameClock({
      time,
      maxBurst: 3,
      onTick: () => {
        calls++;
        time.busy(45); // each tick costs more than two periods
      },
    });
    clock.start();
    time.advance(0);
    // One wake fired at most maxBurst ticks, then armed a timer and returned.
    expect(calls).toBe(3);
    expect(time.timers).toHaveLength(1);
    time.advance(1000);
    expect(clock.skippedTicks).toBeGreaterThan(0);
    clock.stop();
  });

  it('starts and stops idempotently, leaves no timer behind, and restarts at tick 0', () => {
    const time = new FakeTime();
    const { clock, ticks } = recording(time);
    clock.start();
    clock.start();
    expect(time.timers).toHaveLength(1);
    time.advance(40);
    clock.stop();
    clock.stop();
    expect(clock.running).toBe(false);
    expect(time.timers).toHaveLength(0);
    time.advance(100);
    expect(ticks.map((t) => t.n)).toEqual([0, 1, 2]);
    time.advance(5);
    clock.start();
    time.advance(20);
    expect(ticks.slice(3)).toEqual([
      { n: 0, lateMs: 0, at: 1145 },
      { n: 1, lateMs: 0, at: 1165 },
    ]);
    expect(clock.ticks).toBe(5);
  });

  it('can be stopped from inside a tick', () => {
    const time = new FakeTime();
    const clock: FrameClock = new FrameClock({ time, onTick: (n) => n === 2 && clock.stop() });
    clock.start();
    time.advance(1000);
    expect(clock.ticks).toBe(3);
    expect(time.timers).toHaveLength(0);
  });

  it('restarts cleanly from inside a tick, with one timer pending', () => {
    const time = new FakeTime();
    const seen: number[] = [];
    const clock: FrameClock = new FrameClock({
      time,
      onTick: (n) => {
        seen.push(n);
        if (seen.length === 3) {
          clock.stop();
          clock.start();
        }
      },
    });
    clock.start();
    time.advance(40); // ticks 0, 1, 2; the third restarts the clock at t0 = 1040
    expect(time.timers).toHaveLength(1);
    time.advance(20);
    expect(seen).toEqual([0, 1, 2, 0, 1]);
    clock.stop();
    expect(time.timers).toHaveLength(0);
  });

  it('keeps its schedule when a tick throws, and lets the error through', () => {
    const time = new FakeTime();
    const seen: number[] = [];
    const clock = new FrameClock({
      time,
      onTick: (n) => {
        seen.push(n);
        if (n === 1) throw new Error('bad tick');
      },
    });
    clock.start();
    time.advance(0);
    expect(() => time.advance(20)).toThrow('bad tick');
    time.advance(40);
    expect(seen).toEqual([0, 1, 2, 3]);
    clock.stop();
  });

  it('refuses a period or burst it cannot honour', () => {
    const onTick = (): void => {};
    expect(() => new FrameClock({ onTick, periodMs: 0 })).toThrow(/periodMs:0/);
    expect(() => new FrameClock({ onTick, periodMs: Number.NaN })).toThrow(RangeError);
    expect(() => new FrameClock({ onTick, maxBurst: 0 })).toThrow(/maxBurst:0/);
  });
});

describe('FrameClock on the real clock', () => {
  /**
   * Runs 50 ticks and measures them with performance.now(), independently of
   * the clock's own figures. A loaded host delays a tick now and then, so the
   * figures are robust to a few outliers: the period is the least-squares
   * slope of tick time over tick index, and the drift compares the median
   * offset from the ideal grid over the last ten ticks with the first ten.
   */
  async function fiftyTicks(finishMs: number): Promise<{ periodMs: number; driftMs: number; medianLateMs: number }> {
    const index: number[] = [];
    const at: number[] = [];
    const late: number[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const clock = new FrameClock({
      finishMs,
      onTick: (n, lateMs) => {
        at.push(performance.now());
        index.push(n); // a stall may skip ticks: fit against the clock's own index
        late.push(lateMs);
        if (n >= 49) {
          clock.stop();
          resolve();
        }
      },
    });
    clock.start();
    await done;
    const meanN = index.reduce((a, b) => a + b, 0) / index.length;
    const meanT = at.reduce((a, b) => a + b, 0) / at.length;
    let num = 0;
    let den = 0;
    at.forEach((t, i) => {
      num += (index[i]! - meanN) * (t - meanT);
      den += (index[i]! - meanN) ** 2;
    });
    const offset = at.map((t, i) => t - 20 * index[i]!);
    const driftMs = median(offset.slice(-10)) - median(offset.slice(0, 10));
    return { periodMs: num / den, driftMs, medianLateMs: median(late) };
  }

  it('keeps a 20 ms period without drift, finishing each wait with a blocking sleep', async () => {
    const r = await fiftyTicks(2);
    console.log(`real clock, sleep finish: ${JSON.stringify(r)}`);
    expect(Math.abs(r.periodMs - 20)).toBeLessThan(0.5);
    expect(Math.abs(r.driftMs)).toBeLessThan(2);
    expect(r.medianLateMs).toBeLessThan(1);
  });

  it('keeps a 20 ms period without drift from timers alone', async () => {
    const r = await fiftyTicks(0);
    console.log(`real clock, timers only: ${JSON.stringify(r)}`);
    expect(Math.abs(r.periodMs - 20)).toBeLessThan(0.5);
    expect(Math.abs(r.driftMs)).toBeLessThan(2);
    expect(r.medianLateMs).toBeLessThan(2);
  });
});
