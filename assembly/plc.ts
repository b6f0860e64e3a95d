// Packet loss concealment for PCM codecs: ITU-T G.711 Appendix I waveform
// substitution, and an enhanced mode (comfort noise at the measured floor,
// interpolation towards a next frame already at hand).
//
// The algorithm, the reasons for every constant and the exact contract are
// documented once, with the plain TypeScript reference this kernel must agree
// with to the sample: src/dsp/reference/plc.ts. Same f64 operations in the
// same order, one rounding per output sample.

import { alloc, free } from './memory';
import { pitchSearch, pitchVoicing } from './pitch';
import { morphPlan } from './plcMorph';

const SUBFRAME_8K: i32 = 80;
const PITCH_MIN_8K: i32 = 40;
const PITCH_MAX_8K: i32 = 120;
const CORR_8K: i32 = 160;
const DELAY_8K: i32 = 30;
const END_OVERLAP_STEP_8K: i32 = 32;
const HISTORY_8K: i32 = 390;
const SEARCH_RATE_HZ: i32 = 4000;
const APPENDIX_HOLD_SUBFRAMES: i32 = 1;
const APPENDIX_ATTENUATION: f64 = 0.2;
const ENHANCED_HOLD_SUBFRAMES: i32 = 1;
const ENHANCED_ATTENUATION: f64 = 0.25;
const FLOOR_RISE_PER_SUBFRAME: f64 = 1.0069316688518042;
const INITIAL_FLOOR: f64 = 32767.0 * 32767.0 * 1e-7;
const MIN_FLOOR: f64 = 32767.0 * 32767.0 * 1e-9;
const QUIET_FACTOR: f64 = 4;
const TILT_SMOOTHING: f64 = 0.2;
const TILT_MIN: f64 = -0.5;
const TILT_MAX: f64 = 0.95;
const FULL_SCALE_SQUARED: f64 = 32767.0 * 32767.0;
const NOISE_SEED: u32 = 0x2545f491;
const PLAN_MAX_FRAMES: i32 = 64;
const MORPH_MAX_FRAMES: i32 = 6;

const PLC_MODE_ENHANCED: i32 = 0;
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
const MODE_AT: usize = 0;
const SUB_AT: usize = 4;
const FRAME_AT: usize = 8;
const PMIN_AT: usize = 12;
const PMAX_AT: usize = 16;
const CORR_AT: usize = 20;
const DELAY_AT: usize = 24;
const EOV_INC_AT: usize = 28;
const HLEN_AT: usize = 32;
const DEC_AT: usize = 36;
const HOLD_AT: usize = 40;
const ERASED_AT: usize = 44;
const LOST_AT: usize = 48;
const PITCH_AT: usize = 52;
const OV_AT: usize = 56;
const OFFSET_AT: usize = 60;
const BLEN_AT: usize = 64;
const T_AT: usize = 68;
const SEED_AT: usize = 72;
const FLOOR_SET_AT: usize = 76;
const ATTEN_AT: usize = 80;
const Z_AT: usize = 88;
const FLOOR_AT: usize = 96;
const TILT_AT: usize = 104;
const NOISE_AMP_AT: usize = 112;
const VOICING_AT: usize = 120;
const HISTORY_PTR_AT: usize = 128;
const IN_PTR_AT: usize = 132;
const OUT_PTR_AT: usize = 136;
const PITCH_BUF_PTR_AT: usize = 140;
const SYNTH_PTR_AT: usize = 144;
const BACK_PTR_AT: usize = 148;
const TMP_PTR_AT: usize = 152;
const PLAN_NEXT_AT: usize = 156;
const PLAN_CROSS_AT: usize = 160;
const MORPH_FRAMES_AT: usize = 164;
const PLAN_PTR_AT: usize = 168;
const HEADER_BYTES: usize = 176;

// @ts-ignore: decorator
@inline function align8(n: usize): usize {
  return (n + 7) & ~(<usize>7);
}

// @ts-ignore: decorator
@inline function ptr(state: usize, field: usize): usize {
  return <usize>load<u32>(state + field);
}

// @ts-ignore: decorator
@inline function geti(state: usize, field: usize): i32 {
  return load<i32>(state + field);
}

// @ts-ignore: decorator
@inline function seti(state: usize, field: usize, v: i32): void {
  store<i32>(state + field, v);
}

// @ts-ignore: decorator
@inline function i16At(p: usize, i: i32): f64 {
  return <f64>load<i16>(p + (<usize>i << 1));
}

// @ts-ignore: decorator
@inline function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

function roundToInt16(x: f64): i16 {
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

/** Where the caller writes a received frame (or the next frame for plcConcealBefore). */
export function plcInput(state: usize): usize {
  return ptr(state, IN_PTR_AT);
}

/** Where every call leaves its output frame. */
export function plcOutput(state: usize): usize {
  return ptr(state, OUT_PTR_AT);
}

export function plcSamplesPerFrame(state: usize): i32 {
  return geti(state, FRAME_AT);
}

export function plcDelaySamples(state: usize): i32 {
  return geti(state, DELAY_AT);
}

export function plcLostInARow(state: usize): i32 {
  return geti(state, LOST_AT);
}

export function plcPitchLag(state: usize): i32 {
  return geti(state, PITCH_AT);
}

export function plcVoicing(state: usize): f64 {
  return load<f64>(state, VOICING_AT);
}

export function plcNoiseFloorDbfs(state: usize): f64 {
  return 10.0 * Math.log10(load<f64>(state, FLOOR_AT) / FULL_SCALE_SQUARED);
}

/** Pads the input after its first `n` samples with silence (n clamped to the frame). */
function padInput(state: usize, n: i32): void {
  const frame = geti(state, FRAME_AT);
  const m = min(max(n, 0), frame);
  memory.fill(ptr(state, IN_PTR_AT) + (<usize>m << 1), 0, <usize>(frame - m) << 1);
}

/** A received frame of `n` samples is in the input; the output gets the delayed signal. */
export function plcGood(state: usize, n: i32): void {
  padInput(state, n);
  const sub = geti(state, SUB_AT);
  const input = ptr(state, IN_PTR_AT);
  for (let s = 0; s < 2; s++) {
    const at = s * sub;
    const erased = geti(state, ERASED_AT);
    if (erased > 0) {
      let olen = geti(state, OV_AT) + (erased - 1) * geti(state, EOV_INC_AT);
      if (olen > sub) olen = sub;
      for (let i = 0; i < olen; i++) {
        const w = <f64>(i + 1) / <f64>(olen + 1);
        const p = input + (<usize>(at + i) << 1);
        store<i16>(p, roundToInt16(synth(state, periodic(state)) * (1 - w) + <f64>load<i16>(p) * w));
      }
      seti(state, ERASED_AT, 0);
    }
    trackFloor(state, at);
    save(state, input, at);
  }
  seti(state, LOST_AT, 0);
  seti(state, PLAN_NEXT_AT, 0);
}

/** One lost frame, extrapolated from the past, into the output. */
export function plcConceal(state: usize): void {
  seti(state, PLAN_NEXT_AT, 0);
  synthFrame(state);
  const frame = geti(state, FRAME_AT);
  const input = ptr(state, IN_PTR_AT);
  const syn = ptr(state, SYNTH_PTR_AT);
  for (let i = 0; i < frame; i++) store<i16>(input + (<usize>i << 1), roundToInt16(f64At(syn, i)));
  save(state, input, 0);
  save(state, input, geti(state, SUB_AT));
  seti(state, LOST_AT, geti(state, LOST_AT) + 1);
}

/**
 * One lost frame interpolated towards a later frame, whose first `n` samples
 * are in the input; `frames` lost frames (this one included) come before it.
 * Appendix I mode conceals as plcConceal.
 */
export function plcConcealBefore(state: usize, n: i32, frames: i32): void {
  if (geti(state, MODE_AT) != PLC_MODE_ENHANCED) {
    plcConceal(state);
    return;
  }
  const m = min(max(frames, 1), PLAN_MAX_FRAMES);
  const planned = m > 1 || geti(state, PLAN_NEXT_AT) == 1;
  const frame = geti(state, FRAME_AT);
  const x = ptr(state, IN_PTR_AT);
  if (!(planned && geti(state, PLAN_NEXT_AT) == m)) seti(state, MORPH_FRAMES_AT, 0);
  if (planned && geti(state, PLAN_NEXT_AT) != m && m <= MORPH_MAX_FRAMES) planMorph(state, n, m);
  const morphFrames = geti(state, MORPH_FRAMES_AT);
  if (planned && morphFrames > 0) {
    seti(state, PLAN_NEXT_AT, m - 1);
    const plan = ptr(state, PLAN_PTR_AT);
    const at = (morphFrames - m) * frame;
    for (let i = 0; i < frame; i++) store<i16>(x + (<usize>i << 1), roundToInt16(f64At(plan, at + i)));
    save(state, x, 0);
    save(state, x, geti(state, SUB_AT));
    seti(state, LOST_AT, geti(state, LOST_AT) + 1);
    return;
  }
  if (planned && geti(state, PLAN_NEXT_AT) != m) seti(state, PLAN_CROSS_AT, (m >> 1) + 1);
  seti(state, PLAN_NEXT_AT, planned ? m - 1 : 0);
  const f = ptr(state, SYNTH_PTR_AT);
  if (planned && m > geti(state, PLAN_CROSS_AT)) {
    synthFrame(state);
    for (let i = 0; i < frame; i++) store<i16>(x + (<usize>i << 1), roundToInt16(f64At(f, i)));
  } else {
    const cross = !planned || m == geti(state, PLAN_CROSS_AT);
    const longGap = !planned && geti(state, ERASED_AT) >= 2;
    if (cross) synthFrame(state);
    padInput(state, n);
    const pmax = geti(state, PMAX_AT);
    const pn = pitchSearch(x, 0, frame - pmax, geti(state, PMIN_AT), pmax, geti(state, DEC_AT), 1);
    backward(state, pn, m * frame, planned);
    let bestC = 0;
    if (cross && !longGap) bestC = bestSplice(state, pn);
    const fade = !cross ? 0 : longGap ? frame >> 1 : pn;
    const b = ptr(state, BACK_PTR_AT);
    for (let k = 0; k < frame; k++) {
      let v: f64;
      if (k < bestC) v = f64At(f, k);
      else if (k < bestC + fade) {
        const w = <f64>(k - bestC + 1) / <f64>(fade + 1);
        v = f64At(f, k) * (1 - w) + f64At(b, k) * w;
      } else v = f64At(b, k);
      store<i16>(x + (<usize>k << 1), roundToInt16(v));
    }
    seti(state, ERASED_AT, 0);
  }
  save(state, x, 0);
  save(state, x, geti(state, SUB_AT));
  seti(state, LOST_AT, geti(state, LOST_AT) + 1);
}

/**
 * The burst of `m` frames before the next frame (its first `n` samples in the
 * input) planned whole into plan (morphPlan): from the last period heard to
 * the next frame's first, searched within a factor 1.5 of it.
 */
function planMorph(state: usize, n: i32, m: i32): void {
  const frame = geti(state, FRAME_AT);
  const h = geti(state, HLEN_AT);
  const pb = ptr(state, PITCH_BUF_PTR_AT);
  if (geti(state, ERASED_AT) == 0) start(state);
  else {
    const history = ptr(state, HISTORY_PTR_AT);
    for (let i = 0; i < h; i++) setF64(pb, i, i16At(history, i));
  }
  const pa = geti(state, PITCH_AT);
  padInput(state, n);
  const x = ptr(state, IN_PTR_AT);
  const pmax = geti(state, PMAX_AT);
  const lo = max((pa * 2 + 2) / 3, geti(state, PMIN_AT));
  const hi = min((pa * 3) >> 1, pmax);
  const dec = geti(state, DEC_AT);
  const pn = pitchSearch(x, 0, frame - pmax, lo, hi, dec, 1);
  morphPlan(ptr(state, PLAN_PTR_AT), pb, h, pa, x, pn, m * frame, dec, ptr(state, BACK_PTR_AT), ptr(state, TMP_PTR_AT));
  seti(state, MORPH_FRAMES_AT, m);
  seti(state, ERASED_AT, 0);
}

/** back[k]: the input's first period `pn` repeated back to `dist − k` samples before it; `faded`: the schedule mirrored in time. */
function backward(state: usize, pn: i32, dist: i32, faded: bool): void {
  const frame = geti(state, FRAME_AT);
  const x = ptr(state, IN_PTR_AT);
  const b = ptr(state, BACK_PTR_AT);
  const ov = pn >> 2;
  for (let k = 0; k < frame; k++) {
    const d = dist - k;
    const j = ((-d % pn) + pn) % pn;
    let v: f64;
    if (j < ov) {
      const w = <f64>(j + 1) / <f64>(ov + 1);
      v = i16At(x, j + pn) * (1 - w) + i16At(x, j) * w;
    } else v = i16At(x, j);
    setF64(b, k, faded ? fade(state, d - 1, v) : v);
  }
}

/** Where in the frame forward (synth) and backward agree best over one period `pn`. */
function bestSplice(state: usize, pn: i32): i32 {
  const frame = geti(state, FRAME_AT);
  const f = ptr(state, SYNTH_PTR_AT);
  const b = ptr(state, BACK_PTR_AT);
  const step = frame / 160;
  let bestC = 0;
  let bestScore: f64 = -2;
  for (let c = 0; c + pn <= frame; c += step) {
    let xy: f64 = 0;
    let xx: f64 = 0;
    let yy: f64 = 0;
    for (let i = 0; i < pn; i++) {
      const fv = f64At(f, c + i);
      const bv = f64At(b, c + i);
      xy += fv * bv;
      xx += fv * fv;
      yy += bv * bv;
    }
    const score = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    if (score > bestScore) {
      bestScore = score;
      bestC = c;
    }
  }
  return bestC;
}

function synthFrame(state: usize): void {
  const sub = geti(state, SUB_AT);
  const syn = ptr(state, SYNTH_PTR_AT);
  for (let s = 0; s < 2; s++) {
    const at = s * sub;
    const erased = geti(state, ERASED_AT);
    if (erased == 0) {
      start(state);
      for (let i = 0; i < sub; i++) setF64(syn, at + i, periodic(state));
    } else if (erased <= 2) addPeriod(state, at);
    else for (let i = 0; i < sub; i++) setF64(syn, at + i, periodic(state));
    for (let i = 0; i < sub; i++) setF64(syn, at + i, synth(state, f64At(syn, at + i)));
    seti(state, ERASED_AT, erased + 1);
  }
}

function start(state: usize): void {
  const h = geti(state, HLEN_AT);
  const history = ptr(state, HISTORY_PTR_AT);
  const pb = ptr(state, PITCH_BUF_PTR_AT);
  for (let i = 0; i < h; i++) setF64(pb, i, i16At(history, i));
  const corr = geti(state, CORR_AT);
  const lag = pitchSearch(history, h - corr, corr, geti(state, PMIN_AT), geti(state, PMAX_AT), geti(state, DEC_AT), -1);
  seti(state, PITCH_AT, lag);
  store<f64>(state, pitchVoicing(), VOICING_AT);
  const ov = lag >> 2;
  seti(state, OV_AT, ov);
  for (let i = 0; i < ov; i++) {
    const k = h - ov + i;
    const w = <f64>(i + 1) / <f64>(ov + 1);
    const v = f64At(pb, k) * (1 - w) + f64At(pb, k - lag) * w;
    setF64(pb, k, v);
    store<i16>(history + (<usize>k << 1), roundToInt16(v));
  }
  seti(state, OFFSET_AT, 0);
  seti(state, BLEN_AT, lag);
  seti(state, T_AT, 0);
  store<f64>(state, 0, Z_AT);
  const tilt = load<f64>(state, TILT_AT);
  store<f64>(state, Math.sqrt(load<f64>(state, FLOOR_AT) * 3 * (1 - tilt * tilt)), NOISE_AMP_AT);
}

function addPeriod(state: usize, at: i32): void {
  const ov = geti(state, OV_AT);
  const sub = geti(state, SUB_AT);
  const tmp = ptr(state, TMP_PTR_AT);
  const syn = ptr(state, SYNTH_PTR_AT);
  for (let i = 0; i < ov; i++) setF64(tmp, i, periodic(state));
  const blen = geti(state, BLEN_AT);
  const pitch = geti(state, PITCH_AT);
  seti(state, OFFSET_AT, ((geti(state, OFFSET_AT) - ov + blen) % blen) % pitch);
  seti(state, BLEN_AT, blen + pitch);
  for (let i = 0; i < sub; i++) setF64(syn, at + i, periodic(state));
  for (let i = 0; i < ov; i++) {
    const w = <f64>(i + 1) / <f64>(ov + 1);
    setF64(syn, at + i, f64At(tmp, i) * (1 - w) + f64At(syn, at + i) * w);
  }
}

function periodic(state: usize): f64 {
  const blen = geti(state, BLEN_AT);
  const offset = geti(state, OFFSET_AT);
  const v = f64At(ptr(state, PITCH_BUF_PTR_AT), geti(state, HLEN_AT) - blen + offset);
  seti(state, OFFSET_AT, offset + 1 == blen ? 0 : offset + 1);
  return v;
}

function synth(state: usize, p: f64): f64 {
  const t = geti(state, T_AT);
  seti(state, T_AT, t + 1);
  return fade(state, t, p);
}

/** The schedule `t` samples into a loss: hold, attenuation, and (enhanced) comfort noise. */
function fade(state: usize, t: i32, p: f64): f64 {
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

function trackFloor(state: usize, at: i32): void {
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

/** Appends one 10 ms step from `src` at `at` to the history; writes the delayed output there. */
function save(state: usize, src: usize, at: i32): void {
  const sub = geti(state, SUB_AT);
  const h = geti(state, HLEN_AT);
  const history = ptr(state, HISTORY_PTR_AT);
  memory.copy(history, history + (<usize>sub << 1), <usize>(h - sub) << 1);
  memory.copy(history + (<usize>(h - sub) << 1), src + (<usize>at << 1), <usize>sub << 1);
  const from = history + (<usize>(h - sub - geti(state, DELAY_AT)) << 1);
  memory.copy(ptr(state, OUT_PTR_AT) + (<usize>at << 1), from, <usize>sub << 1);
}
