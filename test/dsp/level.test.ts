import { describe, expect, it } from 'vitest';
import { LEVEL_FLOOR_DBFS, LevelMeter, type LevelExports } from '../../src/dsp/level.ts';
import { levelReference } from '../../src/dsp/reference/level.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';
import { mulberry32 } from '../helpers/prng.ts';

function sine(n: number, amplitude: number, cyclesPerSample: number): Int16Array {
  return Int16Array.from({ length: n }, (_, k) => Math.round(amplitude * Math.sin(2 * Math.PI * cyclesPerSample * k)));
}

describe('LevelMeter', () => {
  it('reads a full-scale sine as −3.01 dBFS RMS and 0 dBFS peak', () => {
    const m = new LevelMeter(960);
    // 1 kHz at 48 kHz: 20 whole cycles, peaks land on ±32767
    expect(m.measure(sine(960, 32767, 1000 / 48000))).toBe(960);
    expect(m.rmsDbfs).toBeCloseTo(-3.0103, 3);
    expect(m.peakDbfs).toBe(0);
    m.destroy();
  });

  it('reads full-scale squares as 0 dBFS and never above, −32768 included', () => {
    const m = new LevelMeter(160);
    const square = Int16Array.from({ length: 160 }, (_, k) => (k & 1 ? 32767 : -32767));
    m.measure(square);
    expect(m.rmsDbfs).toBe(0);
    expect(m.peakDbfs).toBe(0);
    m.measure(new Int16Array(160).fill(-32768));
    expect(m.rmsDbfs).toBe(0);
    expect(m.peakDbfs).toBe(0);
    m.destroy();
  });

  it('reads silence as the floor, −120 dBFS, and one LSB as −90.3 dBFS peak', () => {
    const m = new LevelMeter(160);
    m.measure(new Int16Array(160));
    expect(m.rmsDbfs).toBe(LEVEL_FLOOR_DBFS);
    expect(m.peakDbfs).toBe(LEVEL_FLOOR_DBFS);
    const lsb = new Int16Array(160);
    lsb[77] = -1;
    m.measure(lsb);
    expect(m.peakDbfs).toBeCloseTo(20 * Math.log10(1 / 32767), 9);
    expect(m.rmsDbfs).toBeCloseTo(10 * Math.log10(1 / 160 / 32767 ** 2), 9);
    m.destroy();
  });

  it('agrees with the reference on random frames of every length, SIMD tails included', () => {
    const rnd = mulberry32(11);
    const m = new LevelMeter(961);
    for (let n = 1; n <= 961; n += n < 40 ? 1 : 37) {
      const scale = 2 ** Math.floor(rnd() * 16);
      const frame = Int16Array.from({ length: n }, () => Math.max(-32768, Math.min(32767, Math.round((rnd() * 2 - 1) * scale))));
      frame[Math.floor(rnd() * n)] = rnd() < 0.5 ? -32768 : 32767;
      m.measure(frame);
      const ref = levelReference(frame);
      expect(m.rmsDbfs).toBeCloseTo(ref.rmsDbfs, 9);
      expect(m.peakDbfs).toBeCloseTo(ref.peakDbfs, 9);
    }
    m.destroy();
  });

  it('sums squares exactly where i16 dot products wrap an i32', () => {
    const core = newDspInstance<LevelExports & { levelSumSquares(p: number, n: number): number }>();
    const ptr = core.alloc(2 * 963);
    new Int16Array(core.memory.buffer, ptr, 963).fill(-32768);
    expect(core.levelSumSquares(ptr, 963)).toBe(963 * 2 ** 30);
    core.free(ptr);
  });

  it('keeps reading correctly after the WebAssembly memory grows', () => {
    const core = newDspInstance<LevelExports>();
    const m = new LevelMeter(320, core);
    const before = core.memory.buffer;
    const big = core.alloc(8 << 20); // forces memory.grow: the meter's views must follow
    expect(core.memory.buffer).not.toBe(before);
    m.measure(sine(320, 1000, 0.01));
    expect(m.peakDbfs).toBeCloseTo(levelReference(sine(320, 1000, 0.01)).peakDbfs, 9);
    core.free(big);
    m.destroy();
  });

  it('handles bad input without throwing on the per-frame path', () => {
    const m = new LevelMeter(160);
    expect(m.measure(new Int16Array(0))).toBe(0);
    expect(m.rmsDbfs).toBe(LEVEL_FLOOR_DBFS);
    const long = new Int16Array(400);
    long.fill(16384, 160); // beyond maxSamples: not measured
    expect(m.measure(long)).toBe(160);
    expect(m.peakDbfs).toBe(LEVEL_FLOOR_DBFS);
    m.destroy();
    m.destroy();
    expect(m.measure(long)).toBe(0);
    expect(m.rmsDbfs).toBe(LEVEL_FLOOR_DBFS);
    expect(() => new LevelMeter(0)).toThrow(RangeError);
    expect(() => new LevelMeter(5761)).toThrow(/maxSamples must be an integer in 1\.\.5760 \[maxSamples:5761\]/);
  });
});
