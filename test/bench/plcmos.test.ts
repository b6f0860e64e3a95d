import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLCMOS_MIN_SAMPLES, PlcMos, plcmosFeatures } from '../../bench/lib/plcmos.ts';
import { readWav } from '../../src/wire/wav.ts';

function example(name: string): Int16Array {
  const path = fileURLToPath(new URL(`../fixtures/plcmos/${name}.wav`, import.meta.url));
  const wav = readWav(new Uint8Array(readFileSync(path)));
  expect(wav.rateHz).toBe(16000);
  expect(wav.channels).toBe(1);
  return wav.samples;
}

describe('plcmosFeatures', () => {
  it('makes ⌈n / 256⌉ + 1 frames of 257 bins', () => {
    for (const n of [1, 255, 256, 257, 16000]) {
      const { frames, data } = plcmosFeatures(new Float32Array(n).fill(0.1));
      expect(frames).toBe(Math.ceil(n / 256) + 1);
      expect(data.length).toBe(frames * 257);
    }
  });

  it('gives digital silence -80 dB of log power everywhere', () => {
    const { data } = plcmosFeatures(new Float32Array(1000));
    const expected = (-80 / 10) * Math.LN10 / 20;
    for (const v of data) expect(v).toBeCloseTo(expected, 5);
  });

  it('floors zero power 120 dB under the smallest nonzero power', () => {
    // An impulse at sample 0 sits only in frames 0 and 1; frame 2 onward is exactly zero.
    const signal = new Float32Array(2048);
    signal[0] = 0.5;
    const { frames, data } = plcmosFeatures(signal);
    let minNonZero = Infinity;
    for (let i = 0; i < 2 * 257; i++) minNonZero = Math.min(minNonZero, data[i]!);
    const floor = minNonZero - (120 / 10) * Math.LN10 / 20;
    for (let i = 2 * 257; i < frames * 257; i++) expect(data[i]).toBeCloseTo(floor, 4);
  });

  it('puts a sine at its bin', () => {
    const bin = 40; // 40 · 16000 / 512 = 1250 Hz
    const signal = Float32Array.from({ length: 4096 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * bin * i) / 512));
    const { data } = plcmosFeatures(signal);
    const row = data.subarray(5 * 257, 6 * 257);
    let best = 0;
    for (let k = 1; k < 257; k++) if (row[k]! > row[best]!) best = k;
    expect(best).toBe(bin);
  });
});

describe('PlcMos', () => {
  let mos: PlcMos;
  beforeAll(async () => {
    mos = await PlcMos.load();
  });
  afterAll(async () => {
    await mos.close();
  });

  it.each([
    ['clean', 4.497762],
    ['plc_good', 4.123963],
    ['plc_poor', 2.740757],
  ])('reproduces the published score of %s.wav', async (name, expected) => {
    expect(Math.abs((await mos.score(example(name))) - expected)).toBeLessThan(0.01);
  });

  it('scores Int16 and the same samples as floats alike', async () => {
    const pcm = example('clean').subarray(16000, 32000);
    const floats = Float32Array.from(pcm, (v) => v / 32768);
    expect(await mos.score(floats)).toBeCloseTo(await mos.score(pcm), 6);
  });

  it('rejects a signal too short for the model, or one with a NaN', async () => {
    await expect(mos.score(new Int16Array(PLCMOS_MIN_SAMPLES - 1))).rejects.toThrow(RangeError);
    await expect(mos.score(new Float32Array(0))).rejects.toThrow(RangeError);
    const bad = new Float32Array(4000);
    bad[1234] = Number.NaN;
    await expect(mos.score(bad)).rejects.toThrow(/index:1234/);
    expect(Number.isFinite(await mos.score(new Float32Array(PLCMOS_MIN_SAMPLES)))).toBe(true);
  });

  it('refuses a model path that does not exist', async () => {
    await expect(PlcMos.load('/nonexistent/plcmos.onnx')).rejects.toThrow();
  });
});
