// Comfort noise at the stream's measured noise floor: the fade schedule of a
// loss and the floor/tilt tracker fed by every frame heard. Mirrors
// src/dsp/reference/plcComfortNoise.ts.

import {
  ATTEN_AT, FLOOR_AT, FLOOR_SET_AT, geti, HOLD_AT, i16At, IN_PTR_AT, MIN_FLOOR, MODE_AT, NOISE_AMP_AT,
  PLC_MODE_ENHANCED, ptr, SEED_AT, seti, SUB_AT, TILT_AT, Z_AT,
} from './plcState';

const FLOOR_RISE_PER_SUBFRAME: f64 = 1.0069316688518042;
const QUIET_FACTOR: f64 = 4;
const TILT_SMOOTHING: f64 = 0.2;
const TILT_MIN: f64 = -0.5;
const TILT_MAX: f64 = 0.95;
export const FULL_SCALE_SQUARED: f64 = 32767.0 * 32767.0;

/** The schedule `t` samples into a loss: hold, attenuation, and (enhanced) comfort noise. */
export function fade(state: usize, t: i32, p: f64): f64 {
  const hold = geti(state, HOLD_AT);
  let g: f64 = t < hold ? 1 : 1 - (load<f64>(state, ATTEN_AT) * <f64>(t - hold)) / <f64>geti(state, SUB_AT);
  if (g < 0) g = 0;
  if (geti(state, MODE_AT) != PLC_MODE_ENHANCED) return g * p;
  const seed = load<u32>(state, SEED_AT) * 1664525 + 1013904223;
  store<u32>(state, seed, SEED_AT);
  const u = <f64>(seed >>> 8) / 8388608.0 - 1.0;
  const z = load<f64>(state, TILT_AT) * load<f64>(state, Z_AT) + u;
  store<f64>(state, z, Z_AT);
  return g * p + (1 - g) * (1 - g) * load<f64>(state, NOISE_AMP_AT) * z;
}

export function trackFloor(state: usize, at: i32): void {
  const sub = geti(state, SUB_AT);
  const x = ptr(state, IN_PTR_AT) + (<usize>at << 1);
  let r0: f64 = 0;
  let r1: f64 = 0;
  for (let i = 0; i < sub; i++) {
    const v = i16At(x, i);
    r0 += v * v;
    if (i > 0) r1 += v * i16At(x, i - 1);
  }
  const ms = r0 / <f64>sub;
  let floor = geti(state, FLOOR_SET_AT) != 0 ? load<f64>(state, FLOOR_AT) * FLOOR_RISE_PER_SUBFRAME : ms;
  seti(state, FLOOR_SET_AT, 1);
  if (ms < floor) floor = ms;
  if (floor < MIN_FLOOR) floor = MIN_FLOOR;
  store<f64>(state, floor, FLOOR_AT);
  if (r0 > 0 && ms <= floor * QUIET_FACTOR) {
    let a = r1 / r0;
    if (a < TILT_MIN) a = TILT_MIN;
    if (a > TILT_MAX) a = TILT_MAX;
    const tilt = load<f64>(state, TILT_AT);
    store<f64>(state, tilt + TILT_SMOOTHING * (a - tilt), TILT_AT);
  }
}
