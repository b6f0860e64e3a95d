import { describe, expect, it } from 'vitest';
import { ReferenceTimeStretcher } from '../../src/dsp/reference/timeStretch.ts';
import { TimeStretcher, type TimeStretchExports } from '../../src/dsp/timeStretch.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { sine } from '../helpers/spectral.ts';

/** Harmonics of f0 with falling amplitudes and seeded phases, peaking near ±12000. */
function periodic(rateHz: number, f0: number, n: number, seed = 1): Int16Array {
  const rng = mulberry32(seed);
  const x = new Float64Array(n);
  let peak = 0;
  for (let k = 1; k * f0 < 3400; k++) {
    const w = (2 * Math.PI * k * f0) / rateHz;
    const ph = 2 * Math.PI * rng();
    for (let i = 0; i < n; i++) x[i]! += Math.sin(w * i + ph) / k;
  }
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(x[i]!));
  return Int16Array.from(x, (v) => Math.round((v / peak) * 12000));
}

function noise(n: number, dbfs: number, seed: number): Int16Array {
  const rng = mulberry32(seed);
  const amp = 32767 * 10 ** (dbfs / 20) * Math.sqrt(3);
  return Int16Array.from({ length: n }, () => Math.round((rng() * 2 - 1) * amp));
}

function maxStep(y: ArrayLike<number>, n: number): number {
  let m = 0;
  for (let i = 1; i < n; i++) m = Math.max(m, Math.abs(y[i]! - y[i - 1]!));
  return m;
}

/** Zero crossings per sample over y[0, n): twice the frequency of a tone over the rate. */
function crossingRate(y: ArrayLike<number>, n: number): number {
  let c = 0;
  for (let i = 1; i < n; i++) if ((y[i - 1]! < 0) !== (y[i]! < 0)) c++;
  return c / (n - 1);
}

describe('TimeStretcher', () => {
  for (const [rateHz, f0] of [[8000, 125], [16000, 110], [48000, 160]] as const) {
    it(`removes or inserts exactly one pitch period of a periodic signal, without a step [${rateHz} Hz, ${f0} Hz]`, () => {
      const n = (rateHz / 1000) * 30;
      const x = periodic(rateHz, f0, n);
      const ts = new TimeStretcher(rateHz);
      const out = new Int16Array(n + ts.maxPeriodSamples);
      const period = rateHz / f0;
      const bound = 1.5 * maxStep(x, n);

      const shorter = ts.accelerate(x, n, out);
      expect(Math.abs(ts.lastPeriod - period)).toBeLessThanOrEqual(1);
      expect(shorter).toBe(n - ts.lastPeriod);
      expect(maxStep(out, shorter)).toBeLessThanOrEqual(bound);
      // After the splice the rest of the input follows unchanged.
      expect(out[shorter - 1]).toBe(x[n - 1]);

      const longer = ts.expand(x, n, out);
      expect(longer).toBe(n + ts.lastPeriod);
      expect(maxStep(out, longer)).toBeLessThanOrEqual(bound);
      expect(out[longer - 1]).toBe(x[n - 1]);
      ts.destroy();
    });
  }

  it('keeps the pitch: a tone has the same frequency after accelerating and expanding', () => {
    const rateHz = 16000;
    const n = 960; // 60 ms
    const x = sine(n, 250, rateHz, 10000, 0.3);
    const ts = new TimeStretcher(rateHz);
    const out = new Int16Array(n + ts.maxPeriodSamples);
    const before = crossingRate(x, n);
    const a = ts.accelerate(x, n, out);
    expect(a).toBeLessThan(n);
    expect(Math.abs(crossingRate(out, a) / before - 1)).toBeLessThan(0.02);
    const e = ts.expand(x, n, out);
    expect(e).toBeGreaterThan(n);
    expect(Math.abs(crossingRate(out, e) / before - 1)).toBeLessThan(0.02);
    ts.destroy();
  });

  it('declines on loud noise (low correlation): returns the input unchanged', () => {
    const x = noise(480, -20, 5);
    const ts = new TimeStretcher(16000);
    const out = new Int16Array(480 + ts.maxPeriodSamples);
    expect(ts.accelerate(x, 480, out)).toBe(480);
    expect(ts.lastPeriod).toBe(0);
    expect(Array.from(out.subarray(0, 480))).toEqual(Array.from(x));
    expect(ts.expand(x, 480, out)).toBe(480);
    ts.destroy();
  });

  it('stretches quiet signals whatever their correlation', () => {
    const x = noise(480, -60, 6);
    const ts = new TimeStretcher(16000);
    const out = new Int16Array(480 + ts.maxPeriodSamples);
    expect(ts.accelerate(x, 480, out)).toBeLessThan(480);
    expect(ts.expand(x, 480, out)).toBeGreaterThan(480);
    ts.destroy();
  });

  for (const name of ['synth-m-8k', 'synth-f-16k', 'synth-m-48k']) {
    it(`matches the TypeScript reference within ±1 LSB on speech [${name}]`, () => {
      const { rateHz, samples } = speech(name);
      const ts = new TimeStretcher(rateHz);
      const ref = new ReferenceTimeStretcher(rateHz);
      const block = (rateHz / 1000) * 30;
      const got = new Int16Array(block + ts.maxPeriodSamples);
      const want = new Int16Array(block + ts.maxPeriodSamples);
      let acted = 0;
      let worst = 0;
      for (let at = 0, k = 0; at + block <= Math.min(samples.length, rateHz * 3); at += block >> 1, k++) {
        const x = samples.subarray(at, at + block);
        const m = k % 2 ? ts.accelerate(x, block, got) : ts.expand(x, block, got);
        const r = k % 2 ? ref.accelerate(x, block, want) : ref.expand(x, block, want);
        if (m !== r) worst = Infinity;
        if (m !== block) acted++;
        for (let i = 0; i < m; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(acted).toBeGreaterThan(10);
      ts.destroy();
    });
  }

  it('takes bad lengths without throwing and never writes past out', () => {
    const x = periodic(16000, 120, 960);
    const ts = new TimeStretcher(16000);
    const out = new Int16Array(2000);
    expect(ts.accelerate(x, 0, out)).toBe(0);
    expect(ts.expand(x, -5, out)).toBe(0);
    expect(ts.accelerate(x, Number.NaN, out)).toBe(0);
    expect(ts.accelerate(x, 5000, out)).toBeLessThanOrEqual(960); // clamped to the input
    expect(ts.expand(new Int16Array(5000), 5000, out)).toBeLessThanOrEqual(ts.maxInputSamples + ts.maxPeriodSamples);
    expect(ts.expand(x, 10, out)).toBe(10); // too short for any period
    const tiny = new Int16Array(100);
    expect(ts.expand(x, 480, tiny)).toBe(100); // declines, copies what fits
    ts.destroy();
    ts.destroy();
    expect(ts.accelerate(x, 480, out)).toBe(0);
    expect(() => new TimeStretcher(44100)).toThrow(RangeError);
  });

  it('allocates nothing per call', () => {
    const core = newDspInstance<TimeStretchExports>();
    const ts = new TimeStretcher(48000, core);
    const before = core.memory.buffer.byteLength;
    const { samples } = speech('synth-f-48k');
    const out = new Int16Array(1440 + ts.maxPeriodSamples);
    for (let at = 0; at + 1440 <= samples.length; at += 960) {
      ts.accelerate(samples.subarray(at, at + 1440), 1440, out);
      ts.expand(samples.subarray(at, at + 1440), 1440, out);
    }
    expect(core.memory.buffer.byteLength).toBe(before);
    ts.destroy();
  });
});
