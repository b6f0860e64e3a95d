import { VAD_ENERGY_FLOOR_DBFS, vadSettings, type VadOptions, type VadSettings } from './reference/vad.ts';
import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { dsp, type CoreExports } from './wasm.ts';

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
 * allocates nothing and never throws. A detector dropped without `destroy()`
 * is freed once collected (KernelMemory).
 */
export class Vad {
  readonly settings: VadSettings;
  readonly #core: VadExports;
  readonly #memory: KernelMemory;
  readonly #input: WasmBuffer<Int16Array>;

  constructor(rateHz: number, opts: VadOptions = {}, core: VadExports = dsp<VadExports>()) {
    this.settings = vadSettings(rateHz, opts);
    const s = this.settings;
    this.#core = core;
    this.#memory = new KernelMemory(core, 'Vad', this);
    const state = this.#memory.adopt(
      core.vadCreate(s.rateHz, s.frameMs, s.hangoverFrames, s.onsetFrames),
      (ptr) => core.vadDestroy(ptr),
      `rateHz:${s.rateHz}, frameMs:${s.frameMs}`,
    );
    this.#input = this.#memory.i16At(core.vadInput(state), s.samplesPerFrame);
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
    const state = this.#memory.state;
    if (state === 0) return false;
    return this.#core.vadProcess(state, this.#input.write(frame)) === 1;
  }

  /** The decision of the last frame. */
  get speech(): boolean {
    const state = this.#memory.state;
    return state !== 0 && this.#core.vadSpeech(state) === 1;
  }

  /** Energy of the last frame, dBFS (a full-scale square wave reads 0; silence −100). */
  get levelDbfs(): number {
    const state = this.#memory.state;
    return state === 0 ? VAD_ENERGY_FLOOR_DBFS : this.#core.vadLevelDbfs(state);
  }

  /** The adaptive noise floor, dBFS. */
  get noiseFloorDbfs(): number {
    const state = this.#memory.state;
    return state === 0 ? VAD_ENERGY_FLOOR_DBFS : this.#core.vadNoiseFloorDbfs(state);
  }

  /** How far the last frame stood over the noise floor, dB. */
  get snrDb(): number {
    return this.levelDbfs - this.noiseFloorDbfs;
  }

  /** Periodicity of the last frame at pitch lags, 0..1 (voiced speech 0.6–0.99, noise under 0.4). */
  get voicing(): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.vadVoicing(state);
  }

  /** Forgets the noise floor, the history and any speech in progress (a new call on the same stream). */
  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#core.vadReset(state);
  }

  /** Frees the detector's WebAssembly memory; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}
