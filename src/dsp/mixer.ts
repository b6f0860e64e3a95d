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
 * (constructor, `setGain`) throw RangeError on bad arguments.
 */
export class Mixer {
  readonly maxInputs: number;
  readonly samplesPerFrame: number;
  readonly #core: MixerExports;
  readonly #view: DspView;
  #state: number;
  readonly #inputs: Int32Array;
  readonly #outputs: Int32Array;
  readonly #mix: number;
  // Subarray views of every buffer, re-made only when the memory has grown
  // (the one time the per-frame path allocates), so copies are TypedArray.set.
  #viewsOver: Int16Array | undefined;
  readonly #inputViews: Int16Array[] = [];
  readonly #outputViews: Int16Array[] = [];
  #mixView: Int16Array | undefined;

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
    this.#state = core.mixerCreate(maxInputs, samplesPerFrame);
    // Element indexes (int16) of every buffer, fixed for the mixer's life.
    this.#inputs = new Int32Array(maxInputs);
    this.#outputs = new Int32Array(maxInputs);
    for (let i = 0; i < maxInputs; i++) {
      this.#inputs[i] = core.mixerInput(this.#state, i) >> 1;
      this.#outputs[i] = core.mixerOutput(this.#state, i) >> 1;
    }
    this.#mix = core.mixerMixOutput(this.#state) >> 1;
  }

  /** Sets input i's linear gain, 0..16 (−∞..+24 dB); all gains start at 1. */
  setGain(i: number, gain: number): void {
    this.#checkIndex(i);
    if (!(gain >= 0 && gain <= MIXER_MAX_GAIN)) {
      throw new RangeError(`gain must be a number in 0..${MIXER_MAX_GAIN} [input:${i}, gain:${gain}]`);
    }
    this.#core.mixerSetGain(this.#state, i, gain);
  }

  /** Input i's gain as the kernel holds it (f32). */
  gain(i: number): number {
    this.#checkIndex(i);
    return this.#core.mixerGain(this.#state, i);
  }

  /** The whole WebAssembly memory as int16, current after any growth. */
  get heap(): Int16Array {
    this.#view.refresh();
    return this.#view.i16;
  }

  /** Index in `heap` of input i's first sample (−1 when out of range). */
  inputIndex(i: number): number {
    return i >= 0 && i < this.maxInputs ? this.#inputs[i]! : -1;
  }

  /** Index in `heap` of output i's first sample (−1 when out of range). */
  outputIndex(i: number): number {
    return i >= 0 && i < this.maxInputs ? this.#outputs[i]! : -1;
  }

  /** Index in `heap` of the full mix's first sample. */
  get mixIndex(): number {
    return this.#mix;
  }

  /** A view of input i (stale once the memory grows, see the class comment). */
  input(i: number): Int16Array {
    this.#checkIndex(i);
    this.#refreshViews();
    return this.#inputViews[i]!;
  }

  /** A view of output i (stale once the memory grows). */
  output(i: number): Int16Array {
    this.#checkIndex(i);
    this.#refreshViews();
    return this.#outputViews[i]!;
  }

  /**
   * Copies a frame into input i: a shorter frame is padded with silence, a
   * longer one cut to `samplesPerFrame`. Returns the samples copied (0 for an
   * index out of range or after `destroy`).
   */
  copyIn(i: number, frame: Int16Array): number {
    if (this.#state === 0 || !(i >= 0 && i < this.maxInputs)) return 0;
    this.#refreshViews();
    const into = this.#inputViews[i]!;
    const spf = this.samplesPerFrame;
    if (frame.length === spf) {
      into.set(frame);
      return spf;
    }
    if (frame.length > spf) {
      for (let k = 0; k < spf; k++) into[k] = frame[k]!;
      return spf;
    }
    into.set(frame);
    into.fill(0, frame.length);
    return frame.length;
  }

  /**
   * mixMinusOne: mixes the first `count` inputs (clamped to 0..maxInputs):
   * every member's output and the full mix, from one sum. Returns the inputs
   * mixed.
   */
  mixMinusOne(count: number): number {
    if (this.#state === 0) return 0;
    return this.#core.mixerMixMinusOne(this.#state, count | 0);
  }

  /** Only the full mix of the first `count` inputs. Returns the inputs mixed. */
  mix(count: number): number {
    if (this.#state === 0) return 0;
    return this.#core.mixerMix(this.#state, count | 0);
  }

  /** Copies output i of the last `mixMinusOne` into `out` (up to its length); returns the samples copied. */
  copyOut(i: number, out: Int16Array): number {
    if (this.#state === 0 || !(i >= 0 && i < this.maxInputs)) return 0;
    this.#refreshViews();
    return this.#copy(this.#outputViews[i]!, out);
  }

  /** Copies the full mix of the last `mixMinusOne` or `mix` into `out`; returns the samples copied. */
  copyMix(out: Int16Array): number {
    if (this.#state === 0) return 0;
    this.#refreshViews();
    return this.#copy(this.#mixView!, out);
  }

  /** Frees the mixer's WebAssembly memory; safe to call twice. */
  destroy(): void {
    if (this.#state !== 0) {
      this.#core.mixerDestroy(this.#state);
      this.#state = 0;
    }
  }

  #copy(from: Int16Array, out: Int16Array): number {
    const spf = this.samplesPerFrame;
    if (out.length >= spf) {
      out.set(from);
      return spf;
    }
    for (let k = 0; k < out.length; k++) out[k] = from[k]!;
    return out.length;
  }

  #refreshViews(): void {
    this.#view.refresh();
    const heap = this.#view.i16;
    if (heap === this.#viewsOver) return;
    this.#viewsOver = heap;
    const spf = this.samplesPerFrame;
    for (let i = 0; i < this.maxInputs; i++) {
      this.#inputViews[i] = heap.subarray(this.#inputs[i]!, this.#inputs[i]! + spf);
      this.#outputViews[i] = heap.subarray(this.#outputs[i]!, this.#outputs[i]! + spf);
    }
    this.#mixView = heap.subarray(this.#mix, this.#mix + spf);
  }

  #checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.maxInputs) {
      throw new RangeError(`input index out of range [input:${i}, maxInputs:${this.maxInputs}]`);
    }
    if (this.#state === 0) throw new Error(`mixer destroyed [input:${i}]`);
  }
}
