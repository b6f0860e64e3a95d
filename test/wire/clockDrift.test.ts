import { describe, expect, it } from 'vitest';
import { BLOCK_MS, ClockDriftEstimator, MIN_BLOCKS } from '../../src/wire/clockDrift.ts';
import { mulberry32 } from '../helpers/prng.ts';

const CLOCK = 8000;

/**
 * A sender whose clock runs `ppm` fast sends a packet every 20 ms of its own
 * time; each arrives after 5 ms plus a delay drawn from an exponential tail
 * (mean `meanDelayMs`, seeded), a few held 300 ms (a stall).
 */
function feed(est: ClockDriftEstimator, ppm: number, seconds: number, seed: number, meanDelayMs: number, base = 0x7fff0000): void {
  const rnd = mulberry32(seed);
  const packets = seconds * 50;
  for (let k = 0; k < packets; k++) {
    const senderMs = k * 20;
    const trueMs = senderMs / (1 + ppm / 1e6);
    const stall = rnd() < 0.01 ? 300 : 0;
    const delay = 5 - meanDelayMs * Math.log(1 - rnd()) + stall;
    est.add(1_700_000_000_000 + trueMs + delay, (base + k * 160) >>> 0);
  }
}

describe('ClockDriftEstimator (Theil–Sen over the lower envelope)', () => {
  it.each([100, -100, 0, 37])('measures a sender clock at %d ppm within its interval, through jitter and stalls', (ppm) => {
    const est = new ClockDriftEstimator(CLOCK);
    feed(est, ppm, 60, 7 + ppm, 8);
    expect(est.blocks).toBeGreaterThan(50);
    expect(Math.abs(est.driftPpm - ppm)).toBeLessThanOrEqual(Math.max(est.driftCiPpm, 5));
    expect(est.driftCiPpm).toBeLessThan(20);
  });

  it('tells +100 from −100 ppm after 10 s of 30 ms jitter', () => {
    for (const ppm of [100, -100]) {
      const est = new ClockDriftEstimator(CLOCK);
      feed(est, ppm, 10, 3, 30);
      expect(Math.sign(est.driftPpm)).toBe(Math.sign(ppm));
      expect(Math.abs(est.driftPpm - ppm)).toBeLessThan(60);
    }
  });

  it('reports nothing before MIN_BLOCKS blocks, and starts over when the timestamps jump', () => {
    const est = new ClockDriftEstimator(CLOCK);
    feed(est, 100, ((MIN_BLOCKS - 1) * BLOCK_MS) / 1000, 1, 1);
    expect(est.driftPpm).toBeNaN();
    feed(est, 100, 20, 2, 1);
    expect(est.driftPpm).not.toBeNaN();
    // A restarted sender: timestamps 10 minutes away. The old blocks must not bend the new fit.
    est.add(1_700_000_040_000, 0x10);
    expect(est.resets).toBe(1);
    expect(est.driftPpm).toBeNaN();
  });

  it('ignores non-finite arrival times', () => {
    const est = new ClockDriftEstimator(CLOCK);
    est.add(Number.NaN, 0);
    est.add(Number.POSITIVE_INFINITY, 160);
    feed(est, -100, 20, 9, 2);
    expect(Math.abs(est.driftPpm + 100)).toBeLessThan(10);
  });
});
