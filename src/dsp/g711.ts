import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer, WasmElements } from './WasmBuffer.ts';
import { type CoreExports, dsp } from './wasm.ts';

/**
 * G.711 µ-law and A-law through the WebAssembly core (assembly/g711.ts).
 *
 * Encoding rounds each 16-bit sample to the nearest decodable level; decoding
 * is the standard's tables (ITU-T G.711 Tables 1a, 2a). Any length is
 * accepted: samples pass through scratch buffers in WebAssembly memory,
 * allocated once per thread on first use, in chunks of `CHUNK_SAMPLES`; a
 * 20 ms frame is one chunk, one bulk copy in and one out (a whole input of
 * up to a chunk is copied, a store's first `count` bytes with the rest). Every call
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

/** This thread's scratch (CHUNK_SAMPLES of PCM and as many codes) and kernels. */
interface Scratch {
  readonly pcm: WasmBuffer<Int16Array>;
  readonly codes: WasmBuffer<Uint8Array>;
  readonly ulawEncode: Kernel;
  readonly ulawDecode: Kernel;
  readonly alawEncode: Kernel;
  readonly alawDecode: Kernel;
}

let scratch: Scratch | undefined;

/** Allocates (once per thread): the core instance and the scratch buffers. */
function init(): Scratch {
  const core = dsp<G711Exports>();
  const memory = new KernelMemory(core, 'G.711 scratch');
  scratch = {
    pcm: memory.i16(CHUNK_SAMPLES),
    codes: memory.u8(CHUNK_SAMPLES),
    ulawEncode: core.g711UlawEncode,
    ulawDecode: core.g711UlawDecode,
    alawEncode: core.g711AlawEncode,
    alawDecode: core.g711AlawDecode,
  };
  return scratch;
}

/** Items a call processes: min(count, input, output); NaN for a NaN count. */
function itemsOf(count: number, input: number, output: number): number {
  const n = count >= input ? input : count;
  return n >= output ? output : n;
}

/** Inputs longer than the scratch (whole files, a long store): `n` items, a chunk at a time. */
function chunked<I extends WasmElements, O extends WasmElements>(
  kernel: Kernel,
  input: I,
  from: WasmBuffer<I>,
  out: O,
  to: WasmBuffer<O>,
  n: number,
): number {
  for (let done = 0; done < n; ) {
    const chunk = from.writeChunk(input, done, Math.min(CHUNK_SAMPLES, n - done));
    kernel(from.ptr, chunk, to.ptr);
    done += to.read(out, chunk, done);
  }
  return n;
}

// A frame is one pass: one bulk copy in, the kernel, one bulk copy out. The
// four functions read alike but are kept apart on purpose: a copy or a kernel
// call that only ever sees one element type and one kernel compiles to a
// direct call, while one shared by encoding and decoding does not, and at
// 30–60 ns of kernel per 20 ms frame that is a sixth of the wrapper's time
// (bench/g711.bench.ts).

/** Encodes min(count, pcm.length, out.length) samples to µ-law; returns that count. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length): number {
  const s = scratch ?? init();
  const n = itemsOf(count, pcm.length, out.length);
  if (!(n > 0)) return 0;
  if (n > CHUNK_SAMPLES || pcm.length > CHUNK_SAMPLES) return chunked(s.ulawEncode, pcm, s.pcm, out, s.codes, n);
  s.pcm.array.set(pcm);
  s.ulawEncode(s.pcm.ptr, n, s.codes.ptr);
  out.set(s.codes.head(n));
  return n;
}

/** Decodes min(count, codes.length, out.length) µ-law codes; returns that count. */
export function ulawDecode(codes: Uint8Array, out: Int16Array, count = codes.length): number {
  const s = scratch ?? init();
  const n = itemsOf(count, codes.length, out.length);
  if (!(n > 0)) return 0;
  if (n > CHUNK_SAMPLES || codes.length > CHUNK_SAMPLES) return chunked(s.ulawDecode, codes, s.codes, out, s.pcm, n);
  s.codes.array.set(codes);
  s.ulawDecode(s.codes.ptr, n, s.pcm.ptr);
  out.set(s.pcm.head(n));
  return n;
}

/** Encodes min(count, pcm.length, out.length) samples to A-law; returns that count. */
export function alawEncode(pcm: Int16Array, out: Uint8Array, count = pcm.length): number {
  const s = scratch ?? init();
  const n = itemsOf(count, pcm.length, out.length);
  if (!(n > 0)) return 0;
  if (n > CHUNK_SAMPLES || pcm.length > CHUNK_SAMPLES) return chunked(s.alawEncode, pcm, s.pcm, out, s.codes, n);
  s.pcm.array.set(pcm);
  s.alawEncode(s.pcm.ptr, n, s.codes.ptr);
  out.set(s.codes.head(n));
  return n;
}

/** Decodes min(count, codes.length, out.length) A-law codes; returns that count. */
export function alawDecode(codes: Uint8Array, out: Int16Array, count = codes.length): number {
  const s = scratch ?? init();
  const n = itemsOf(count, codes.length, out.length);
  if (!(n > 0)) return 0;
  if (n > CHUNK_SAMPLES || codes.length > CHUNK_SAMPLES) return chunked(s.alawDecode, codes, s.codes, out, s.pcm, n);
  s.codes.array.set(codes);
  s.alawDecode(s.codes.ptr, n, s.pcm.ptr);
  out.set(s.pcm.head(n));
  return n;
}
