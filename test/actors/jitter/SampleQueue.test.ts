import { describe, expect, it } from 'vitest';
import type { PcmStretcher } from '../../../src/actors/jitter/FrameKind.ts';
import { SampleQueue } from '../../../src/actors/jitter/SampleQueue.ts';

/** Removes (or repeats) the first `period` samples, as a WSOLA stretcher that always acts would. */
function fixedStretcher(period: number): PcmStretcher {
  return {
    accelerate(input, n, out) {
      for (let i = period; i < n; i++) out[i - period] = input[i]!;
      return n - period;
    },
    expand(input, n, out) {
      for (let i = 0; i < period; i++) out[i] = input[i]!;
      for (let i = 0; i < n; i++) out[period + i] = input[i]!;
      return n + period;
    },
  };
}

describe('SampleQueue', () => {
  it('stretch removes what the stretcher removes, and declines a change beyond maxChange, leaving the queue as it was', () => {
    const q = new SampleQueue(320);
    const x = Int16Array.from({ length: 400 }, (_, i) => i + 1);
    q.append(x, 0, 400);
    expect(q.stretch(fixedStretcher(80), -1, 79)).toBe(0);
    expect(q.length).toBe(400);
    expect(q.stretch(fixedStretcher(80), -1, 80)).toBe(-80);
    expect(q.length).toBe(320);
    const out = new Int16Array(320);
    q.take(out, 320);
    expect(out[0]).toBe(81);
    expect(out[319]).toBe(400);
  });
});
