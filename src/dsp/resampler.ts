import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { type CoreExports, dsp } from './wasm.ts';

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
 * CHUNK_INPUT_SAMPLES. A resampler dropped without `destroy()` is freed once
 * collected (KernelMemory).
 */

/** Rates the engine carries (DESIGN.md, audio frames). */
export const SUPPORTED_RATES_HZ = [8000, 16000, 24000, 48000] as const;

export type SupportedRateHz = (typeof SUPPORTED_RATES_HZ)[number];

export interface ResamplerExports extends CoreExports {
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
  readonly #memory: KernelMemory;
  readonly #input: WasmBuffer<Int16Array>;
  readonly #output: WasmBuffer<Int16Array>;

  /**
   * Allocates the stream's state and buffers in WebAssembly memory (`core`:
   * this thread's DSP instance unless a test isolates one); throws RangeError
   * for an unsupported rate.
   */
  constructor(fromHz: number, toHz: number, core: ResamplerExports = dsp<ResamplerExports>()) {
    if (!isSupported(fromHz) || !isSupported(toHz)) {
      throw new RangeError(
        `unsupported resampling rate [from:${fromHz}, to:${toHz}]: rates must be one of ${SUPPORTED_RATES_HZ.join(', ')} Hz`,
      );
    }
    this.fromHz = fromHz;
    this.toHz = toHz;
    this.#core = core;
    const memory = new KernelMemory(core, 'Resampler', this);
    this.#memory = memory;
    const state = memory.adopt(
      core.resamplerCreate(fromHz, toHz, CHUNK_INPUT_SAMPLES),
      (ptr) => core.resamplerDestroy(ptr),
      `from:${fromHz}, to:${toHz}`,
    );
    this.#input = memory.i16(CHUNK_INPUT_SAMPLES);
    this.#output = memory.i16(Resampler.outputLength(fromHz, toHz, CHUNK_INPUT_SAMPLES));
    this.delaySamples = core.resamplerDelaySamples(state);
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
    const state = this.#memory.state;
    if (state === 0) return 0;
    const core = this.#core;
    const from = this.#input;
    const to = this.#output;
    if (input.length <= CHUNK_INPUT_SAMPLES) {
      // A frame at any rate: one bulk copy in, one out.
      const count = from.write(input);
      const made = core.resamplerProcess(state, from.ptr, count, to.ptr, Math.min(to.length, output.length));
      return to.read(output, made);
    }
    let written = 0;
    for (let done = 0; done < input.length; ) {
      const count = from.writeChunk(input, done, CHUNK_INPUT_SAMPLES);
      const room = Math.min(to.length, output.length - written);
      const made = core.resamplerProcess(state, from.ptr, count, to.ptr, room);
      written += to.read(output, made, written);
      done += count;
    }
    return written;
  }

  /** Starts the stream afresh (silent history), as if just constructed. */
  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#core.resamplerReset(state);
  }

  /** Frees the stream's WebAssembly memory; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}

/**
 * A whole signal at another rate, trimmed of the filter's delay and flushed,
 * so output sample t is input time t (a file conversion, a post-call job).
 * Allocates: never on the real-time path.
 */
export function resampleWhole(samples: Int16Array, fromHz: number, toHz: number): Int16Array {
  if (fromHz === toHz) return samples;
  const r = new Resampler(fromHz, toHz);
  try {
    const wanted = Math.round((samples.length * toHz) / fromHz);
    const flush = Math.ceil(((r.delaySamples + 1) * fromHz) / toHz) + 1;
    const input = new Int16Array(samples.length + flush);
    input.set(samples);
    const out = new Int16Array(Resampler.outputLength(fromHz, toHz, input.length));
    const made = r.process(input, out);
    return out.slice(r.delaySamples, Math.min(made, r.delaySamples + wanted));
  } finally {
    r.destroy();
  }
}
