import { type CoreExports, type DspView, dsp, viewOf } from './wasm.ts';

/**
 * G.722 at 64 kbit/s through the WebAssembly core (assembly/g722.ts): one
 * encoder or decoder per stream, its state in WebAssembly memory, bit-exact
 * with the standard's arithmetic (ITU-T G.722).
 *
 * Audio passes through scratch buffers in WebAssembly memory shared by every
 * coder on the thread (allocated once, on first use), in chunks of
 * `CHUNK_PAIRS` sample pairs. `encode` and `decode` never allocate or throw:
 * they do what fits in the output and return the count written. A coder
 * used after `destroy()` writes nothing and returns 0.
 */

interface G722Exports extends CoreExports {
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

/** This thread's scratch: `pcmPtr` holds 2·CHUNK_PAIRS i16, `codesPtr` CHUNK_PAIRS bytes. */
interface Scratch {
  readonly core: G722Exports;
  readonly view: DspView;
  readonly pcmPtr: number;
  readonly codesPtr: number;
}

let scratch: Scratch | undefined;

function init(): Scratch {
  const core = dsp<G722Exports>();
  scratch = {
    core,
    view: viewOf(core),
    pcmPtr: core.alloc(CHUNK_PAIRS * 4),
    codesPtr: core.alloc(CHUNK_PAIRS),
  };
  return scratch;
}

/** Frees the state of a coder dropped without destroy(), so a long-running process does not leak. */
const orphans = new FinalizationRegistry<() => void>((free) => free());

/** A 64 kbit/s G.722 encoder for one stream: 16 kHz samples in, one byte per pair out. */
export class G722Encoder {
  readonly #s: Scratch;
  #state: number;

  /** Allocates the stream's state in WebAssembly memory. */
  constructor() {
    this.#s = scratch ?? init();
    const core = this.#s.core;
    const state = core.g722EncoderCreate();
    this.#state = state;
    orphans.register(this, () => core.g722EncoderDestroy(state), this);
  }

  /**
   * Encodes min(floor(pcm.length / 2), out.length) sample pairs and returns
   * that count of bytes written. An odd last sample is not encoded (and not
   * kept for the next call): give whole pairs, as 20 ms frames are.
   */
  encode(pcm16k: Int16Array, out: Uint8Array): number {
    const state = this.#state;
    if (state === 0) return 0;
    const pairs = Math.min(pcm16k.length >> 1, out.length);
    const { core, view, pcmPtr, codesPtr } = this.#s;
    const pcmAt = pcmPtr >> 1;
    for (let done = 0; done < pairs; ) {
      const count = Math.min(CHUNK_PAIRS, pairs - done);
      const samples = 2 * count;
      view.refresh();
      const i16 = view.i16;
      // A whole input copies in one native call; a part would need a view,
      // which allocates, so it is copied element by element.
      if (samples === pcm16k.length) i16.set(pcm16k, pcmAt);
      else for (let k = 0, from = 2 * done; k < samples; k++) i16[pcmAt + k] = pcm16k[from + k]!;
      core.g722Encode(state, pcmPtr, samples, codesPtr);
      const u8 = view.u8;
      for (let k = 0; k < count; k++) out[done + k] = u8[codesPtr + k]!;
      done += count;
    }
    return pairs;
  }

  /** Back to the initial state, as a new encoder (a new stream on the same object). */
  reset(): void {
    if (this.#state !== 0) this.#s.core.g722EncoderReset(this.#state);
  }

  /** Frees the state; safe to call twice. */
  destroy(): void {
    if (this.#state === 0) return;
    orphans.unregister(this);
    this.#s.core.g722EncoderDestroy(this.#state);
    this.#state = 0;
  }
}

/** A 64 kbit/s G.722 decoder for one stream: one byte in, two 16 kHz samples out. */
export class G722Decoder {
  readonly #s: Scratch;
  #state: number;

  /** Allocates the stream's state in WebAssembly memory. */
  constructor() {
    this.#s = scratch ?? init();
    const core = this.#s.core;
    const state = core.g722DecoderCreate();
    this.#state = state;
    orphans.register(this, () => core.g722DecoderDestroy(state), this);
  }

  /**
   * Decodes min(bytes.length, floor(out.length / 2)) bytes and returns the
   * samples written, twice that.
   */
  decode(bytes: Uint8Array, out: Int16Array): number {
    const state = this.#state;
    if (state === 0) return 0;
    const n = Math.min(bytes.length, out.length >> 1);
    const { core, view, pcmPtr, codesPtr } = this.#s;
    const pcmAt = pcmPtr >> 1;
    for (let done = 0; done < n; ) {
      const count = Math.min(CHUNK_PAIRS, n - done);
      view.refresh();
      const u8 = view.u8;
      if (count === bytes.length) u8.set(bytes, codesPtr);
      else for (let k = 0; k < count; k++) u8[codesPtr + k] = bytes[done + k]!;
      core.g722Decode(state, codesPtr, count, pcmPtr);
      const i16 = view.i16;
      for (let k = 0, to = 2 * done, samples = 2 * count; k < samples; k++) out[to + k] = i16[pcmAt + k]!;
      done += count;
    }
    return 2 * n;
  }

  /** Back to the initial state, as a new decoder. */
  reset(): void {
    if (this.#state !== 0) this.#s.core.g722DecoderReset(this.#state);
  }

  /** Frees the state; safe to call twice. */
  destroy(): void {
    if (this.#state === 0) return;
    orphans.unregister(this);
    this.#s.core.g722DecoderDestroy(this.#state);
    this.#state = 0;
  }
}
