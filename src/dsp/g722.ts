import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { type CoreExports, dsp } from './wasm.ts';

/**
 * G.722 at 64 kbit/s through the WebAssembly core (assembly/g722.ts): one
 * encoder or decoder per stream, its state in WebAssembly memory, bit-exact
 * with the standard's arithmetic (ITU-T G.722).
 *
 * Audio passes through scratch buffers in WebAssembly memory shared by every
 * coder on the thread (allocated once, on first use), in chunks of
 * `CHUNK_PAIRS` sample pairs; a 20 ms frame is one chunk, one bulk copy in
 * and one out. `encode` and `decode` never allocate or throw: they do what
 * fits in the output and return the count written. A coder used after
 * `destroy()` writes nothing and returns 0; one dropped without it has its
 * state freed once it is collected (KernelMemory).
 */

export interface G722Exports extends CoreExports {
  g722EncoderCreate(): number;
  g722EncoderReset(state: number): void;
  g722EncoderDestroy(state: number): void;
  g722Encode(state: number, pcm: number, samples: number, out: number): number;
  g722DecoderCreate(): number;
  g722DecoderReset(state: number): void;
  g722DecoderDestroy(state: number): void;
  g722Decode(state: number, src: number, bytes: number, out: number): number;
}

/** Pairs (bytes) per pass; a 20 ms frame (160 pairs) fits in one. */
const CHUNK_PAIRS = 2048;

/** An instance's scratch, shared by its coders: 2·CHUNK_PAIRS samples of PCM, CHUNK_PAIRS codes. */
interface Scratch {
  readonly core: G722Exports;
  readonly pcm: WasmBuffer<Int16Array>;
  readonly codes: WasmBuffer<Uint8Array>;
}

/** Scratch by instance: the thread's, and any a test isolates. */
const scratches = new WeakMap<G722Exports, Scratch>();

/** Allocates (once per instance): the scratch buffers. */
function scratchOf(core: G722Exports): Scratch {
  let s = scratches.get(core);
  if (s === undefined) {
    const memory = new KernelMemory(core, 'G.722 scratch');
    s = { core, pcm: memory.i16(2 * CHUNK_PAIRS), codes: memory.u8(CHUNK_PAIRS) };
    scratches.set(core, s);
  }
  return s;
}

/** A 64 kbit/s G.722 encoder for one stream: 16 kHz samples in, one byte per pair out. */
export class G722Encoder {
  readonly #s: Scratch;
  readonly #memory: KernelMemory;

  /** Allocates the stream's state in WebAssembly memory (`core`: this thread's DSP instance unless a test isolates one). */
  constructor(core: G722Exports = dsp<G722Exports>()) {
    const s = scratchOf(core);
    this.#s = s;
    this.#memory = new KernelMemory(s.core, 'G722Encoder', this);
    this.#memory.adopt(s.core.g722EncoderCreate(), (state) => s.core.g722EncoderDestroy(state));
  }

  /**
   * Encodes min(floor(pcm.length / 2), out.length) sample pairs and returns
   * that count of bytes written. An odd last sample is not encoded (and not
   * kept for the next call): give whole pairs, as 20 ms frames are.
   */
  encode(pcm16k: Int16Array, out: Uint8Array): number {
    const state = this.#memory.state;
    if (state === 0) return 0;
    const pairs = Math.min(pcm16k.length >> 1, out.length);
    if (!(pairs > 0)) return 0;
    const { core, pcm, codes } = this.#s;
    if (pairs <= CHUNK_PAIRS) {
      pcm.write(pcm16k, 2 * pairs);
      core.g722Encode(state, pcm.ptr, 2 * pairs, codes.ptr);
      return codes.read(out, pairs);
    }
    for (let done = 0; done < pairs; ) {
      const count = Math.min(CHUNK_PAIRS, pairs - done);
      pcm.writeChunk(pcm16k, 2 * done, 2 * count);
      core.g722Encode(state, pcm.ptr, 2 * count, codes.ptr);
      done += codes.read(out, count, done);
    }
    return pairs;
  }

  /** Back to the initial state, as a new encoder (a new stream on the same object). */
  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#s.core.g722EncoderReset(state);
  }

  /** Frees the state; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}

/** A 64 kbit/s G.722 decoder for one stream: one byte in, two 16 kHz samples out. */
export class G722Decoder {
  readonly #s: Scratch;
  readonly #memory: KernelMemory;

  /** Allocates the stream's state in WebAssembly memory (`core`: this thread's DSP instance unless a test isolates one). */
  constructor(core: G722Exports = dsp<G722Exports>()) {
    const s = scratchOf(core);
    this.#s = s;
    this.#memory = new KernelMemory(s.core, 'G722Decoder', this);
    this.#memory.adopt(s.core.g722DecoderCreate(), (state) => s.core.g722DecoderDestroy(state));
  }

  /**
   * Decodes min(count, bytes.length, floor(out.length / 2)) bytes and returns
   * the samples written, twice that. `count` (default: all of `bytes`) lets
   * a caller pass the first bytes of a larger packet store.
   */
  decode(bytes: Uint8Array, out: Int16Array, count = bytes.length): number {
    const state = this.#memory.state;
    if (state === 0) return 0;
    let n = count >= bytes.length ? bytes.length : count;
    if (n > out.length >> 1) n = out.length >> 1;
    if (!(n > 0)) return 0;
    const { core, pcm, codes } = this.#s;
    if (n <= CHUNK_PAIRS) {
      codes.write(bytes, n);
      core.g722Decode(state, codes.ptr, n, pcm.ptr);
      return pcm.read(out, 2 * n);
    }
    for (let done = 0; done < n; ) {
      const chunk = codes.writeChunk(bytes, done, Math.min(CHUNK_PAIRS, n - done));
      core.g722Decode(state, codes.ptr, chunk, pcm.ptr);
      pcm.read(out, 2 * chunk, 2 * done);
      done += chunk;
    }
    return 2 * n;
  }

  /** Back to the initial state, as a new decoder. */
  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#s.core.g722DecoderReset(state);
  }

  /** Frees the state; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}
