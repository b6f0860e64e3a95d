import { PLC_PLAN_MAX_FRAMES, plcRateFactor, type PlcMode } from './reference/plc.ts';
import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import { dsp, type CoreExports } from './wasm.ts';

export { PLC_RATES_HZ, type PlcMode } from './reference/plc.ts';

/** The concealment kernel's exports (assembly/plc.ts). */
export interface PlcExports extends CoreExports {
  plcCreate(rateHz: number, mode: number): number;
  plcDestroy(state: number): void;
  plcReset(state: number): void;
  plcInput(state: number): number;
  plcOutput(state: number): number;
  plcGood(state: number, n: number): void;
  plcConceal(state: number): void;
  plcConcealBefore(state: number, n: number, frames: number): void;
  plcSamplesPerFrame(state: number): number;
  plcDelaySamples(state: number): number;
  plcLostInARow(state: number): number;
  plcPitchLag(state: number): number;
  plcVoicing(state: number): number;
  plcNoiseFloorDbfs(state: number): number;
}

const MODE_CODES: Record<PlcMode, number> = { enhanced: 0, 'appendix-i': 1 };

/**
 * Packet loss concealment for one PCM stream (G.711, G.722 after decoding,
 * L16) in 20 ms frames at 8, 16, 24 or 48 kHz. The algorithm is described in
 * src/dsp/reference/plc.ts; its state lives in WebAssembly memory and the
 * per-frame calls allocate nothing and never throw.
 *
 * Every call produces exactly one frame of output, `delaySamples` (3.75 ms)
 * behind its input: the delay lets the start of a loss be blended with the
 * last received quarter pitch period (ITU-T G.711 Appendix I §I.2.1). Call
 * exactly one of good / conceal / concealBefore per 20 ms tick.
 *
 * A burst announced with `concealBefore(next, out, k)` ends the same way: its
 * last frame is the backward extension of `next`, so `good(next)` follows
 * unblended. A plan broken off (conceal(), or a count that does not fall by
 * one) is not an error: the concealer continues from what it played.
 *
 * How `concealBefore(next)` and the following `good(next)` interact: the
 * concealed gap is built to end exactly where `next` begins (its last samples
 * are a backward extension of `next`), and the erasure is closed there. The
 * following `good(next)` therefore plays the gap's last `delaySamples` and
 * then `next` itself, without the end-of-erasure blend: no second transition.
 * If a different frame is passed to that good(), it is played as it is,
 * likewise unblended. A `conceal()` after `concealBefore()` starts a new
 * erasure from the interpolated signal.
 *
 * Frames of the wrong length are not an error: a shorter one is padded with
 * silence, samples beyond `samplesPerFrame` are ignored, and an `out` shorter
 * than a frame receives what fits. After `destroy`, calls write silence; a
 * concealer dropped without `destroy()` is freed once collected
 * (KernelMemory).
 */
export class Concealer {
  readonly rateHz: number;
  readonly mode: PlcMode;
  readonly samplesPerFrame: number;
  readonly delaySamples: number;
  readonly #core: PlcExports;
  readonly #memory: KernelMemory;
  readonly #input: WasmBuffer<Int16Array>;
  readonly #output: WasmBuffer<Int16Array>;

  constructor(rateHz: number, opts: { mode?: PlcMode } = {}, core: PlcExports = dsp<PlcExports>()) {
    const r = plcRateFactor(rateHz);
    this.rateHz = rateHz;
    this.mode = opts.mode ?? 'enhanced';
    const code = MODE_CODES[this.mode];
    if (code === undefined) throw new RangeError(`unknown PLC mode [mode:${String(this.mode)}]`);
    this.#core = core;
    this.#memory = new KernelMemory(core, 'Concealer', this);
    const state = this.#memory.adopt(core.plcCreate(rateHz, code), (ptr) => core.plcDestroy(ptr), `rateHz:${rateHz}, mode:${this.mode}`);
    this.samplesPerFrame = 160 * r;
    this.delaySamples = core.plcDelaySamples(state);
    this.#input = this.#memory.i16At(core.plcInput(state), this.samplesPerFrame);
    this.#output = this.#memory.i16At(core.plcOutput(state), this.samplesPerFrame);
  }

  /** A received frame goes to playout: updates the history; after an erasure it blends the continuation into `out`. */
  good(frame: Int16Array, out: Int16Array): void {
    const state = this.#memory.state;
    if (state === 0) { out.fill(0); return; }
    this.#core.plcGood(state, this.#input.write(frame));
    this.#output.read(out);
  }

  /** One lost frame, extrapolated from the past. */
  conceal(out: Int16Array): void {
    const state = this.#memory.state;
    if (state === 0) { out.fill(0); return; }
    this.#core.plcConceal(state);
    this.#output.read(out);
  }

  /**
   * One lost frame when a later good frame is already available, interpolated
   * between past and future. `framesUntilNext`: the lost frames before `next`,
   * this one included (1: `next` is the very next frame). When the packet after
   * a burst is buffered, pass the falling count on every frame of the burst
   * (k, k − 1, …, 1, each time with that packet): the concealer then plans the
   * whole burst at its first frame, up to 120 ms as a pitch-synchronous
   * interpolation between the last period heard and the first of `next`,
   * longer ones extrapolating the past up to the middle and the future back
   * from there. Counts below 1 (or NaN) mean 1; above 64, 64.
   */
  concealBefore(next: Int16Array, out: Int16Array, framesUntilNext = 1): void {
    const state = this.#memory.state;
    if (state === 0) { out.fill(0); return; }
    const frames = framesUntilNext >= 1 ? (framesUntilNext < PLC_PLAN_MAX_FRAMES ? Math.floor(framesUntilNext) : PLC_PLAN_MAX_FRAMES) : 1;
    this.#core.plcConcealBefore(state, this.#input.write(next), frames);
    this.#output.read(out);
  }

  /** Frames concealed since the last good one. */
  get lostInARow(): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.plcLostInARow(state);
  }

  /** The tracked background level comfort noise is generated at, dBFS. */
  get noiseFloorDbfs(): number {
    const state = this.#memory.state;
    return state === 0 ? -100 : this.#core.plcNoiseFloorDbfs(state);
  }

  /** Pitch period (samples) used by the current or last erasure; 0 before any. */
  get pitchLag(): number {
    const state = this.#memory.state;
    return state === 0 ? 0 : this.#core.plcPitchLag(state);
  }

  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#core.plcReset(state);
  }

  /** Frees the WebAssembly state; safe to call twice. */
  destroy(): void {
    this.#memory.dispose();
  }
}
