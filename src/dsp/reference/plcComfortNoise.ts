/**
 * Comfort noise at the stream's measured noise floor (src/dsp/reference/plc.ts):
 * the fade schedule of a loss and the floor/tilt tracker fed by every frame
 * heard. Mirrors assembly/plcComfortNoise.ts.
 */

import { PLC_MIN_FLOOR, type PlcState } from './plcState.ts';

/**
 * Noise floor tracker: set by the first 10 ms heard, then follows quieter
 * steps at once and rises 3 dB per second otherwise (the minimum-statistics
 * idea of R. Martin, IEEE Trans. SAP 9(5), 2001, in its simplest form).
 */
export const PLC_FLOOR_RISE_PER_SUBFRAME = 1.0069316688518042; // 10^(0.03/10)
/** Frames within this factor of the floor (6 dB) teach the noise its spectral tilt. */
export const PLC_QUIET_FACTOR = 4;
export const PLC_TILT_SMOOTHING = 0.2;
export const PLC_TILT_MIN = -0.5;
export const PLC_TILT_MAX = 0.95;
export const PLC_FULL_SCALE_SQUARED = 32767 * 32767;

/** The schedule `t` samples into a loss: hold, then attenuation, and (enhanced) comfort noise for what is lost. */
export function fade(state: PlcState, t: number, p: number): number {
  let g = t < state.hold ? 1 : 1 - (state.atten * (t - state.hold)) / state.sub;
  if (g < 0) g = 0;
  if (state.mode !== 'enhanced') return g * p;
  state.seed = (Math.imul(state.seed, 1664525) + 1013904223) >>> 0;
  const u = (state.seed >>> 8) / 8388608 - 1;
  state.z = state.tilt * state.z + u;
  // The noise comes in late, (1 − g)²: mixed in early it scored lower than the fade alone.
  return g * p + (1 - g) * (1 - g) * state.noiseAmp * state.z;
}

/** Minimum-following noise floor and, from quiet frames, the noise's spectral tilt. */
export function trackFloor(state: PlcState, at: number): void {
  const x = state.in;
  let r0 = 0;
  let r1 = 0;
  for (let i = 0; i < state.sub; i++) {
    const v = x[at + i]!;
    r0 += v * v;
    if (i > 0) r1 += v * x[at + i - 1]!;
  }
  const ms = r0 / state.sub;
  // The first 10 ms heard sets the floor; from then on it follows the minimum.
  let floor = state.floorSet ? state.floor * PLC_FLOOR_RISE_PER_SUBFRAME : ms;
  state.floorSet = true;
  if (ms < floor) floor = ms;
  if (floor < PLC_MIN_FLOOR) floor = PLC_MIN_FLOOR;
  state.floor = floor;
  if (r0 > 0 && ms <= floor * PLC_QUIET_FACTOR) {
    let a = r1 / r0;
    if (a < PLC_TILT_MIN) a = PLC_TILT_MIN;
    if (a > PLC_TILT_MAX) a = PLC_TILT_MAX;
    state.tilt += PLC_TILT_SMOOTHING * (a - state.tilt);
  }
}
