import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { dsp, viewOf, type CoreExports, type DspView } from './wasm.ts';
import { MIXER_MAX_GAIN, MIXER_MAX_INPUTS, MIXER_MAX_SAMPLES } from './reference/mixer.ts';

export { MIXER_KNEE, MIXER_MAX_GAIN, MIXER_MAX_INPUTS, MIXER_MAX_SAMPLES } from './reference/mixer.ts';

/** The mixer kernel's exports (assembly/mixer.ts). */
export interface MixerExports extends CoreExports {
  mixerCreate(maxInputs: number, samplesPerFrame: number): number;
  mixerDestroy(state: number): void;
  mixerInput(state: number, i: number): number;
  mixerOutput(state: number, i: number): number;
  mixerMixOutput(state: number): number;
  mixerSetGain(state: number, i: number, gain: number): number;
  mixerGain(state: number, i: number): number;
  mixerMixMinusOne(state: number, count: number): number;
  mixerMix(state: number, count: number): number;
}

/**
 * A conference mixer: up to `maxInputs` members' frames in, and in one pass
 * every member's mix-minus (everyone but itself) plus the full mix for
 * recording. Sums are soft-limited (transparent below −6 dBFS, approaching
 * full scale smoothly above it), so a loud conference never wraps or clips
 * hard. Inputs, outputs and state live in WebAssembly memory.
 *
 * Per frame, without allocating:
 *
 * ```ts
 * for (let i = 0; i < members; i++) mixer.copyIn(i, frames[i]);
 * mixer.mixMinusOne(members);
 * for (let i = 0; i < members; i++) mixer.copyOut(i, outFrames[i]);
 * mixer.copyMix(recordFrame);
 * ```
 *
 * To skip the copies, write and read WebAssembly memory in place: `heap` is
 * the whole memory as int16 (always current: it is re-made only when the
 * memory has grown), and input i's samples are `heap[inputIndex(i) + k]`.
 * `input(i)` and `output(i)` return subarray views instead; they go stale
 * when the memory grows (whenever something on this thread creates DSP
 * state), so ask for them again after any creation rather than keeping them.
 *
 * Per-frame methods never throw: out-of-range indexes and counts are clamped
 * or ignored, and they return what they did. Control-time methods
 * (constructor, `setGain`) throw RangeError on bad arguments, and an Error
 * after `destroy()`. A mixer dropped without `destroy()` is freed once
 * collected (KernelMemory).
 */
export class Mixer {
  readonly maxInputs: number;
  readonly samplesPerFrame: number;
  readonly #core: MixerExports;
  readonly #view: DspView;
  readonly #memory: KernelMemory;
  readonly #inputs: Array<WasmBuffer<Int16Array>> = [];
  readonly #outputs: Array<WasmBuffer<Int16Array>> = [];
  readonly #mix: WasmBuffer<Int16Array>;

  constructor(maxInputs: number, samplesPerFrame: number, core: MixerExports = dsp<MixerExports>()) {
    if (!Number.isInteger(maxInputs) || maxInputs < 1 || maxInputs > MIXER_MAX_INPUTS) {
      throw new RangeError(`maxInputs must be an integer in 1..${MIXER_MAX_INPUTS} [maxInputs:${maxInputs}]`);
    }
    if (!Number.isInteger(samplesPerFrame) || samplesPerFrame < 1 || samplesPerFrame > MIXER_MAX_SAMPLES) {
      throw new RangeError(
        `samplesPerFrame must be an integer in 1..${MIXER_MAX_SAMPLES} [samplesPerFrame:${samplesPerFrame}]`,
      );
    }
    this.maxInputs = maxInputs;
    this.samplesPerFrame = samplesPerFrame;
    this.#core = core;
    this.#view = viewOf(core);
    const memory = new KernelMemory(core, 'mixer', this);
    this.#memory = memory;
    const state = memory.adopt(core.mixerCreate(maxInputs, samplesPerFrame), (ptr) => core.mixerDestroy(ptr));
    // Every buffer sits in the state block, at addresses fixed for the mixer's life.
    for (let i = 0; i < maxInputs; i++) {
      this.#inputs.push(memory.i16At(core.mixerInput(state, i), samplesPerFrame));
      this.#outputs.push(memory.i16At(core.mixerOutput(state, i), samplesPerFrame));
    }
    this.#mix = memory.i16At(core.mixerMixOutput(state), samplesPerFrame);
  }

  /** Sets input i's linear gain, 0..16 (−∞..+24 dB); all gains start at 1. */
  setGain(i: number, gain: number): void {
    this.#checkIndex(i);
    if (!(gain >= 0 && gain <= MIXER_MAX_GAIN)) {
      throw new RangeError(`gain must be a number in 0..${MIXER_MAX_GAIN} [input:${i}, gain:${gain}]`);
    }
    this.#core.mixerSetGain(this.#memory.state, i, gain);
  }

  /** Input i's gain as the kernel holds it (f32). */
  gain(i: number): number {
    this.#checkIndex(i);
    return this.#core.mixerGain(this.#memory.state, i);
  }

  /** The whole WebAssembly memory as int16, current after any growth. */
  get heap(): Int16Array {
    this.#view.refresh();
    return this.#view.i16;
  }

  /** Index in `heap` of input i's first sample (−1 when out of range). */
  inputIndex(i: number): number {
    return i >= 0 && i < this.maxInputs ? this.#inputs[i]!.ptr >> 1 : -1;
  }

  /** Index in `heap` of output i's first sample (−1 when out of range). */
  outputIndex(i: number): number {
    return i >= 0 && i < this.maxInputs ? this.#outputs[i]!.ptr >> 1 : -1;
  }

  /** Index in `heap` of the full mix's first sample. */
  get mixIndex(): number {
    return this.#mix.ptr >> 1;
  }

  /** A view of input i (stale once the memory grows, see the class comment). */
  input(i: number): Int16Array {
    this.#checkIndex(i);
    return this.#inputs[i]!.array;
  }

  /** A view of output i (stale once the memory grows). */
  output(i: number): Int16Array {
    this.#checkIndex(i);
    return this.#outputs[i]!.array;
  }

  /**
   * Copies a frame into input i: a shorter frame is padded with silence, a
   * longer one cut to `samplesPerFrame`. Returns the samples copied (0 for an
   * index out of range or after `destroy`).
   */
  copyIn(i: number, frame: Int16Array): number {
    if (this.#memory.state === 0 || !(i >= 0 && i < this.maxInputs)) return 0;
    const into = this.#inputs[i]!;
    const n = into.write(frame);
    into.clearFrom(n);
    return n;
  }

  /**
   * mixMinusOne: mixes the first `count` inputs (clamped to 0..maxInputs):
   * every member's output and the full mix, from one sum. Returns the inputs
   * mixed.
   */
  mixMinusOne(count: number): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.mixerMixMinusOne(state, count | 0);
  }

  /** Only the full mix of the first `count` inputs. Returns the inputs mixed. */
  mix(count: number): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.mixerMix(state, count | 0);
  }

  /** Copies output i of the last `mixMinusOne` into `out` (up to its length); returns the samples copied. */
  copyOut(i: number, out: Int16Array): number {
    if (this.#memory.state === 0 || !(i >= 0 && i < this.maxInputs)) return 0;
    return this.#outputs[i]!.read(out);
  }

  /** Copies the full mix of the last `mixMinusOne` or `mix` into `out`; returns the samples copied. */
  copyMix(out: Int16Array): number {
    if (this.#memory.state === 0) return 0;
    return this.#mix.read(out);
  }

  /** Frees the mixer's WebAssembly memory; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }

  #checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.maxInputs) {
      throw new RangeError(`input index out of range [input:${i}, maxInputs:${this.maxInputs}]`);
    }
    this.#memory.assertLive(`input:${i}`);
  }
}
