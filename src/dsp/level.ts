import { dsp, viewOf, type CoreExports, type DspView } from './wasm.ts';
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
 * buffer in WebAssembly memory, allocates nothing and never throws.
 */
export class LevelMeter {
  readonly maxSamples: number;
  readonly #core: LevelExports;
  readonly #view: DspView;
  #state: number;
  #samples: number;

  constructor(maxSamples = LEVEL_MAX_SAMPLES, core: LevelExports = dsp<LevelExports>()) {
    if (!Number.isInteger(maxSamples) || maxSamples < 1 || maxSamples > LEVEL_MAX_SAMPLES) {
      throw new RangeError(`maxSamples must be an integer in 1..${LEVEL_MAX_SAMPLES} [maxSamples:${maxSamples}]`);
    }
    this.maxSamples = maxSamples;
    this.#core = core;
    this.#view = viewOf(core);
    this.#state = core.levelCreate(maxSamples);
    this.#samples = core.levelSamples(this.#state) >> 1;
  }

  /** Measures a frame (at most `maxSamples` of it); returns the samples measured, 0 after `destroy`. */
  measure(frame: Int16Array): number {
    if (this.#state === 0) return 0;
    const n = frame.length <= this.maxSamples ? frame.length : this.maxSamples;
    this.#view.refresh();
    const heap = this.#view.i16;
    if (n === frame.length) heap.set(frame, this.#samples);
    else for (let k = 0; k < n; k++) heap[this.#samples + k] = frame[k]!;
    return this.#core.levelMeasure(this.#state, n);
  }

  /** RMS level of the last frame measured, dBFS. */
  get rmsDbfs(): number {
    return this.#state === 0 ? LEVEL_FLOOR_DBFS : this.#core.levelRmsDbfs(this.#state);
  }

  /** Peak level of the last frame measured, dBFS. */
  get peakDbfs(): number {
    return this.#state === 0 ? LEVEL_FLOOR_DBFS : this.#core.levelPeakDbfs(this.#state);
  }

  /** Frees the meter's WebAssembly memory; safe to call twice. */
  destroy(): void {
    if (this.#state !== 0) {
      this.#core.levelDestroy(this.#state);
      this.#state = 0;
    }
  }
}
