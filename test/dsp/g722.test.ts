import { describe, expect, it } from 'vitest';
import { type CoreExports, dsp } from '../../src/dsp/wasm.ts';
import * as wasm from '../../src/dsp/g722.ts';
import * as reference from '../../src/dsp/reference/g722.ts';
import { readFixture, readS16le, speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';

interface Encoder {
  encode(pcm: Int16Array, out: Uint8Array): number;
  reset(): void;
  destroy(): void;
}
interface Decoder {
  decode(bytes: Uint8Array, out: Int16Array): number;
  reset(): void;
  destroy(): void;
}
interface Impl {
  Encoder: new () => Encoder;
  Decoder: new () => Decoder;
}

const IMPLS: ReadonlyArray<readonly [string, Impl]> = [
  ['WASM', { Encoder: wasm.G722Encoder, Decoder: wasm.G722Decoder }],
  ['reference', { Encoder: reference.G722Encoder, Decoder: reference.G722Decoder }],
];

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const FRAME_BYTES = FRAME_SAMPLES / 2;

/** The fixture's input: the speech plus the one 0 sample its encoder padded with. */
function paddedSpeech(): Int16Array {
  const { rateHz, samples } = speech('synth-m-16k');
  expect(rateHz).toBe(16000);
  expect(samples.length).toBe(453_367);
  const pcm = new Int16Array(samples.length + 1);
  pcm.set(samples);
  return pcm;
}

/** Large arrays compare fast this way; the message names the first difference. */
function expectSame(actual: Int16Array | Uint8Array, expected: Int16Array | Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  if (at < actual.length) expect.fail(`first difference at ${at}: ${actual[at]} ≠ ${expected[at]}`);
}

function encodeAll(enc: Encoder, pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length >> 1);
  expect(enc.encode(pcm, out)).toBe(out.length);
  return out;
}

function decodeAll(dec: Decoder, bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length * 2);
  expect(dec.decode(bytes, out)).toBe(out.length);
  return out;
}

/** Seeded test signal: speech-like noise bursts, full-scale noise and a clipped Nyquist tone. */
function harshSignal(seed: number, n: number): Int16Array {
  const rand = mulberry32(seed);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const part = Math.floor((4 * i) / n);
    if (part === 0) x[i] = Math.round((rand() - 0.5) * 2000 * Math.sin(i / 300) ** 2);
    else if (part === 1) x[i] = Math.floor(rand() * 65536) - 32768;
    else if (part === 2) x[i] = i % 2 === 0 ? 32767 : -32768;
    else x[i] = Math.round(32767 * Math.sin(i * 0.37)) + (rand() < 0.01 ? 20000 : 0);
  }
  return x;
}

function randomBytes(seed: number, n: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

describe.each(IMPLS)('G.722 %s', (_, impl) => {
  it('encodes the speech fixture to the independent bitstream exactly', () => {
    const enc = new impl.Encoder();
    expectSame(encodeAll(enc, paddedSpeech()), readFixture('g722/synth-m-16k.g722'));
    enc.destroy();
  });

  it('decodes the bitstream to the independent decoding exactly', () => {
    const dec = new impl.Decoder();
    const bytes = readFixture('g722/synth-m-16k.g722');
    expect(bytes.length).toBe(226_684);
    expectSame(decodeAll(dec, bytes), readS16le('g722/synth-m-16k.g722.decoded.s16le'));
    dec.destroy();
  });

  it('carries state across 20 ms frames: frame by frame equals whole file', () => {
    const pcm = paddedSpeech().subarray(0, 200 * FRAME_SAMPLES);
    const whole = encodeAll(new impl.Encoder(), pcm);
    const enc = new impl.Encoder();
    const framed = new Uint8Array(whole.length);
    const frameOut = new Uint8Array(FRAME_BYTES);
    for (let f = 0; f < pcm.length / FRAME_SAMPLES; f++) {
      expect(enc.encode(pcm.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES), frameOut)).toBe(FRAME_BYTES);
      framed.set(frameOut, f * FRAME_BYTES);
    }
    expectSame(framed, whole);

    const wholeDecoded = decodeAll(new impl.Decoder(), whole);
    const dec = new impl.Decoder();
    const decoded = new Int16Array(wholeDecoded.length);
    const frameSamples = new Int16Array(FRAME_SAMPLES);
    for (let f = 0; f < whole.length / FRAME_BYTES; f++) {
      expect(dec.decode(whole.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES), frameSamples)).toBe(FRAME_SAMPLES);
      decoded.set(frameSamples, f * FRAME_SAMPLES);
    }
    expectSame(decoded, wholeDecoded);
  });

  it('keeps two interleaved streams apart: each equals its own run alone', () => {
    const a = paddedSpeech().subarray(0, 100 * FRAME_SAMPLES);
    const b = harshSignal(722, a.length);
    const aloneA = encodeAll(new impl.Encoder(), a);
    const aloneB = encodeAll(new impl.Encoder(), b);
    const encA = new impl.Encoder();
    const encB = new impl.Encoder();
    const outA = new Uint8Array(aloneA.length);
    const outB = new Uint8Array(aloneB.length);
    const decA = new impl.Decoder();
    const decB = new impl.Decoder();
    const backA = new Int16Array(a.length);
    const backB = new Int16Array(b.length);
    const frameBytes = new Uint8Array(FRAME_BYTES);
    const frameSamples = new Int16Array(FRAME_SAMPLES);
    for (let f = 0; f < a.length / FRAME_SAMPLES; f++) {
      const at = f * FRAME_SAMPLES;
      for (const [enc, dec, src, out, back] of [
        [encA, decA, a, outA, backA],
        [encB, decB, b, outB, backB],
      ] as const) {
        enc.encode(src.subarray(at, at + FRAME_SAMPLES), frameBytes);
        out.set(frameBytes, f * FRAME_BYTES);
        dec.decode(frameBytes, frameSamples);
        back.set(frameSamples, at);
      }
    }
    expectSame(outA, aloneA);
    expectSame(outB, aloneB);
    expectSame(backA, decodeAll(new impl.Decoder(), aloneA));
    expectSame(backB, decodeAll(new impl.Decoder(), aloneB));
  });

  it('reset() starts a stream afresh', () => {
    const pcm = harshSignal(1, 4000);
    const enc = new impl.Encoder();
    const fresh = encodeAll(enc, pcm);
    encodeAll(enc, harshSignal(2, 999 * 2));
    enc.reset();
    expectSame(encodeAll(enc, pcm), fresh);

    const dec = new impl.Decoder();
    const decoded = decodeAll(dec, fresh);
    decodeAll(dec, randomBytes(3, 500));
    dec.reset();
    expectSame(decodeAll(dec, fresh), decoded);
  });

  it('ignores an odd last sample and returns floor(length / 2) bytes', () => {
    const pcm = harshSignal(5, 641);
    const enc = new impl.Encoder();
    const out = new Uint8Array(400).fill(0xee);
    expect(enc.encode(pcm, out)).toBe(320);
    expect(out.subarray(320).every((v) => v === 0xee)).toBe(true);
    expectSame(out.subarray(0, 320), encodeAll(new impl.Encoder(), pcm.subarray(0, 640)));
  });

  it('writes only what fits in a short output and returns that count', () => {
    const pcm = harshSignal(6, 1000);
    const enc = new impl.Encoder();
    const out = new Uint8Array(300).fill(0xee);
    expect(enc.encode(pcm, out.subarray(0, 200))).toBe(200);
    expect(out.subarray(200).every((v) => v === 0xee)).toBe(true);
    expectSame(out.subarray(0, 200), encodeAll(new impl.Encoder(), pcm.subarray(0, 400)));

    const bytes = randomBytes(7, 100);
    const dec = new impl.Decoder();
    const samples = new Int16Array(80).fill(-1234);
    // An odd output length: only whole pairs are written.
    expect(dec.decode(bytes, samples.subarray(0, 61))).toBe(60);
    expect(samples.subarray(60).every((v) => v === -1234)).toBe(true);
    expectSame(samples.subarray(0, 60), decodeAll(new impl.Decoder(), bytes.subarray(0, 30)));
  });

  it('returns 0 on empty input or output, and after destroy(), which is safe twice', () => {
    const enc = new impl.Encoder();
    const dec = new impl.Decoder();
    expect(enc.encode(new Int16Array(0), new Uint8Array(10))).toBe(0);
    expect(enc.encode(new Int16Array(1), new Uint8Array(10))).toBe(0);
    expect(enc.encode(new Int16Array(10), new Uint8Array(0))).toBe(0);
    expect(dec.decode(new Uint8Array(0), new Int16Array(10))).toBe(0);
    expect(dec.decode(new Uint8Array(10), new Int16Array(1))).toBe(0);
    enc.destroy();
    enc.destroy();
    dec.destroy();
    dec.destroy();
    expect(enc.encode(new Int16Array(10), new Uint8Array(10))).toBe(0);
    expect(dec.decode(new Uint8Array(10), new Int16Array(20))).toBe(0);
    expect(() => {
      enc.reset();
      dec.reset();
    }).not.toThrow();
  });
});

describe('G.722 WASM against the reference', () => {
  it('agrees on harsh seeded input: noise, full scale, clipping', () => {
    for (const seed of [1, 2, 3]) {
      const pcm = harshSignal(seed, 16000);
      const ours = encodeAll(new wasm.G722Encoder(), pcm);
      expectSame(ours, encodeAll(new reference.G722Encoder(), pcm));
      expectSame(decodeAll(new wasm.G722Decoder(), ours), decodeAll(new reference.G722Decoder(), ours));
      const bytes = randomBytes(seed + 100, 8000);
      expectSame(decodeAll(new wasm.G722Decoder(), bytes), decodeAll(new reference.G722Decoder(), bytes));
    }
  });

  it('agrees when fed in uneven pieces across its internal chunks', () => {
    const rand = mulberry32(99);
    const pcm = harshSignal(9, 3 * 4096 + 2 * 333);
    const expected = encodeAll(new reference.G722Encoder(), pcm);
    const enc = new wasm.G722Encoder();
    const out = new Uint8Array(expected.length);
    const piece = new Uint8Array(pcm.length);
    let at = 0;
    while (at < pcm.length) {
      const len = Math.min(pcm.length - at, 2 * Math.floor(rand() * 3000));
      const wrote = enc.encode(pcm.subarray(at, at + len), piece);
      out.set(piece.subarray(0, wrote), at >> 1);
      at += len;
    }
    expectSame(out, expected);
    enc.destroy();
  });

  it('decodes the first `count` bytes of a larger store (a packet store slot)', () => {
    const store = randomBytes(21, 1500);
    const dec = new wasm.G722Decoder();
    const out = new Int16Array(1000).fill(77);
    expect(dec.decode(store, out, 160)).toBe(320);
    expectSame(out.subarray(0, 320), decodeAll(new reference.G722Decoder(), store.subarray(0, 160)));
    expect(out.subarray(320).every((v) => v === 77)).toBe(true);
    expect(dec.decode(store, out, 0)).toBe(0);
    expect(dec.decode(store, out, Number.NaN)).toBe(0);
    dec.destroy();
  });

  it('frees its state: creating and destroying coders does not grow memory', () => {
    const core = dsp<CoreExports>();
    for (let i = 0; i < 100; i++) new wasm.G722Encoder().destroy();
    const before = core.memory.buffer.byteLength;
    for (let i = 0; i < 20_000; i++) {
      const e = new wasm.G722Encoder();
      const d = new wasm.G722Decoder();
      e.destroy();
      d.destroy();
    }
    expect(core.memory.buffer.byteLength).toBe(before);
  });
});
