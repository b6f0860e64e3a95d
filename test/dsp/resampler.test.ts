import { describe, expect, it } from 'vitest';
import { Resampler, SUPPORTED_RATES_HZ } from '../../src/dsp/resampler.ts';
import { ReferenceResampler } from '../../src/dsp/reference/resampler.ts';
import { dsp } from '../../src/dsp/wasm.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import {
  blackmanLowpass,
  delayByCrossCorrelation,
  filterZeroPhase,
  fitTone,
  rms,
  sine,
  snrDb,
} from '../helpers/spectral.ts';

const PAIRS = SUPPORTED_RATES_HZ.flatMap((fromHz) => SUPPORTED_RATES_HZ.map((toHz) => ({ fromHz, toHz })));
const CONVERSIONS = PAIRS.filter(({ fromHz, toHz }) => fromHz !== toHz);

/** Samples in a 20 ms frame at `rateHz`. */
const frameSamples = (rateHz: number): number => (rateHz * 20) / 1000;

/** Large arrays compare fast this way; the message names the first difference. */
function expectSame(actual: Int16Array, expected: Int16Array): void {
  expect(actual.length).toBe(expected.length);
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  if (at < actual.length) expect.fail(`first difference at ${at}: ${actual[at]} ≠ ${expected[at]}`);
}

/** Seeded noise, uniform over ±amplitude. */
function noise(n: number, amplitude: number, seed: number): Int16Array {
  const next = mulberry32(seed);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round((2 * next() - 1) * amplitude);
  return x;
}

interface Stream {
  process(input: Int16Array, output: Int16Array): number;
}

/** All of `input` through `stream` in one call. */
function inOneBlock(stream: Stream, fromHz: number, toHz: number, input: Int16Array): Int16Array {
  const out = new Int16Array(Resampler.outputLength(fromHz, toHz, input.length));
  return out.slice(0, stream.process(input, out));
}

/** `input` through `stream` in calls of the given sizes (cycled), concatenated. */
function inChunks(stream: Stream, fromHz: number, toHz: number, input: Int16Array, sizes: readonly number[]): Int16Array {
  const out = new Int16Array(Resampler.outputLength(fromHz, toHz, input.length) + sizes.length);
  const chunkOut = new Int16Array(Resampler.outputLength(fromHz, toHz, Math.max(...sizes)));
  let written = 0;
  for (let at = 0, k = 0; at < input.length; k++) {
    const size = Math.min(sizes[k % sizes.length]!, input.length - at);
    const n = stream.process(input.subarray(at, at + size), chunkOut);
    expect(n).toBeLessThanOrEqual(Resampler.outputLength(fromHz, toHz, size));
    out.set(chunkOut.subarray(0, n), written);
    written += n;
    at += size;
  }
  return out.slice(0, written);
}

describe('Resampler set-up', () => {
  it('supports the engine rates', () => {
    expect([...SUPPORTED_RATES_HZ]).toEqual([8000, 16000, 24000, 48000]);
  });

  it.each([
    [44100, 8000],
    [8000, 44100],
    [0, 16000],
    [16000, -16000],
    [Number.NaN, 8000],
    [8000.5, 16000],
    [48000, Infinity],
  ])('refuses %s → %s Hz with a RangeError naming the rates', (fromHz, toHz) => {
    expect(() => new Resampler(fromHz, toHz)).toThrow(RangeError);
    expect(() => new Resampler(fromHz, toHz)).toThrow(/8000, 16000, 24000, 48000/);
  });

  it.each(PAIRS)('reports a whole-sample group delay for $fromHz → $toHz Hz, as the reference', ({ fromHz, toHz }) => {
    const r = new Resampler(fromHz, toHz);
    const ref = new ReferenceResampler(fromHz, toHz);
    expect(Number.isInteger(r.delaySamples)).toBe(true);
    expect(r.delaySamples).toBe(ref.delaySamples);
    expect(r.delaySamples).toBe((ref.design.prototype.length - 1) / (2 * ref.design.m));
    expect(r.fromHz).toBe(fromHz);
    expect(r.toHz).toBe(toHz);
    if (fromHz === toHz) expect(r.delaySamples).toBe(0);
    // Under 4 ms whatever the pair: a leg can afford it.
    expect(r.delaySamples / toHz).toBeLessThan(0.004);
    r.destroy();
  });

  it('gives the output length of whole frames exactly and bounds any other', () => {
    expect(Resampler.outputLength(48000, 8000, 960)).toBe(160);
    expect(Resampler.outputLength(8000, 48000, 160)).toBe(960);
    expect(Resampler.outputLength(24000, 16000, 480)).toBe(320);
    expect(Resampler.outputLength(16000, 24000, 320)).toBe(480);
    expect(Resampler.outputLength(48000, 8000, 0)).toBe(0);
    expect(Resampler.outputLength(48000, 8000, 1)).toBe(1);
    expect(Resampler.outputLength(24000, 16000, 4)).toBe(3);
    expect(Resampler.outputLength(16000, 16000, 7)).toBe(7);
  });
});

describe.each(PAIRS)('Resampler $fromHz → $toHz Hz', ({ fromHz, toHz }) => {
  const signal = noise(fromHz, 20000, fromHz + toHz); // one second

  it('writes exactly a frame at the output rate for each 20 ms input frame', () => {
    const r = new Resampler(fromHz, toHz);
    const out = new Int16Array(frameSamples(toHz) + 8);
    for (let at = 0; at + frameSamples(fromHz) <= signal.length; at += frameSamples(fromHz)) {
      expect(r.process(signal.subarray(at, at + frameSamples(fromHz)), out)).toBe(frameSamples(toHz));
    }
    r.destroy();
  });

  it('gives the same samples in 20 ms frames, in odd chunks and in one block', () => {
    const whole = new Resampler(fromHz, toHz);
    const framed = new Resampler(fromHz, toHz);
    const odd = new Resampler(fromHz, toHz);
    const single = new Resampler(fromHz, toHz);
    const oneBlock = inOneBlock(whole, fromHz, toHz, signal);
    expect(oneBlock.length).toBe(toHz);
    expectSame(inChunks(framed, fromHz, toHz, signal, [frameSamples(fromHz)]), oneBlock);
    // Sizes around every factor, and past the wrapper's 960-sample chunk.
    expectSame(inChunks(odd, fromHz, toHz, signal, [1, 7, 333, 2, 961, 5, 1999, 3, 160, 11]), oneBlock);
    expectSame(inChunks(single, fromHz, toHz, signal.subarray(0, 3000), [1]), oneBlock.slice(0, (3000 * toHz) / fromHz));
    for (const r of [whole, framed, odd, single]) r.destroy();
  });

  it('matches the TypeScript reference within ±1 LSB, saturation included', () => {
    // A full-scale square wave overshoots (Gibbs) and must clip, not wrap.
    const square = new Int16Array(fromHz / 2);
    for (let i = 0; i < square.length; i++) square[i] = Math.floor((i * 150) / fromHz) % 2 === 0 ? 32767 : -32768;
    for (const input of [signal, noise(fromHz / 2, 32767, 7), square]) {
      const wasm = inOneBlock(new Resampler(fromHz, toHz), fromHz, toHz, input);
      const ref = inOneBlock(new ReferenceResampler(fromHz, toHz), fromHz, toHz, input);
      expect(wasm.length).toBe(ref.length);
      let worst = 0;
      for (let i = 0; i < wasm.length; i++) worst = Math.max(worst, Math.abs(wasm[i]! - ref[i]!));
      expect(worst).toBeLessThanOrEqual(1);
    }
    const clipped = inOneBlock(new Resampler(fromHz, toHz), fromHz, toHz, square);
    expect(Math.max(...clipped)).toBe(32767);
    expect(Math.min(...clipped)).toBe(-32768);
  });

  it('delays an impulse by delaySamples', () => {
    const r = new Resampler(fromHz, toHz);
    const input = new Int16Array(frameSamples(fromHz) * 4);
    const at = frameSamples(fromHz);
    input[at] = 16000;
    const out = inOneBlock(r, fromHz, toHz, input);
    let peak = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[peak]!) peak = i;
    expect(peak).toBe((at * toHz) / fromHz + r.delaySamples);
    r.destroy();
  });

  it('writes what fits in a short output, stays in time and never writes past it', () => {
    const input = signal.subarray(0, frameSamples(fromHz) * 3);
    const expected = inOneBlock(new Resampler(fromHz, toHz), fromHz, toHz, input);
    const r = new Resampler(fromHz, toHz);
    const room = new Int16Array(frameSamples(toHz) + 2).fill(0x5a5a);
    const short = room.subarray(1, 1 + frameSamples(toHz) / 2); // canaries either side
    const frame = frameSamples(fromHz);
    expect(r.process(input.subarray(0, frame), short)).toBe(short.length);
    expectSame(short.slice(), expected.slice(0, short.length));
    expect(room[0]).toBe(0x5a5a);
    expect(room[1 + short.length]).toBe(0x5a5a);
    expect(r.process(input.subarray(frame, 2 * frame), new Int16Array(0))).toBe(0);
    // The dropped samples are gone; the next frame comes out where it belongs.
    const next = new Int16Array(frameSamples(toHz));
    expect(r.process(input.subarray(2 * frame), next)).toBe(next.length);
    expectSame(next, expected.slice(2 * frameSamples(toHz)));
    r.destroy();
  });

  it('starts afresh after reset()', () => {
    const r = new Resampler(fromHz, toHz);
    inOneBlock(r, fromHz, toHz, noise(777, 30000, 3));
    r.reset();
    expectSame(inOneBlock(r, fromHz, toHz, signal), inOneBlock(new Resampler(fromHz, toHz), fromHz, toHz, signal));
    r.destroy();
  });
});

describe('Resampler streams', () => {
  it('keep their own state when interleaved', () => {
    const a = noise(48000, 20000, 11);
    const b = noise(48000, 20000, 12);
    const expectedA = inOneBlock(new Resampler(48000, 16000), 48000, 16000, a);
    const expectedB = inOneBlock(new Resampler(48000, 16000), 48000, 16000, b);
    const ra = new Resampler(48000, 16000);
    const rb = new Resampler(48000, 16000);
    const outA = new Int16Array(expectedA.length);
    const outB = new Int16Array(expectedB.length);
    const frameOut = new Int16Array(320);
    for (let at = 0; at < a.length; at += 960) {
      outA.set(frameOut.subarray(0, ra.process(a.subarray(at, at + 960), frameOut)), (at / 960) * 320);
      outB.set(frameOut.subarray(0, rb.process(b.subarray(at, at + 960), frameOut)), (at / 960) * 320);
    }
    expectSame(outA, expectedA);
    expectSame(outB, expectedB);
    ra.destroy();
    rb.destroy();
  });

  it('do nothing after destroy(), which is safe twice', () => {
    const r = new Resampler(8000, 48000);
    r.destroy();
    r.destroy();
    expect(r.process(new Int16Array(160), new Int16Array(960))).toBe(0);
    expect(() => r.reset()).not.toThrow();
  });

  it('accept empty input', () => {
    const r = new Resampler(16000, 8000);
    const out = new Int16Array(4).fill(9);
    expect(r.process(new Int16Array(0), out)).toBe(0);
    expect([...out]).toEqual([9, 9, 9, 9]);
    r.destroy();
  });

  it('give their memory back: thousands of streams come and go without growing the core', () => {
    const memory = dsp().memory;
    const make = (): void => {
      for (const { fromHz, toHz } of PAIRS) new Resampler(fromHz, toHz).destroy();
    };
    make();
    const before = memory.buffer.byteLength;
    for (let i = 0; i < 200; i++) make();
    expect(memory.buffer.byteLength).toBe(before);
  });
});

/** Tone amplitude for the sweeps: loud, with room for the passband ripple. */
const TONE = 20000;

/** Input tone frequencies for a pair: dense everywhere, denser around the band edges. */
function sweepHz(fromHz: number, lowHz: number): number[] {
  const f: number[] = [];
  for (let x = 0.01; x < 0.5; x += 0.0123) f.push(x * fromHz);
  for (let x = 0.37; x <= 0.6; x += 0.0031) if (x * lowHz < fromHz / 2) f.push(x * lowHz);
  f.push(0.4 * lowHz, 0.5001 * lowHz);
  return f.filter((hz) => hz < 0.499 * fromHz).sort((a, b) => a - b);
}

describe.each(CONVERSIONS)('Resampler $fromHz → $toHz Hz frequency response', ({ fromHz, toHz }) => {
  const lowHz = Math.min(fromHz, toHz);

  it('is flat within ±0.1 dB to 0.4 × the lower rate and leaves images and aliases above 0.5 × it ≥ 70 dB down', () => {
    const r = new Resampler(fromHz, toHz);
    const inputLength = Math.round(fromHz * 0.12);
    const out = new Int16Array(Resampler.outputLength(fromHz, toHz, inputLength));
    // Skip the filter's start-up: twice its delay covers its whole length.
    const settled = 2 * r.delaySamples + 4;
    let worstPassbandDb = 0;
    let worstSpuriousDb = -Infinity;
    for (const hz of sweepHz(fromHz, lowHz)) {
      r.reset();
      const n = r.process(sine(inputLength, hz, fromHz, TONE, 0.3), out);
      let spuriousRms: number;
      if (hz < 0.5 * lowHz) {
        // The tone belongs in the output: fit it, and whatever is left is images.
        const fit = fitTone(out, hz, toHz, settled, n);
        if (hz <= 0.4 * lowHz) {
          const gainDb = 20 * Math.log10(fit.amplitude / TONE);
          if (Math.abs(gainDb) > Math.abs(worstPassbandDb)) worstPassbandDb = gainDb;
        }
        spuriousRms = fit.residualRms;
      } else {
        // Above 0.5 × the lower rate (decimation only) every output sample is alias.
        spuriousRms = rms(out, settled, n);
      }
      // As the level of one tone carrying all that power, relative to the input tone.
      worstSpuriousDb = Math.max(worstSpuriousDb, 20 * Math.log10((spuriousRms * Math.SQRT2) / TONE));
    }
    expect(Math.abs(worstPassbandDb)).toBeLessThanOrEqual(0.1);
    expect(worstSpuriousDb).toBeLessThanOrEqual(-70);
    r.destroy();
  });
});

describe('Resampler 48 kHz identity', () => {
  it('passes samples through untouched', () => {
    const x = noise(48000, 32767, 5);
    expectSame(inOneBlock(new Resampler(48000, 48000), 48000, 48000, x), x);
  });
});

describe.each(['synth-m', 'synth-f'])('Resampler on %s speech against sox', (voice) => {
  it.each([8000, 16000])('48 kHz → %s Hz matches sox within the guaranteed band at ≥ 40 dB SNR', (toHz) => {
    const source = speech(`${voice}-48k`);
    const sox = speech(`${voice}-${toHz / 1000}k`);
    expect(source.rateHz).toBe(48000);
    expect(sox.rateHz).toBe(toHz);
    const r = new Resampler(48000, toHz);
    const ours = inOneBlock(r, 48000, toHz, source.samples);
    // Both band-limited to 0.4 × the output rate: sox's passband reaches
    // further, and only up to there does the resampler promise to be flat.
    // The Blackman band limiter is down 74 dB by 0.4 and flat below 0.38.
    const band = blackmanLowpass(0.39, 301);
    const a = filterZeroPhase(sox.samples, band);
    const b = filterZeroPhase(ours, band);
    const lag = delayByCrossCorrelation(a, b, 100);
    expect(lag).toBe(r.delaySamples);
    const edge = toHz / 10;
    const snr = snrDb(a, b, lag, edge, Math.min(a.length, b.length - lag) - edge);
    expect(snr).toBeGreaterThanOrEqual(40);
    r.destroy();
  });
});
