import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { dsp, type CoreExports } from './wasm.ts';
import { LEVEL_FLOOR_DBFS, LEVEL_MAX_SAMPLES } from './reference/level.ts';

export { LEVEL_FLOOR_DBFS, LEVEL_MAX_SAMPLES } from './reference/level.ts';

/** The level kernel's exports (assembly/level.ts). */
export interface LevelExports extends CoreExports {
  levelCreate(maxSamples: number): number;
  levelDestroy(state: number): void;
  levelSamples(state: number): number;
  levelMeasure(state: number, n: number): number;
  levelRmsDbfs(state: number): number;
  levelPeakDbfs(state: number): number;
}

/**
 * RMS and peak level of frames, in dBFS (full scale 32767: a full-scale sine
 * reads 0 dBFS peak and −3.01 dBFS RMS; silence reads `LEVEL_FLOOR_DBFS`,
 * −120). One meter per thread can serve any number of streams: it keeps no
 * history between frames.
 *
 * `measure` is the per-frame call: it copies the frame into the meter's
 * buffer in WebAssembly memory, allocates nothing and never throws. A meter
 * dropped without `destroy()` is freed once collected (KernelMemory).
 */
export class LevelMeter {
  readonly maxSamples: number;
  readonly #core: LevelExports;
  readonly #memory: KernelMemory;
  readonly #samples: WasmBuffer<Int16Array>;

  constructor(maxSamples = LEVEL_MAX_SAMPLES, core: LevelExports = dsp<LevelExports>()) {
    if (!Number.isInteger(maxSamples) || maxSamples < 1 || maxSamples > LEVEL_MAX_SAMPLES) {
      throw new RangeError(`maxSamples must be an integer in 1..${LEVEL_MAX_SAMPLES} [maxSamples:${maxSamples}]`);
    }
    this.maxSamples = maxSamples;
    this.#core = core;
    this.#memory = new KernelMemory(core, 'LevelMeter', this);
    const state = this.#memory.adopt(core.levelCreate(maxSamples), (ptr) => core.levelDestroy(ptr), `maxSamples:${maxSamples}`);
    this.#samples = this.#memory.i16At(core.levelSamples(state), maxSamples);
  }

  /** Measures a frame (at most `maxSamples` of it); returns the samples measured, 0 after `destroy`. */
  measure(frame: Int16Array): number {
    const state = this.#memory.state;
    if (state === 0) return 0;
    return this.#core.levelMeasure(state, this.#samples.write(frame));
  }

  /** RMS level of the last frame measured, dBFS. */
  get rmsDbfs(): number {
    const state = this.#memory.state;
    return state === 0 ? LEVEL_FLOOR_DBFS : this.#core.levelRmsDbfs(state);
  }

  /** Peak level of the last frame measured, dBFS. */
  get peakDbfs(): number {
    const state = this.#memory.state;
    return state === 0 ? LEVEL_FLOOR_DBFS : this.#core.levelPeakDbfs(state);
  }

  /** Frees the meter's WebAssembly memory; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}
