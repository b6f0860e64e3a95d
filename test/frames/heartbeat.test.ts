import { describe, expect, it } from 'vitest';
import { createHeartbeatBlock, HeartbeatReader, HeartbeatWriter, TICK_BOUNDS_US } from '../../src/frames/heartbeat.ts';

describe('heartbeat block', () => {
  it('counts ticks by work time into the histogram buckets, bounds inclusive, the longest in the last', () => {
    const block = createHeartbeatBlock();
    const w = new HeartbeatWriter(block);
    const r = new HeartbeatReader(block);
    for (const us of [0, 500, 501, 1000, 1001, 2000, 4999, 7500, 10_000, 10_001, 20_000, 20_001, 500_000]) w.beat(1, us, false, 3);
    expect(TICK_BOUNDS_US).toEqual([500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000]);
    expect(r.tickHistogram()).toEqual([2, 2, 2, 0, 1, 1, 1, 1, 1, 2]);
    // The other figures keep their own words.
    expect([r.beats, r.framesProcessed, r.tickUs, r.actors, r.lateTicks]).toEqual([13, 13, 500_000, 3, 0]);
  });
});
