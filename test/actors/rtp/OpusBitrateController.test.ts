import { describe, expect, it } from 'vitest';
import {
  ABR_COOL_DOWN_MS,
  ABR_MAX_BPS,
  ABR_MIN_BPS,
  OpusBitrateController,
} from '../../../src/actors/rtp/OpusBitrateController.ts';

describe('OpusBitrateController', () => {
  it('cuts ×0.7 above 5 % loss and ×0.85 above 2 %, at once, and turns FEC on with the loss', () => {
    const c = new OpusBitrateController({ startBps: 40_000 });
    expect(c.fec).toBe(false);
    expect(c.onReport(0.06, 50, 0)).toBe(true);
    expect(c.bitrateBps).toBe(28_000);
    expect(c.fec).toBe(true);
    expect(c.packetLossPct).toBe(6);
    c.onReport(0.03, 50, 1000);
    expect(c.bitrateBps).toBe(23_800);
    expect(c.packetLossPct).toBe(3);
    // 1–2 %: hold the rate, keep FEC.
    expect(c.onReport(0.015, 50, 2000)).toBe(false);
    expect(c.bitrateBps).toBe(23_800);
    expect(c.fec).toBe(true);
  });

  it('grows ×1.1 only on a clean, short path after the cool-down', () => {
    const c = new OpusBitrateController({ startBps: 20_000 });
    c.onReport(0.03, 50, 0); // 17 000, change at t=0
    expect(c.onReport(0, 50, ABR_COOL_DOWN_MS - 1)).toBe(true); // FEC goes off …
    expect(c.fec).toBe(false);
    expect(c.bitrateBps).toBe(17_000); // … but no growth inside the cool-down
    c.onReport(0, 50, ABR_COOL_DOWN_MS);
    expect(c.bitrateBps).toBe(18_700);
    // A long round trip holds growth back.
    c.onReport(0, 150, 3 * ABR_COOL_DOWN_MS);
    expect(c.bitrateBps).toBe(18_700);
    // An unknown RTT (no SR echoed yet) does not.
    c.onReport(0, -1, 3 * ABR_COOL_DOWN_MS);
    expect(c.bitrateBps).toBe(20_570);
    // Loss between 1 % and 2 % restarts the cool-down.
    c.onReport(0.012, 50, 5 * ABR_COOL_DOWN_MS);
    c.onReport(0, 50, 5 * ABR_COOL_DOWN_MS + 1000);
    expect(c.bitrateBps).toBe(20_570);
  });

  it('stays within 6–128 kbit/s and ignores nonsense', () => {
    const c = new OpusBitrateController({ startBps: 8_000 });
    for (let t = 0; t < 20; t++) c.onReport(0.5, 10, t * 1000);
    expect(c.bitrateBps).toBe(ABR_MIN_BPS);
    const up = new OpusBitrateController({ startBps: 120_000, coolDownMs: 0 });
    for (let t = 0; t < 20; t++) up.onReport(0, 10, t);
    expect(up.bitrateBps).toBe(ABR_MAX_BPS);
    expect(up.onReport(Number.NaN, 10, 100)).toBe(false);
    expect(up.bitrateBps).toBe(ABR_MAX_BPS);
    expect(new OpusBitrateController({ startBps: 1 }).bitrateBps).toBe(ABR_MIN_BPS);
    expect(() => new OpusBitrateController({ minBps: 10_000, maxBps: 5_000 })).toThrow(RangeError);
  });
});
