import { describe, expect, it } from 'vitest';
import { DelayManager } from '../../../src/actors/jitter/DelayManager.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const limits = { minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 };

/** Feeds `n` packets, 20 ms apart, with transit = 30 + extra(i). */
function feed(dm: DelayManager, n: number, extra: (i: number) => number, from = 0): void {
  for (let i = from; i < from + n; i++) dm.update(20 * i + 30 + extra(i), 20 * i);
}

describe('DelayManager', () => {
  it('holds the start delay until it has seen enough packets, then follows the 95th percentile', () => {
    const dm = new DelayManager(limits);
    expect(dm.targetMs).toBe(60);
    feed(dm, 10, () => 0);
    expect(dm.targetMs).toBe(60);
    const rng = mulberry32(1);
    feed(dm, 3000, () => rng() * 100, 10);
    // Uniform 0–100 ms: the 95th percentile is 95 ms (2 ms buckets round up).
    expect(dm.targetMs).toBeGreaterThanOrEqual(93);
    expect(dm.targetMs).toBeLessThanOrEqual(99);
    expect(dm.minTransitMs).toBeLessThan(31);
  });

  it('clamps to [min, max] and forgets an old distribution', () => {
    const dm = new DelayManager(limits);
    feed(dm, 500, () => 0);
    expect(dm.targetMs).toBe(20);
    const rng = mulberry32(2);
    feed(dm, 3000, () => rng() * 400, 500);
    expect(dm.targetMs).toBe(200);
    // A calm network again: after ~20 s of forgetting (half-life ~1000 packets) the target is back down.
    feed(dm, 6000, () => 0, 3500);
    expect(dm.targetMs).toBe(20);
  });

  it('follows clock drift: relative delay stays small when transit creeps by 100 ppm', () => {
    const dm = new DelayManager(limits);
    // +100 ppm over 10 minutes: 60 ms of creep, 1 ms per 10 s window.
    for (let i = 0; i < 30000; i++) dm.update(20 * i * 1.0001 + 30, 20 * i);
    expect(dm.targetMs).toBe(20);
    expect(dm.lastRelativeDelayMs).toBeLessThan(3);
  });

  it('uses another quantile when asked, and refuses bad limits', () => {
    const rng = mulberry32(3);
    const dm = new DelayManager({ ...limits, quantile: 0.5 });
    feed(dm, 3000, () => rng() * 100);
    expect(dm.targetMs).toBeGreaterThanOrEqual(48);
    expect(dm.targetMs).toBeLessThanOrEqual(54);
    expect(() => new DelayManager({ ...limits, minDelayMs: 300 })).toThrow(RangeError);
    expect(() => new DelayManager({ ...limits, startDelayMs: 10 })).toThrow(/startDelayMs/);
    expect(() => new DelayManager({ ...limits, quantile: 1 })).toThrow(/quantile/);
    dm.update(NaN, 0);
    expect(Number.isFinite(dm.targetMs)).toBe(true);
  });

  it('reports the 99.5th percentile as the late-loss threshold, beyond the delay limits', () => {
    const dm = new DelayManager(limits);
    expect(dm.lateMs).toBe(0);
    const rng = mulberry32(3);
    feed(dm, 3000, () => rng() * 400);
    // Uniform 0–400 ms: the 99.5th percentile is 398 ms; the target stays clamped to the 200 ms maximum.
    expect(dm.lateMs).toBeGreaterThanOrEqual(392);
    expect(dm.lateMs).toBeLessThanOrEqual(402);
    expect(dm.targetMs).toBe(200);
    const calm = new DelayManager(limits);
    feed(calm, 500, () => 0);
    expect(calm.lateMs).toBe(2); // one bucket: no jitter, so a missing packet is given up at once
  });
});
