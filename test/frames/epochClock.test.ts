import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { arrivalFromStamp, arrivalStamp, epochMs } from '../../src/frames/epochClock.ts';

describe('epoch clock and arrival stamps', () => {
  it('reads alike on another thread, whose performance.now() starts from its own origin', async () => {
    const before = epochMs();
    const worker = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.postMessage(performance.timeOrigin + performance.now());', { eval: true });
    const theirs = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const after = epochMs();
    await worker.terminate();
    expect(theirs).toBeGreaterThanOrEqual(before - 1);
    expect(theirs).toBeLessThanOrEqual(after + 1);
  });

  it('stamps whole milliseconds mod 2^32 and reads them back as the time they were, across the wrap', () => {
    const wrap = 2 ** 32;
    for (const arrival of [0, 1234.7, wrap - 1, wrap, wrap + 5.5, 7 * wrap + 123_456.1]) {
      const stamp = arrivalStamp(arrival);
      expect(stamp).toBe(Math.floor(arrival) % wrap);
      for (const ageMs of [0, 1, 20, 60_000, 2 ** 31 - 1]) {
        const now = Math.floor(arrival) + ageMs + 0.5;
        expect(arrivalFromStamp(stamp, now)).toBe(now - ageMs);
      }
    }
  });

  it('reads a stamp from the future as now (clocks of two threads a hair apart)', () => {
    const now = 10_000.75;
    expect(arrivalFromStamp(arrivalStamp(now + 3), now)).toBe(now);
  });
});
