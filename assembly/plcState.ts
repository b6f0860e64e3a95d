// The concealer's state block (see assembly/plc.ts): the dimensions it is
// sized from, its layout, the accessors every part of the kernel reads it
// with, and its lifecycle (create, destroy, reset). Mirrors
// src/dsp/reference/plcState.ts.

import { alloc, free } from './memory';

const SUBFRAME_8K: i32 = 80;
export const PITCH_MIN_8K: i32 = 40;
export const PITCH_MAX_8K: i32 = 120;
const CORR_8K: i32 = 160;
const DELAY_8K: i32 = 30;
const END_OVERLAP_STEP_8K: i32 = 32;
const HISTORY_8K: i32 = 390;
export const SEARCH_RATE_HZ: i32 = 4000;
const APPENDIX_HOLD_SUBFRAMES: i32 = 1;
const APPENDIX_ATTENUATION: f64 = 0.2;
const ENHANCED_HOLD_SUBFRAMES: i32 = 1;
const ENHANCED_ATTENUATION: f64 = 0.25;
const INITIAL_FLOOR: f64 = 32767.0 * 32767.0 * 1e-7;
export const MIN_FLOOR: f64 = 32767.0 * 32767.0 * 1e-9;
const NOISE_SEED: u32 = 0x2545f491;
export const PLAN_MAX_FRAMES: i32 = 64;
export const MORPH_MAX_FRAMES: i32 = 6;

export const PLC_MODE_ENHANCED: i32 = 0;
const PLC_MODE_APPENDIX_I: i32 = 1;

// State block (plcCreate), one allocation; lengths scale with r = rateHz / 8000:
//
//   0  i32  mode          0 enhanced, 1 Appendix I (as src/dsp/plc.ts passes it)
//   4  i32  sub           10 ms, the erasure schedule's step
//   8  i32  frame         20 ms, samplesPerFrame
//  12  i32  pmin, 16 pmax, 20 corr   pitch search (5–15 ms over 20 ms)
//  24  i32  delay         3.75 ms output delay
//  28  i32  eovInc        end overlap growth per 10 ms lost
//  32  i32  hlen          48.75 ms history
//  36  i32  dec           coarse search decimation to 4 kHz
//  40  i32  hold          samples at full level before attenuation
//  44  i32  erased        10 ms steps concealed in a row
//  48  i32  lost          frames concealed in a row
//  52  i32  pitch, 56 ov (1/4 period), 60 offset, 64 blen (repeated length)
//  68  i32  t             samples since the erasure began
//  72  u32  seed          comfort noise generator
//  76  i32  floorSet      0 until the first 10 ms is heard
//  80  f64  atten, 88 z (noise filter), 96 floor (mean square), 104 tilt,
// 112  f64  noiseAmp, 120 voicing
// 128  u32  pointers: history i16[hlen], in i16[frame], out i16[frame],
//           pitchBuf f64[hlen], synth f64[frame], back f64[frame], tmp f64[sub]
// 156  i32  planNext      frames the next call of a burst plan should announce; 0 none
// 160  i32  planCross     the announced count at which the plan splices
// 164  i32  morphFrames   frames of the burst interpolated whole in plan; 0 none
// 168  u32  pointer: plan f64[MORPH_MAX_FRAMES * frame]
// 176       the arrays, each 8-byte aligned
export const MODE_AT: usize = 0;
export const SUB_AT: usize = 4;
export const FRAME_AT: usize = 8;
export const PMIN_AT: usize = 12;
export const PMAX_AT: usize = 16;
export const CORR_AT: usize = 20;
export const DELAY_AT: usize = 24;
export const EOV_INC_AT: usize = 28;
export const HLEN_AT: usize = 32;
export const DEC_AT: usize = 36;
export const HOLD_AT: usize = 40;
export const ERASED_AT: usize = 44;
export const LOST_AT: usize = 48;
export const PITCH_AT: usize = 52;
export const OV_AT: usize = 56;
export const OFFSET_AT: usize = 60;
export const BLEN_AT: usize = 64;
export const T_AT: usize = 68;
export const SEED_AT: usize = 72;
export const FLOOR_SET_AT: usize = 76;
export const ATTEN_AT: usize = 80;
export const Z_AT: usize = 88;
export const FLOOR_AT: usize = 96;
export const TILT_AT: usize = 104;
export const NOISE_AMP_AT: usize = 112;
export const VOICING_AT: usize = 120;
export const HISTORY_PTR_AT: usize = 128;
export const IN_PTR_AT: usize = 132;
export const OUT_PTR_AT: usize = 136;
export const PITCH_BUF_PTR_AT: usize = 140;
export const SYNTH_PTR_AT: usize = 144;
export const BACK_PTR_AT: usize = 148;
export const TMP_PTR_AT: usize = 152;
export const PLAN_NEXT_AT: usize = 156;
export const PLAN_CROSS_AT: usize = 160;
export const MORPH_FRAMES_AT: usize = 164;
export const PLAN_PTR_AT: usize = 168;
const HEADER_BYTES: usize = 176;

// @ts-ignore: decorator
@inline function align8(n: usize): usize {
  return (n + 7) & ~(<usize>7);
}

// @ts-ignore: decorator
@inline export function ptr(state: usize, field: usize): usize {
  return <usize>load<u32>(state + field);
}

// @ts-ignore: decorator
@inline export function geti(state: usize, field: usize): i32 {
  return load<i32>(state + field);
}

// @ts-ignore: decorator
@inline export function seti(state: usize, field: usize, v: i32): void {
  store<i32>(state + field, v);
}

// @ts-ignore: decorator
@inline export function i16At(p: usize, i: i32): f64 {
  return <f64>load<i16>(p + (<usize>i << 1));
}

// @ts-ignore: decorator
@inline export function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

export function roundToInt16(x: f64): i16 {
  const v = Math.floor(x + 0.5);
  return <i16>(v > 32767 ? 32767 : v < -32768 ? -32768 : <i32>v);
}

/** A concealer for `rateHz` (8000, 16000, 24000 or 48000) in PLC_MODE_*; 0 when out of range. */
export function plcCreate(rateHz: i32, mode: i32): usize {
  if (rateHz != 8000 && rateHz != 16000 && rateHz != 24000 && rateHz != 48000) return 0;
  if (mode != PLC_MODE_ENHANCED && mode != PLC_MODE_APPENDIX_I) return 0;
  const r = rateHz / 8000;
  const sub = SUBFRAME_8K * r;
  const frame = 2 * sub;
  const hlen = HISTORY_8K * r;
  const history = HEADER_BYTES;
  const input = history + align8(<usize>hlen << 1);
  const output = input + align8(<usize>frame << 1);
  const pitchBuf = output + align8(<usize>frame << 1);
  const synth = pitchBuf + (<usize>hlen << 3);
  const back = synth + (<usize>frame << 3);
  const tmp = back + (<usize>frame << 3);
  const plan = tmp + (<usize>sub << 3);
  const state = alloc(plan + (<usize>(MORPH_MAX_FRAMES * frame) << 3));
  seti(state, MODE_AT, mode);
  seti(state, SUB_AT, sub);
  seti(state, FRAME_AT, frame);
  seti(state, PMIN_AT, PITCH_MIN_8K * r);
  seti(state, PMAX_AT, PITCH_MAX_8K * r);
  seti(state, CORR_AT, CORR_8K * r);
  seti(state, DELAY_AT, DELAY_8K * r);
  seti(state, EOV_INC_AT, END_OVERLAP_STEP_8K * r);
  seti(state, HLEN_AT, hlen);
  seti(state, DEC_AT, rateHz / SEARCH_RATE_HZ);
  const enhanced = mode == PLC_MODE_ENHANCED;
  seti(state, HOLD_AT, (enhanced ? ENHANCED_HOLD_SUBFRAMES : APPENDIX_HOLD_SUBFRAMES) * sub);
  store<f64>(state, enhanced ? ENHANCED_ATTENUATION : APPENDIX_ATTENUATION, ATTEN_AT);
  store<u32>(state, <u32>(state + history), HISTORY_PTR_AT);
  store<u32>(state, <u32>(state + input), IN_PTR_AT);
  store<u32>(state, <u32>(state + output), OUT_PTR_AT);
  store<u32>(state, <u32>(state + pitchBuf), PITCH_BUF_PTR_AT);
  store<u32>(state, <u32>(state + synth), SYNTH_PTR_AT);
  store<u32>(state, <u32>(state + back), BACK_PTR_AT);
  store<u32>(state, <u32>(state + tmp), TMP_PTR_AT);
  store<u32>(state, <u32>(state + plan), PLAN_PTR_AT);
  plcReset(state);
  return state;
}

export function plcDestroy(state: usize): void {
  free(state);
}

/** Forgets the history, any erasure in progress and the noise floor. */
export function plcReset(state: usize): void {
  memory.fill(ptr(state, HISTORY_PTR_AT), 0, <usize>geti(state, HLEN_AT) << 1);
  seti(state, ERASED_AT, 0);
  seti(state, LOST_AT, 0);
  seti(state, PLAN_NEXT_AT, 0);
  seti(state, MORPH_FRAMES_AT, 0);
  seti(state, PITCH_AT, 0);
  seti(state, T_AT, 0);
  store<u32>(state, NOISE_SEED, SEED_AT);
  store<f64>(state, 0, Z_AT);
  store<f64>(state, INITIAL_FLOOR, FLOOR_AT);
  seti(state, FLOOR_SET_AT, 0);
  store<f64>(state, 0, TILT_AT);
  store<f64>(state, 0, VOICING_AT);
}
