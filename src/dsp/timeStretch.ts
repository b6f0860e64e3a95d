import { timeStretchLimits } from './reference/timeStretch.ts';
import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { dsp, type CoreExports } from './wasm.ts';

/** The time stretch kernel's exports (assembly/timeStretch.ts). */
export interface TimeStretchExports extends CoreExports {
  timeStretchCreate(rateHz: number): number;
  timeStretchDestroy(state: number): void;
  timeStretchInput(state: number): number;
  timeStretchOutput(state: number): number;
  timeStretchMaxInput(state: number): number;
  timeStretchMaxPeriod(state: number): number;
  timeStretchLastPeriod(state: number): number;
  timeStretchAccelerate(state: number, n: number, outCapacity: number): number;
  timeStretchExpand(state: number, n: number, outCapacity: number): number;
}

/**
 * Accelerate and preemptive expand for one stream's jitter buffer: WSOLA
 * removing or inserting exactly one pitch period (2.5–15 ms) where the signal
 * is periodic enough (normalised correlation ≥ 0.9) or quiet (< −50 dBFS),
 * and declining otherwise. The algorithm is described in
 * src/dsp/reference/timeStretch.ts. The jitter buffer decides when to call;
 * 30 ms of input (a frame plus lookahead) allows every period, 20 ms periods
 * up to 10 ms.
 *
 * Both calls take `inputLength` samples of `input` (at most `maxInputSamples`,
 * 60 ms; beyond that they are ignored) and write the result to `out`, which
 * should hold `inputLength + maxPeriodSamples`; they return the number of
 * samples written: inputLength − P (accelerate) or + P (expand) when they
 * acted, inputLength when they declined (the input is copied unchanged), and
 * never more than `out.length`. `lastPeriod` tells P (0 when declined).
 * Nothing is allocated and nothing throws. A stretcher dropped without
 * `destroy()` is freed once collected (KernelMemory).
 */
export class TimeStretcher {
  readonly rateHz: number;
  readonly maxInputSamples: number;
  readonly maxPeriodSamples: number;
  readonly #core: TimeStretchExports;
  readonly #memory: KernelMemory;
  readonly #input: WasmBuffer<Int16Array>;
  readonly #output: WasmBuffer<Int16Array>;

  constructor(rateHz: number, core: TimeStretchExports = dsp<TimeStretchExports>()) {
    const lim = timeStretchLimits(rateHz);
    this.rateHz = rateHz;
    this.maxInputSamples = lim.maxInput;
    this.maxPeriodSamples = lim.pmax;
    this.#core = core;
    this.#memory = new KernelMemory(core, 'TimeStretcher', this);
    const state = this.#memory.adopt(core.timeStretchCreate(rateHz), (ptr) => core.timeStretchDestroy(ptr), `rateHz:${rateHz}`);
    this.#input = this.#memory.i16At(core.timeStretchInput(state), lim.maxInput);
    // The kernel writes at most the input plus one period.
    this.#output = this.#memory.i16At(core.timeStretchOutput(state), lim.maxInput + lim.pmax);
  }

  /** Removes one pitch period when the signal allows; returns the output length. */
  accelerate(input: Int16Array, inputLength: number, out: Int16Array): number {
    return this.#run(input, inputLength, out, -1);
  }

  /** Inserts one pitch period when the signal allows; returns the output length. */
  expand(input: Int16Array, inputLength: number, out: Int16Array): number {
    return this.#run(input, inputLength, out, 1);
  }

  /** The period removed or inserted by the last call, samples; 0 when it declined. */
  get lastPeriod(): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.timeStretchLastPeriod(state);
  }

  /** Frees the WebAssembly state; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }

  #run(input: Int16Array, inputLength: number, out: Int16Array, dir: -1 | 1): number {
    const state = this.#memory.state;
    if (state === 0) return 0;
    // NaN and negative lengths mean nothing to stretch.
    let n = inputLength > 0 ? Math.floor(inputLength) : 0;
    if (n > input.length) n = input.length;
    if (n > this.maxInputSamples) n = this.maxInputSamples;
    this.#input.write(input, n);
    const m = dir < 0
      ? this.#core.timeStretchAccelerate(state, n, out.length)
      : this.#core.timeStretchExpand(state, n, out.length);
    return this.#output.read(out, m);
  }
}
