import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gilbertElliott, Impairments } from '../../src/load/impairments.ts';

/** Runs `n` packets 20 ms apart; returns what happened to each. */
function trace(imp: Impairments, n: number): { lost: boolean[]; release: number[]; reordered: boolean[]; duplicate: boolean[] } {
  const out = { lost: [] as boolean[], release: [] as number[], reordered: [] as boolean[], duplicate: [] as boolean[] };
  for (let i = 0; i < n; i++) {
    const r = imp.decide(i * 20);
    out.lost.push(r < 0);
    out.release.push(r);
    out.reordered.push(imp.reordered);
    out.duplicate.push(imp.duplicate);
  }
  return out;
}

function bursts(lost: boolean[]): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const l of lost) {
    if (l) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  if (run > 0) runs.push(run);
  return runs;
}

const N = 100_000;

describe('impairments', () => {
  it('Gilbert-Elliott: the measured loss and mean burst length match the parameters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.double({ min: 0.5, max: 20, noNaN: true }), fc.double({ min: 1, max: 8, noNaN: true }), (seed, lossPct, burst) => {
        fc.pre(lossPct / 100 <= burst / (burst + 1));
        const { lost } = trace(new Impairments({ lossPct, burstPackets: burst, jitterMs: 0, reorderPct: 0, duplicatePct: 0 }, seed), N);
        const measured = (100 * lost.filter(Boolean).length) / N;
        const runs = bursts(lost);
        const meanBurst = runs.reduce((a, b) => a + b, 0) / runs.length;
        // Bursts make the loss count vary more than independent losses would: a tolerance of
        // four standard deviations of a count of bursts (≈ N·P/L of them).
        const sdPct = (100 * Math.sqrt((N * lossPct) / 100 / burst) * burst * 1.5) / N;
        expect(Math.abs(measured - lossPct)).toBeLessThan(4 * sdPct + 0.05);
        expect(Math.abs(meanBurst - burst) / burst).toBeLessThan(0.15);
      }),
      { numRuns: 12, seed: 42 },
    );
  });

  it('without a burst length losses are independent: bursts are geometric, mean 1/(1 − P)', () => {
    const { lost } = trace(new Impairments({ lossPct: 10, jitterMs: 0, reorderPct: 0, duplicatePct: 0 }, 9), N);
    expect((100 * lost.filter(Boolean).length) / N).toBeCloseTo(10, 0);
    const runs = bursts(lost);
    expect(runs.reduce((a, b) => a + b, 0) / runs.length).toBeCloseTo(1 / 0.9, 1);
    expect(gilbertElliott(0, undefined)).toEqual({ p: 0, q: 1 });
  });

  it('replays exactly from its seed, and differs with another', () => {
    const s = { lossPct: 5, burstPackets: 3, jitterMs: 30, reorderPct: 2, duplicatePct: 1 };
    expect(trace(new Impairments(s, 77), 2000)).toEqual(trace(new Impairments(s, 77), 2000));
    expect(trace(new Impairments(s, 77), 2000).lost).not.toEqual(trace(new Impairments(s, 78), 2000).lost);
  });

  it('jitter delays within its bound and keeps order; reordered packets are overtaken; duplicates at their rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.double({ min: 1, max: 200, noNaN: true }), (seed, jitterMs) => {
        const n = 20_000;
        const t = trace(new Impairments({ lossPct: 0, jitterMs, reorderPct: 3, duplicatePct: 2 }, seed), n);
        // Checked in the loop, asserted once: an expect per packet would take seconds.
        const bad: string[] = [];
        let lastKept = -Infinity;
        for (let i = 0; i < n; i++) {
          const r = t.release[i]!;
          if (r < i * 20) bad.push(`${i}: released before it was sent`);
          if (t.reordered[i]) {
            // Held past the next packet's release.
            if (i + 1 < n && !t.reordered[i + 1] && !(r > t.release[i + 1]!)) bad.push(`${i}: not overtaken`);
            continue;
          }
          if (r > Math.max(i * 20 + jitterMs, lastKept) || r < lastKept) bad.push(`${i}: out of order or beyond the jitter`);
          lastKept = r;
        }
        expect(bad.slice(0, 5)).toEqual([]);
        expect(Math.abs((100 * t.reordered.filter(Boolean).length) / n - 3)).toBeLessThan(0.6);
        expect(Math.abs((100 * t.duplicate.filter(Boolean).length) / n - 2)).toBeLessThan(0.5);
      }),
      { numRuns: 8, seed: 7 },
    );
  });

  it('refuses a loss that bursts this short cannot make up', () => {
    expect(() => gilbertElliott(60, 1)).toThrow(/at most 50.0%/);
    expect(() => gilbertElliott(100, undefined)).toThrow(RangeError);
  });
});
