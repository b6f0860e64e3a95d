import { LEVEL_FLOOR_DBFS, LevelMeter } from '../../dsp/level.ts';

/**
 * The VU meter's integration time (IEC 60268-17, 300 ms), taken as the time
 * constant of a one-pole filter: a level read once a second then says how
 * loud the caller has been lately, not how loud one 20 ms frame happened to be.
 */
export const LEVEL_INTEGRATION_MS = 300;

/** The floor as power relative to full scale: below it the reading is the floor. */
const FLOOR_POWER = 10 ** (LEVEL_FLOOR_DBFS / 10);

/**
 * One meter per thread serves every stream on it (it keeps nothing between
 * frames); made on the first stream's creation, never on the frame path.
 */
let shared: LevelMeter | undefined;

/**
 * The inbound stream's level in dBFS, RMS smoothed in the power domain with
 * a one-pole filter whose time constant is LEVEL_INTEGRATION_MS. `measure` is
 * the per-frame call: the RMS comes from the WebAssembly level kernel; no
 * allocation, no throw.
 */
export class InboundLevel {
  readonly #meter: LevelMeter;
  readonly #alpha: number;
  #power = 0;

  constructor(frameMs: number) {
    shared ??= new LevelMeter();
    this.#meter = shared;
    this.#alpha = 1 - Math.exp(-frameMs / LEVEL_INTEGRATION_MS);
  }

  /** Takes one played frame; returns the smoothed level, dBFS (LEVEL_FLOOR_DBFS for silence). */
  measure(frame: Int16Array): number {
    this.#meter.measure(frame);
    const rms = this.#meter.rmsDbfs;
    const power = rms <= LEVEL_FLOOR_DBFS ? 0 : 10 ** (rms / 10);
    this.#power += (power - this.#power) * this.#alpha;
    return this.#power <= FLOOR_POWER ? LEVEL_FLOOR_DBFS : 10 * Math.log10(this.#power);
  }
}
