import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { type CoreExports, dsp } from './wasm.ts';

/**
 * G.711 µ-law and A-law through the WebAssembly core (assembly/g711.ts).
 *
 * Encoding rounds each 16-bit sample to the nearest decodable level; decoding
 * is the standard's tables (ITU-T G.711 Tables 1a, 2a). Any length is
 * accepted: samples pass through scratch buffers in WebAssembly memory,
 * allocated once per thread on first use, in chunks of `CHUNK_SAMPLES`; a
 * 20 ms frame is one chunk, one bulk copy in and one out. Every call
 * processes min(count, input length, output length) items (`count` defaults
 * to the input's length, so a caller can pass the first bytes of a larger
 * packet store) and returns that count; none allocates or throws on a frame.
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

// This thread's scratch (CHUNK_SAMPLES of PCM and as many codes) and kernels,
// in module variables: the per-frame path reads them without an indirection.
let pcm16: WasmBuffer<Int16Array> | undefined;
let codes8: WasmBuffer<Uint8Array>;
let kUlawEncode: Kernel;
let kUlawDecode: Kernel;
let kAlawEncode: Kernel;
let kAlawDecode: Kernel;

/** Allocates (once per thread): the core instance and the scratch buffers. */
function init(): WasmBuffer<Int16Array> {
  const core = dsp<G711Exports>();
  const scratch = new KernelMemory(core, 'G.711 scratch');
  codes8 = scratch.u8(CHUNK_SAMPLES);
  kUlawEncode = core.g711UlawEncode;
  kUlawDecode = core.g711UlawDecode;
  kAlawEncode = core.g711AlawEncode;
  kAlawDecode = core.g711AlawDecode;
  pcm16 = scratch.i16(CHUNK_SAMPLES);
  return pcm16;
}

/** Items a call processes: min(count, input, output), 0 for a count that is not positive (or NaN). */
function itemsOf(count: number, input: number, output: number): number {
  const n = count >= input ? input : count;
  const m = n >= output ? output : n;
  return m > 0 ? m : 0;
}

// Inputs longer than a chunk (whole files) go round these loops; frames take
// the exported functions' straight path, one per law so that each calls its
// kernel from a call site of its own (a site shared by two kernels is slower).
function encodeChunks(kernel: Kernel, pcm: Int16Array, out: Uint8Array, n: number): number {
  const p = pcm16!;
  const c = codes8;
  for (let done = 0; done < n; ) {
    const chunk = p.writeChunk(pcm, done, Math.min(CHUNK_SAMPLES, n - done));
    kernel(p.ptr, chunk, c.ptr);
    done += c.read(out, chunk, done);
  }
  return n;
}

function decodeChunks(kernel: Kernel, codes: Uint8Array, out: Int16Array, n: number): number {
  const p = pcm16!;
  const c = codes8;
  for (let done = 0; done < n; ) {
    const chunk = c.writeChunk(codes, done, Math.min(CHUNK_SAMPLES, n - done));
    kernel(c.ptr, chunk, p.ptr);
    done += p.read(out, chunk, done);
  }
  return n;
}

/** Encodes min(count, pcm.length, out.length) samples to µ-law; returns that count. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length): number {
  const p = pcm16 ?? init();
  const n = itemsOf(count, pcm.length, out.length);
  if (n > CHUNK_SAMPLES) return encodeChunks(kUlawEncode, pcm, out, n);
  p.write(pcm, n);
  kUlawEncode(p.ptr, n, codes8.ptr);
  return codes8.read(out, n);
}

/** Decodes min(count, codes.length, out.length) µ-law codes; returns that count. */
export function ulawDecode(codes: Uint8Array, out: Int16Array, count = codes.length): number {
  const p = pcm16 ?? init();
  const n = itemsOf(count, codes.length, out.length);
  if (n > CHUNK_SAMPLES) return decodeChunks(kUlawDecode, codes, out, n);
  codes8.write(codes, n);
  kUlawDecode(codes8.ptr, n, p.ptr);
  return p.read(out, n);
}

/** Encodes min(count, pcm.length, out.length) samples to A-law; returns that count. */
export function alawEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length): number {
  const p = pcm16 ?? init();
  const n = itemsOf(count, pcm.length, out.length);
  if (n > CHUNK_SAMPLES) return encodeChunks(kAlawEncode, pcm, out, n);
  p.write(pcm, n);
  kAlawEncode(p.ptr, n, codes8.ptr);
  return codes8.read(out, n);
}

/** Decodes min(count, codes.length, out.length) A-law codes; returns that count. */
export function alawDecode(codes: Uint8Array, out: Int16Array, count = codes.length): number {
  const p = pcm16 ?? init();
  const n = itemsOf(count, codes.length, out.length);
  if (n > CHUNK_SAMPLES) return decodeChunks(kAlawDecode, codes, out, n);
  codes8.write(codes, n);
  kAlawDecode(codes8.ptr, n, p.ptr);
  return p.read(out, n);
}
