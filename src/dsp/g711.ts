import { type CoreExports, type DspView, dsp, viewOf } from './wasm.ts';

/**
 * G.711 µ-law and A-law through the WebAssembly core (assembly/g711.ts).
 *
 * Encoding rounds each 16-bit sample to the nearest decodable level; decoding
 * is the standard's tables (ITU-T G.711 Tables 1a, 2a). Any length is
 * accepted: samples pass through scratch buffers in WebAssembly memory,
 * allocated once per thread on first use, in chunks of `CHUNK_SAMPLES`.
 * Every call processes min(input length, output length) items and returns
 * that count; none allocates or throws.
 */

/** µ-law code of 0 (0x7F decodes to 0 too): fills silent payloads. */
export const G711_PAYLOAD_SILENCE_ULAW = 0xff;
/** A-law has no 0; 0xD5 decodes to +8, the nearest level. */
export const G711_PAYLOAD_SILENCE_ALAW = 0xd5;

interface G711Exports extends CoreExports {
  g711UlawEncode(src: number, n: number, dst: number): number;
  g711UlawDecode(src: number, n: number, dst: number): number;
  g711AlawEncode(src: number, n: number, dst: number): number;
  g711AlawDecode(src: number, n: number, dst: number): number;
}

type Kernel = (src: number, n: number, dst: number) => number;

/** Samples per pass: 20 ms frames at any rate fit in one. */
const CHUNK_SAMPLES = 4096;

/** This thread's scratch: `pcmPtr` holds CHUNK_SAMPLES i16, `codesPtr` as many bytes. */
interface Scratch {
  readonly view: DspView;
  readonly pcmPtr: number;
  readonly codesPtr: number;
  readonly ulawEncode: Kernel;
  readonly ulawDecode: Kernel;
  readonly alawEncode: Kernel;
  readonly alawDecode: Kernel;
}

let scratch: Scratch | undefined;

/** Allocates (once per thread): the core instance and the scratch buffers. */
function init(): Scratch {
  const core = dsp<G711Exports>();
  scratch = {
    view: viewOf(core),
    pcmPtr: core.alloc(CHUNK_SAMPLES * 2),
    codesPtr: core.alloc(CHUNK_SAMPLES),
    ulawEncode: core.g711UlawEncode,
    ulawDecode: core.g711UlawDecode,
    alawEncode: core.g711AlawEncode,
    alawDecode: core.g711AlawDecode,
  };
  return scratch;
}

function encodeWith(s: Scratch, kernel: Kernel, pcm: Int16Array, out: Uint8Array): number {
  const n = Math.min(pcm.length, out.length);
  const view = s.view;
  const pcmAt = s.pcmPtr >> 1;
  const codesAt = s.codesPtr;
  for (let done = 0; done < n; ) {
    const count = Math.min(CHUNK_SAMPLES, n - done);
    view.refresh();
    const i16 = view.i16;
    // A whole input copies in one native call; parts of one need a view, which
    // would allocate, so they are copied element by element.
    if (count === pcm.length) i16.set(pcm, pcmAt);
    else for (let k = 0; k < count; k++) i16[pcmAt + k] = pcm[done + k]!;
    kernel(s.pcmPtr, count, codesAt);
    const u8 = view.u8;
    for (let k = 0; k < count; k++) out[done + k] = u8[codesAt + k]!;
    done += count;
  }
  return n;
}

function decodeWith(s: Scratch, kernel: Kernel, codes: Uint8Array, out: Int16Array): number {
  const n = Math.min(codes.length, out.length);
  const view = s.view;
  const pcmAt = s.pcmPtr >> 1;
  const codesAt = s.codesPtr;
  for (let done = 0; done < n; ) {
    const count = Math.min(CHUNK_SAMPLES, n - done);
    view.refresh();
    const u8 = view.u8;
    if (count === codes.length) u8.set(codes, codesAt);
    else for (let k = 0; k < count; k++) u8[codesAt + k] = codes[done + k]!;
    kernel(codesAt, count, s.pcmPtr);
    const i16 = view.i16;
    for (let k = 0; k < count; k++) out[done + k] = i16[pcmAt + k]!;
    done += count;
  }
  return n;
}

/** Encodes min(pcm.length, out.length) samples to µ-law; returns that count. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array): number {
  const s = scratch ?? init();
  return encodeWith(s, s.ulawEncode, pcm, out);
}

/** Decodes min(codes.length, out.length) µ-law codes; returns that count. */
export function ulawDecode(codes: Uint8Array, out: Int16Array): number {
  const s = scratch ?? init();
  return decodeWith(s, s.ulawDecode, codes, out);
}

/** Encodes min(pcm.length, out.length) samples to A-law; returns that count. */
export function alawEncode(pcm: Int16Array, out: Uint8Array): number {
  const s = scratch ?? init();
  return encodeWith(s, s.alawEncode, pcm, out);
}

/** Decodes min(codes.length, out.length) A-law codes; returns that count. */
export function alawDecode(codes: Uint8Array, out: Int16Array): number {
  const s = scratch ?? init();
  return decodeWith(s, s.alawDecode, codes, out);
}
