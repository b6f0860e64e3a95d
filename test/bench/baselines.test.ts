import { describe, expect, it } from 'vitest';
import {
  FRAME_SAMPLES_16K,
  burstyLoss,
  frameCount,
  lostFraction,
  repeatLast,
  uniformLoss,
  zeroFill,
} from '../../bench/lib/baselines.ts';
import { loadEvalSpeech, to16k } from '../../bench/lib/speech.ts';

const F = FRAME_SAMPLES_16K;
/** A signal whose sample i holds i + 1 (so every frame is recognisable). */
const ramp = (n: number): Int16Array => Int16Array.from({ length: n }, (_, i) => i + 1);

describe('zeroFill', () => {
  it('silences exactly the lost frames and keeps the rest', () => {
    const s = ramp(3 * F + 100);
    const out = zeroFill(s, [false, true, false, true]);
    expect(out).toBeInstanceOf(Int16Array);
    expect(out.length).toBe(s.length);
    expect(out.subarray(0, F)).toEqual(s.subarray(0, F));
    expect(out.subarray(F, 2 * F).every((v) => v === 0)).toBe(true);
    expect(out.subarray(2 * F, 3 * F)).toEqual(s.subarray(2 * F, 3 * F));
    expect(out.subarray(3 * F).every((v) => v === 0)).toBe(true); // the partial last frame
    expect(s[F]).toBe(F + 1); // input untouched
  });

  it('ignores pattern entries past the signal and keeps floats as floats', () => {
    const s = new Float32Array(F).fill(0.25);
    const out = zeroFill(s, [false, true, true]);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out).toEqual(s);
  });
});

describe('repeatLast', () => {
  it('repeats the last received frame, 0.9 quieter for each consecutive loss', () => {
    const s = ramp(5 * F);
    const out = repeatLast(s, [false, true, true, false, true]);
    for (let i = 0; i < F; i++) {
      expect(out[F + i]).toBe(Math.round((i + 1) * 0.9));
      expect(out[2 * F + i]).toBe(Math.round((i + 1) * 0.81));
      expect(out[3 * F + i]).toBe(s[3 * F + i]);
      expect(out[4 * F + i]).toBe(Math.round((3 * F + i + 1) * 0.9)); // attenuation restarts
    }
  });

  it('plays silence for a loss before anything was received, and takes another factor', () => {
    const s = new Float32Array(3 * F).fill(0.5);
    const out = repeatLast(s, [true, false, true], 0.5);
    expect(out.subarray(0, F).every((v) => v === 0)).toBe(true);
    expect(out.subarray(2 * F).every((v) => v === 0.25)).toBe(true);
  });
});

describe('loss patterns', () => {
  it('are seeded and near their rates', () => {
    expect(uniformLoss(5000, 0.1, 3)).toEqual(uniformLoss(5000, 0.1, 3));
    expect(Math.abs(lostFraction(uniformLoss(20000, 0.1, 3)) - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(lostFraction(burstyLoss(20000, 3)) - 0.1)).toBeLessThan(0.02);
    expect(frameCount(F * 2 + 1)).toBe(3);
    expect(lostFraction([])).toBe(0);
  });
});

describe('eval speech', () => {
  it('loads four clips at 16 kHz with speech in them', () => {
    const clips = loadEvalSpeech();
    expect(clips.map((c) => c.name)).toEqual(['clean', 'synth-m', 'synth-f', 'human-front-center']);
    for (const c of clips) {
      expect(c.samples16k.length).toBeGreaterThan(16000);
      let energy = 0;
      for (const v of c.samples16k) energy += v * v;
      expect(Math.sqrt(energy / c.samples16k.length)).toBeGreaterThan(100);
    }
  });

  it('resamples 48 kHz to a third of the samples, aligned with the input', () => {
    // A 200 Hz sine: after 48 → 16 kHz, sample k should sit where input 3k was.
    const n = 4800;
    const sine = Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 200 * i) / 48000)));
    const out = to16k(sine, 48000);
    expect(out.length).toBe(n / 3);
    for (let k = 200; k < 1400; k += 97) expect(Math.abs(out[k]! - sine[3 * k]!)).toBeLessThan(300);
  });
});
