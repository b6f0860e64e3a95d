import { describe, expect, it } from 'vitest';
import { Concealer } from '../../src/dsp/plc.ts';
import { ReferenceConcealer } from '../../src/dsp/reference/plc.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { snrDb } from '../helpers/spectral.ts';
import { maxAbsDiff, maxStep, play, playBursts, vowel } from '../helpers/plcPlay.ts';

describe('Concealer (WASM) against the reference: whole bursts', () => {
  for (const rateHz of [8000, 16000, 24000, 48000]) {
    it(`burst-aware concealBefore matches the TypeScript reference within ±1 LSB [${rateHz} Hz]`, () => {
      const base = speech(rateHz === 24000 ? 'synth-m-48k' : `synth-m-${rateHz / 1000}k`).samples;
      const x = rateHz === 24000 ? Int16Array.from({ length: base.length >> 1 }, (_, i) => base[2 * i]!) : base;
      const clip = x.subarray(0, rateHz * 3);
      // Bursts of 1–6 frames: a two-state (Gilbert-Elliott) chain, seeded.
      const rng = mulberry32(rateHz + 1);
      let bad = false;
      const pattern = Array.from({ length: 200 }, () => (bad = bad ? rng() < 0.7 : rng() < 0.12));
      const loss = (f: number): boolean => f > 5 && pattern[f]!;
      const c = new Concealer(rateHz);
      const got = playBursts(c, clip, loss);
      const want = playBursts(new ReferenceConcealer(rateHz), clip, loss);
      c.destroy();
      expect(pattern.filter((l, i) => l && pattern[i + 1]).length).toBeGreaterThan(5);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1);
    });
  }

  it('odd counts (0, −3, NaN, 2.7, 10⁹, a plan broken off or restarted) match the reference and never throw', () => {
    const x = speech('synth-f-16k').samples;
    const counts = [3, 2, 0, 5, 4, Number.NaN, 2.7, 1e9, -3, 2, 1, 7, 6, 1];
    const c = new Concealer(16000);
    const ref = new ReferenceConcealer(16000);
    const out = new Int16Array(320);
    const want = new Int16Array(320);
    for (let f = 0; f < 120; f++) {
      const frame = x.subarray(f * 320, f * 320 + 320);
      const next = x.subarray(f * 320 + 640, f * 320 + 960);
      const step = f % 4;
      if (f < 10 || step === 0) {
        c.good(frame, out);
        ref.good(frame, want);
      } else if (step === 3 && f % 8 === 3) {
        c.conceal(out);
        ref.conceal(want);
      } else {
        const k = counts[f % counts.length]!;
        c.concealBefore(next, out, k);
        ref.concealBefore(next, want, Number.isNaN(k) ? 1 : k > 64 ? 64 : k);
      }
      expect(maxAbsDiff(out, want)).toBeLessThanOrEqual(1);
    }
    c.destroy();
  });
});

describe('Concealer: bursts planned whole', () => {
  it('a 3-frame gap planned whole: no step at either end, and good(next) then plays next exactly', () => {
    const rateHz = 16000;
    const n = 320;
    const x = vowel(rateHz, 133, rateHz, 6);
    const bound = 2.5 * maxStep(x);
    const c = new Concealer(rateHz);
    const d = c.delaySamples;
    const y = new Int16Array(40 * n);
    const out = new Int16Array(n);
    for (let f = 0; f < 30; f++) {
      c.good(x.subarray(f * n, f * n + n), out);
      y.set(out, f * n);
    }
    const next = x.subarray(33 * n, 34 * n);
    for (const k of [3, 2, 1]) {
      c.concealBefore(next, out, k);
      y.set(out, (33 - k) * n);
      expect(c.lostInARow).toBe(4 - k);
    }
    c.good(next, out);
    y.set(out, 33 * n);
    expect(c.lostInARow).toBe(0);
    for (let i = d; i < n; i++) expect(out[i]).toBe(next[i - d]);
    for (let f = 34; f < 40; f++) {
      c.good(x.subarray(f * n, f * n + n), out);
      y.set(out, f * n);
    }
    // The gap is heard from 30·n + d to 33·n + d: look at both of its edges.
    expect(maxStep(y, 30 * n + d - 40, 30 * n + d + 40)).toBeLessThanOrEqual(bound);
    expect(maxStep(y, 33 * n + d - 40, 33 * n + d + 40)).toBeLessThanOrEqual(bound);
    expect(maxStep(y, 1, 40 * n)).toBeLessThanOrEqual(bound);
    c.destroy();
  });

  it('a burst planned whole is closer to the truth than extrapolating alone or looking ahead on its last frame only', () => {
    const rateHz = 16000;
    const n = 320;
    const x = new Int16Array(rateHz);
    let phase = 0;
    for (let i = 0; i < x.length; i++) {
      phase += (2 * Math.PI * (120 + (40 * i) / x.length)) / rateHz;
      x[i] = Math.round(8000 * Math.sin(phase) + 3000 * Math.sin(2 * phase + 1));
    }
    const lost = (f: number): boolean => f >= 25 && f < 28;
    const fwd = play(new ReferenceConcealer(rateHz), x, lost);
    const last = play(new ReferenceConcealer(rateHz), x, lost, true);
    const whole = playBursts(new ReferenceConcealer(rateHz), x, lost);
    const d = 30 * 2;
    const [from, to] = [25 * n, 28 * n];
    const snrWhole = snrDb(x, whole, d, from, to);
    expect(snrWhole).toBeGreaterThan(snrDb(x, fwd, d, from, to) + 3);
    expect(snrWhole).toBeGreaterThan(snrDb(x, last, d, from, to) + 1);
  });

  it('a 100 ms burst on a gliding voice is interpolated pitch-synchronously: the voice holds through the gap', () => {
    const rateHz = 16000;
    const n = 320;
    const x = new Int16Array(rateHz);
    let phase = 0;
    for (let i = 0; i < x.length; i++) {
      phase += (2 * Math.PI * (120 + (40 * i) / x.length)) / rateHz;
      x[i] = Math.round(8000 * Math.sin(phase) + 3000 * Math.sin(2 * phase + 1));
    }
    const lost = (f: number): boolean => f >= 25 && f < 30;
    const fwd = play(new ReferenceConcealer(rateHz), x, lost);
    const whole = playBursts(new ReferenceConcealer(rateHz), x, lost);
    const d = 30 * 2;
    const energy = (y: Int16Array, from: number, to: number) => {
      let e = 0;
      for (let i = from; i < to; i++) e += y[i]! * y[i]!;
      return e;
    };
    // The middle frame of the gap: fading through comfort noise would lose most of it.
    const mid = 27 * n;
    expect(energy(whole, mid + d, mid + n + d) / energy(x, mid, mid + n)).toBeGreaterThan(0.5);
    expect(snrDb(x, whole, d, 25 * n, 30 * n)).toBeGreaterThan(snrDb(x, fwd, d, 25 * n, 30 * n) + 6);
    // The WebAssembly kernel plans the same gap to the sample.
    const c = new Concealer(rateHz);
    expect(maxAbsDiff(playBursts(c, x, lost), whole)).toBe(0);
    c.destroy();
  });

  it('a burst extrapolated first and planned once its next frame arrives joins that frame without a step, as the reference', () => {
    const rateHz = 16000;
    const n = 320;
    const x = vowel(rateHz, 110, rateHz, 3);
    const bound = 2.5 * maxStep(x);
    const run = (c: { good: Concealer['good']; conceal: Concealer['conceal']; concealBefore: Concealer['concealBefore'] }) => {
      const y = new Int16Array(40 * n);
      const out = new Int16Array(n);
      for (let f = 0; f < 40; f++) {
        const frame = x.subarray(f * n, f * n + n);
        const next = x.subarray(25 * n, 26 * n);
        if (f === 20 || f === 21) c.conceal(out);
        else if (f >= 22 && f < 25) c.concealBefore(next, out, 25 - f);
        else c.good(frame, out);
        y.set(out, f * n);
      }
      return y;
    };
    const c = new Concealer(rateHz);
    const got = run(c);
    c.destroy();
    const want = run(new ReferenceConcealer(rateHz));
    expect(maxAbsDiff(got, want)).toBe(0);
    const d = c.delaySamples;
    expect(maxStep(got, 22 * n + d - 40, 22 * n + d + 40)).toBeLessThanOrEqual(bound);
    expect(maxStep(got, 25 * n + d - 40, 25 * n + d + 40)).toBeLessThanOrEqual(bound);
    for (let i = d; i < n; i++) expect(got[25 * n + i]).toBe(x[25 * n + i - d]);
  });
});

