import { describe, expect, it } from 'vitest';
import * as wasm from '../../src/dsp/g711.ts';
import * as reference from '../../src/dsp/reference/g711.ts';
import { readFixture, readS16le, speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';

type Encode = (pcm: Int16Array, out: Uint8Array) => number;
type Decode = (codes: Uint8Array, out: Int16Array) => number;
interface Impl {
  encode: Encode;
  decode: Decode;
}

const LAWS = [
  {
    law: 'ulaw',
    wasm: { encode: wasm.ulawEncode, decode: wasm.ulawDecode },
    reference: { encode: reference.ulawEncode, decode: reference.ulawDecode },
  },
  {
    law: 'alaw',
    wasm: { encode: wasm.alawEncode, decode: wasm.alawDecode },
    reference: { encode: reference.alawEncode, decode: reference.alawDecode },
  },
] as const;

/** Large arrays compare fast this way; the message names the first difference. */
function expectSame(actual: Int16Array | Uint8Array, expected: Int16Array | Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  if (at < actual.length) expect.fail(`first difference at ${at}: ${actual[at]} ≠ ${expected[at]}`);
}

/** Every int16 value, in order. */
function everySample(): Int16Array {
  const x = new Int16Array(65536);
  for (let i = 0; i < x.length; i++) x[i] = i - 32768;
  return x;
}

function decodeAll(impl: Impl, codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  expect(impl.decode(codes, out)).toBe(codes.length);
  return out;
}

function roundTrip(impl: Impl, pcm: Int16Array): Int16Array {
  const codes = new Uint8Array(pcm.length);
  expect(impl.encode(pcm, codes)).toBe(pcm.length);
  return decodeAll(impl, codes);
}

/** Mean over 20 ms segments of 10·log10(signal / error), silent segments skipped. */
function segmentalSnrDb(original: Int16Array, decoded: Int16Array, segment = 160): number {
  let sum = 0;
  let count = 0;
  for (let at = 0; at + segment <= original.length; at += segment) {
    let signal = 0;
    let error = 0;
    for (let i = at; i < at + segment; i++) {
      signal += original[i]! * original[i]!;
      error += (original[i]! - decoded[i]!) ** 2;
    }
    if (signal === 0) continue;
    sum += Math.min(10 * Math.log10(signal / Math.max(error, 1e-3)), 100);
    count++;
  }
  return sum / count;
}

describe.each(LAWS)('G.711 $law', ({ law, wasm: w, reference: r }) => {
  const impls = [
    ['WASM', w],
    ['reference', r],
  ] as const;

  it.each(impls)('%s decodes the independent decoding exactly', (_, impl) => {
    const codes = readFixture(`g711/synth-m-8k.${law}`);
    const expected = readS16le(`g711/synth-m-8k.${law}.decoded.s16le`);
    expectSame(decodeAll(impl, codes), expected);
  });

  it('WASM and reference agree on all 256 codes and all 65,536 samples', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expectSame(decodeAll(w, codes), decodeAll(r, codes));
    const x = everySample();
    const a = new Uint8Array(x.length);
    const b = new Uint8Array(x.length);
    w.encode(x, a);
    r.encode(x, b);
    expectSame(a, b);
  });

  it.each(impls)('%s encodes every int16 to within 8 of the nearest decodable level', (_, impl) => {
    const levels = Array.from(new Set(decodeAll(impl, Uint8Array.from({ length: 256 }, (_, i) => i)))).sort(
      (p, q) => p - q,
    );
    const x = everySample();
    const y = roundTrip(impl, x);
    let worstExcess = -Infinity;
    let li = 0;
    for (let i = 0; i < x.length; i++) {
      // x ascends, so the nearest level index only moves forward.
      while (li + 1 < levels.length && Math.abs(levels[li + 1]! - x[i]!) <= Math.abs(levels[li]! - x[i]!)) li++;
      const nearest = Math.abs(levels[li]! - x[i]!);
      worstExcess = Math.max(worstExcess, Math.abs(x[i]! - y[i]!) - nearest);
    }
    expect(worstExcess).toBeLessThanOrEqual(8);
    // Rounding to the nearest level is what this encoder promises.
    expect(worstExcess).toBe(0);
  });

  it('decodes monotonically: a larger sample never decodes smaller', () => {
    const y = roundTrip(w, everySample());
    for (let i = 1; i < y.length; i++) if (y[i]! < y[i - 1]!) expect.fail(`not monotone at ${i - 32768}`);
  });

  it('re-encodes every decoded level to its own code', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const again = new Uint8Array(256);
    w.encode(decodeAll(w, codes), again);
    for (let c = 0; c < 256; c++) {
      // µ-law has two zeros (0xFF and 0x7F); 0 encodes as 0xFF.
      const expected = law === 'ulaw' && c === 0x7f ? 0xff : c;
      expect(again[c], `code 0x${c.toString(16)}`).toBe(expected);
    }
  });

  it('decodes the extremes and silence as the standard tables say', () => {
    const codes =
      law === 'ulaw'
        ? Uint8Array.of(0xff, 0x7f, 0x80, 0x00, wasm.G711_PAYLOAD_SILENCE_ULAW)
        : Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a, wasm.G711_PAYLOAD_SILENCE_ALAW);
    const expected = law === 'ulaw' ? [0, 0, 32124, -32124, 0] : [8, -8, 32256, -32256, 8];
    expect(Array.from(decodeAll(w, codes))).toEqual(expected);
    const out = new Uint8Array(4);
    w.encode(Int16Array.of(0, 32767, -32768, -1), out);
    expect(Array.from(out)).toEqual(
      law === 'ulaw' ? [0xff, 0x80, 0x00, 0x7f] : [0xd5, 0xaa, 0x2a, 0x55],
    );
  });

  it('has a segmental SNR on speech at least that of the reference encoding', () => {
    const { rateHz, samples } = speech('synth-m-8k');
    expect(rateHz).toBe(8000);
    const theirs = readS16le(`g711/synth-m-8k.${law}.decoded.s16le`);
    expect(theirs.length).toBe(samples.length);
    const ours = segmentalSnrDb(samples, roundTrip(w, samples));
    const baseline = segmentalSnrDb(samples, theirs);
    expect(ours).toBeGreaterThanOrEqual(baseline);
    expect(segmentalSnrDb(samples, roundTrip(r, samples))).toBeCloseTo(ours, 9);
  });

  it('handles any length across its internal chunks, and views at an offset', () => {
    const rand = mulberry32(711);
    const n = 3 * 4096 + 37;
    const backing = new Int16Array(n + 5);
    for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(rand() * 65536) - 32768;
    const pcm = backing.subarray(3, 3 + n);
    const a = new Uint8Array(n);
    const b = new Uint8Array(n);
    expect(w.encode(pcm, a)).toBe(n);
    r.encode(pcm, b);
    expectSame(a, b);
    const codeBacking = new Uint8Array(n + 9);
    codeBacking.set(a, 7);
    const y = new Int16Array(n);
    expect(w.decode(codeBacking.subarray(7, 7 + n), y)).toBe(n);
    expectSame(y, decodeAll(r, a));
  });

  it('writes only what fits, returns the count and leaves the rest of the output alone', () => {
    const pcm = Int16Array.from({ length: 100 }, (_, i) => i * 300 - 15000);
    const short = new Uint8Array(60).fill(0x5a);
    expect(w.encode(pcm, short.subarray(0, 40))).toBe(40);
    const expected = new Uint8Array(40);
    r.encode(pcm.subarray(0, 40), expected);
    expect(short.subarray(0, 40)).toEqual(expected);
    expect(short.subarray(40).every((v) => v === 0x5a)).toBe(true);

    const pcmOut = new Int16Array(30).fill(12345);
    expect(w.decode(expected, pcmOut.subarray(0, 25))).toBe(25);
    expect(pcmOut.subarray(25).every((v) => v === 12345)).toBe(true);
    // A longer output than input: only the input's length is written.
    const long = new Int16Array(50).fill(-7);
    expect(w.decode(expected.subarray(0, 10), long)).toBe(10);
    expect(long.subarray(10).every((v) => v === -7)).toBe(true);
  });

  it('takes the first `count` items of a larger store (a packet store slot), and nothing for a bad count', () => {
    const rand = mulberry32(1500);
    const store = Uint8Array.from({ length: 1500 }, () => Math.floor(rand() * 256));
    const out = new Int16Array(400).fill(4321);
    const decode = law === 'ulaw' ? wasm.ulawDecode : wasm.alawDecode;
    const encode = law === 'ulaw' ? wasm.ulawEncode : wasm.alawEncode;
    expect(decode(store, out, 160)).toBe(160);
    expectSame(out.subarray(0, 160), decodeAll(r, store.subarray(0, 160)));
    expect(out.subarray(160).every((v) => v === 4321)).toBe(true);
    // Longer than the chunk: the count still bounds the work.
    const big = new Int16Array(6000);
    expect(decode(new Uint8Array(6000).fill(0x55), big, 5000)).toBe(5000);
    expect(big.subarray(5000).every((v) => v === 0)).toBe(true);
    const codes = new Uint8Array(200).fill(0xaa);
    expect(encode(Int16Array.from({ length: 300 }, (_, i) => 50 * i), codes, 120)).toBe(120);
    expect(codes.subarray(120).every((v) => v === 0xaa)).toBe(true);
    for (const bad of [0, -1, Number.NaN]) expect(decode(store, out, bad)).toBe(0);
  });

  it('returns 0 for empty input or output without touching anything', () => {
    expect(w.encode(new Int16Array(0), new Uint8Array(10))).toBe(0);
    expect(w.encode(new Int16Array(10), new Uint8Array(0))).toBe(0);
    expect(w.decode(new Uint8Array(0), new Int16Array(10))).toBe(0);
    expect(w.decode(new Uint8Array(10), new Int16Array(0))).toBe(0);
    expect(r.encode(new Int16Array(0), new Uint8Array(0))).toBe(0);
    expect(r.decode(new Uint8Array(0), new Int16Array(0))).toBe(0);
  });
});
