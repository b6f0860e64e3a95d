import { type CoreExports, type DspView, dsp, viewOf } from './wasm.ts';

/**
 * Sample-rate conversion between the engine's rates through the WebAssembly
 * core (assembly/resampler.ts): a polyphase windowed-sinc filter, flat to
 * ±0.1 dB up to 0.4 × the lower rate, with images and aliases above 0.5 ×
 * the lower rate at least 70 dB down.
 *
 * One instance per stream: the filter history and phase carry across calls,
 * so cutting the input into calls of any sizes gives the same output. The
 * output lags the input by `delaySamples` (output-rate samples, a whole
 * number). The filter tables are shared by all streams of a pair on a thread.
 *
 * `process()` allocates nothing and never throws: input passes through
 * buffers in WebAssembly memory allocated by the constructor, in chunks of
 * CHUNK_INPUT_SAMPLES.
 */

/** Rates the engine carries (DESIGN.md, audio frames). */
export const SUPPORTED_RATES_HZ = [8000, 16000, 24000, 48000] as const;

export type SupportedRateHz = (typeof SUPPORTED_RATES_HZ)[number];

interface ResamplerExports extends CoreExports {
  resamplerCreate(fromHz: number, toHz: number, maxInputSamples: number): number;
  resamplerDestroy(state: number): void;
  resamplerReset(state: number): void;
  resamplerDelaySamples(state: number): number;
  resamplerProcess(state: number, src: number, n: number, dst: number, dstCapacity: number): number;
}

/** Input samples per kernel call: a 20 ms frame at the highest rate, so one frame at any rate is one call. */
const CHUNK_INPUT_SAMPLES = 960;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function isSupported(rateHz: number): boolean {
  return (SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz);
}

export class Resampler {
  readonly fromHz: number;
  readonly toHz: number;
  /**
   * Group delay in output samples, a whole number: what enters at time t
   * comes out as output sample t·toHz + delaySamples.
   */
  readonly delaySamples: number;

  readonly #core: ResamplerExports;
  readonly #view: DspView;
  readonly #chunkOutputSamples: number;
  #state: number;
  #inPtr: number;
  #outPtr: number;

  /** Allocates the stream's state and buffers in WebAssembly memory; throws RangeError for an unsupported rate. */
  constructor(fromHz: number, toHz: number) {
    if (!isSupported(fromHz) || !isSupported(toHz)) {
      throw new RangeError(
        `unsupported resampling rate [from:${fromHz}, to:${toHz}]: rates must be one of ${SUPPORTED_RATES_HZ.join(', ')} Hz`,
      );
    }
    this.fromHz = fromHz;
    this.toHz = toHz;
    this.#core = dsp<ResamplerExports>();
    this.#view = viewOf(this.#core);
    this.#chunkOutputSamples = Resampler.outputLength(fromHz, toHz, CHUNK_INPUT_SAMPLES);
    this.#state = this.#core.resamplerCreate(fromHz, toHz, CHUNK_INPUT_SAMPLES);
    if (this.#state === 0) throw new Error(`DSP core refused a resampler [from:${fromHz}, to:${toHz}]`);
    this.#inPtr = this.#core.alloc(CHUNK_INPUT_SAMPLES * 2);
    this.#outPtr = this.#core.alloc(this.#chunkOutputSamples * 2);
    this.delaySamples = this.#core.resamplerDelaySamples(this.#state);
  }

  /**
   * The most `process()` can write for `inputLength` input samples, whatever
   * came before: ⌈inputLength · toHz / fromHz⌉ (exact for whole 20 ms frames).
   */
  static outputLength(fromHz: number, toHz: number, inputLength: number): number {
    const g = gcd(fromHz, toHz);
    const l = toHz / g;
    const m = fromHz / g;
    return Math.ceil((inputLength * l) / m);
  }

  /**
   * Resamples `input` into `output`; returns the samples written. For whole
   * 20 ms frames that is input.length · toHz / fromHz. When `output` is too
   * small the rest is dropped and the stream stays in time. Allocates
   * nothing; returns 0 after destroy().
   */
  process(input: Int16Array, output: Int16Array): number {
    const state = this.#state;
    if (state === 0) return 0;
    const core = this.#core;
    const view = this.#view;
    const inAt = this.#inPtr >> 1;
    const outAt = this.#outPtr >> 1;
    let written = 0;
    for (let done = 0; done < input.length; ) {
      const count = Math.min(CHUNK_INPUT_SAMPLES, input.length - done);
      view.refresh();
      const i16 = view.i16;
      // A whole input copies in one native call; part of one would need a
      // subarray (an allocation), so it goes element by element.
      if (count === input.length) i16.set(input, inAt);
      else for (let k = 0; k < count; k++) i16[inAt + k] = input[done + k]!;
      const room = Math.min(this.#chunkOutputSamples, output.length - written);
      const made = core.resamplerProcess(state, this.#inPtr, count, this.#outPtr, room);
      const out = view.i16;
      for (let k = 0; k < made; k++) output[written + k] = out[outAt + k]!;
      written += made;
      done += count;
    }
    return written;
  }

  /** Starts the stream afresh (silent history), as if just constructed. */
  reset(): void {
    this.#core.resamplerReset(this.#state);
  }

  /** Frees the stream's WebAssembly memory; safe to call twice. */
  destroy(): void {
    if (this.#state === 0) return;
    this.#core.resamplerDestroy(this.#state);
    this.#core.free(this.#inPtr);
    this.#core.free(this.#outPtr);
    this.#state = 0;
    this.#inPtr = 0;
    this.#outPtr = 0;
  }
}
