import { VAD_ENERGY_FLOOR_DBFS, vadSettings, type VadOptions, type VadSettings } from './reference/vad.ts';
import { dsp, viewOf, type CoreExports, type DspView } from './wasm.ts';

export { VAD_FRAMES_MS, VAD_RATES_HZ, type VadOptions } from './reference/vad.ts';

/** The VAD kernel's exports (assembly/vad.ts). */
export interface VadExports extends CoreExports {
  vadCreate(rateHz: number, frameMs: number, hangoverFrames: number, onsetFrames: number): number;
  vadDestroy(state: number): void;
  vadReset(state: number): void;
  vadInput(state: number): number;
  vadProcess(state: number, n: number): number;
  vadSpeech(state: number): number;
  vadLevelDbfs(state: number): number;
  vadNoiseFloorDbfs(state: number): number;
  vadVoicing(state: number): number;
}

/**
 * Voice activity detector for one stream: 10 or 20 ms frames at 8, 16, 24 or
 * 48 kHz. A frame is speech when it is voiced (periodic at pitch lags) and
 * above an adaptive noise floor, or loud and far above it; speech needs
 * `onsetFrames` candidates in a row to open and closes `hangoverFrames` after
 * the last one. The algorithm is described in src/dsp/reference/vad.ts.
 *
 * Its state lives in WebAssembly memory; `process` copies the frame there,
 * allocates nothing and never throws.
 */
export class Vad {
  readonly settings: VadSettings;
  readonly #core: VadExports;
  readonly #view: DspView;
  #state: number;
  readonly #input: number;

  constructor(rateHz: number, opts: VadOptions = {}, core: VadExports = dsp<VadExports>()) {
    this.settings = vadSettings(rateHz, opts);
    const s = this.settings;
    this.#core = core;
    this.#view = viewOf(core);
    this.#state = core.vadCreate(s.rateHz, s.frameMs, s.hangoverFrames, s.onsetFrames);
    this.#input = core.vadInput(this.#state) >> 1;
  }

  get samplesPerFrame(): number {
    return this.settings.samplesPerFrame;
  }

  /**
   * Classifies one frame: true for speech. A frame of another length is
   * measured over what it has, up to `samplesPerFrame` (an empty one changes
   * nothing); after `destroy`, always false.
   */
  process(frame: Int16Array): boolean {
    if (this.#state === 0) return false;
    const spf = this.settings.samplesPerFrame;
    this.#view.refresh();
    const heap = this.#view.i16;
    const at = this.#input;
    if (frame.length <= spf) {
      heap.set(frame, at);
      return this.#core.vadProcess(this.#state, frame.length) === 1;
    }
    for (let k = 0; k < spf; k++) heap[at + k] = frame[k]!;
    return this.#core.vadProcess(this.#state, spf) === 1;
  }

  /** The decision of the last frame. */
  get speech(): boolean {
    return this.#state !== 0 && this.#core.vadSpeech(this.#state) === 1;
  }

  /** Energy of the last frame, dBFS (a full-scale square wave reads 0; silence −100). */
  get levelDbfs(): number {
    return this.#state === 0 ? VAD_ENERGY_FLOOR_DBFS : this.#core.vadLevelDbfs(this.#state);
  }

  /** The adaptive noise floor, dBFS. */
  get noiseFloorDbfs(): number {
    return this.#state === 0 ? VAD_ENERGY_FLOOR_DBFS : this.#core.vadNoiseFloorDbfs(this.#state);
  }

  /** How far the last frame stood over the noise floor, dB. */
  get snrDb(): number {
    return this.levelDbfs - this.noiseFloorDbfs;
  }

  /** Periodicity of the last frame at pitch lags, 0..1 (voiced speech 0.6–0.99, noise under 0.4). */
  get voicing(): number {
    return this.#state === 0 ? 0 : this.#core.vadVoicing(this.#state);
  }

  /** Forgets the noise floor, the history and any speech in progress (a new call on the same stream). */
  reset(): void {
    if (this.#state !== 0) this.#core.vadReset(this.#state);
  }

  /** Frees the detector's WebAssembly memory; safe to call twice. */
  destroy(): void {
    if (this.#state !== 0) {
      this.#core.vadDestroy(this.#state);
      this.#state = 0;
    }
  }
}
