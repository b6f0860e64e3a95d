// Packet loss concealment for PCM codecs: ITU-T G.711 Appendix I waveform
// substitution, and an enhanced mode (comfort noise at the measured floor,
// interpolation towards a next frame already at hand).
//
// The algorithm, the reasons for every constant and the exact contract are
// documented once, with the plain TypeScript reference this kernel must agree
// with to the sample: src/dsp/reference/plc.ts. Same f64 operations in the
// same order, one rounding per output sample.
//
// Split as the reference is, file for file: plcState (layout, lifecycle),
// plcExtrapolate (Appendix I), plcComfortNoise, plcBurst; this file holds the
// entry points.

import { pitchSearch } from './pitch';
import { backward, bestSplice, planMorph } from './plcBurst';
import { FULL_SCALE_SQUARED, trackFloor } from './plcComfortNoise';
import { padInput, periodic, save, synth, synthFrame } from './plcExtrapolate';
import {
  BACK_PTR_AT, DEC_AT, DELAY_AT, EOV_INC_AT, ERASED_AT, f64At, FLOOR_AT, FRAME_AT, geti, IN_PTR_AT, LOST_AT,
  MODE_AT, MORPH_FRAMES_AT, MORPH_MAX_FRAMES, OUT_PTR_AT, OV_AT, PITCH_AT, PLAN_CROSS_AT, PLAN_MAX_FRAMES,
  PLAN_NEXT_AT, PLAN_PTR_AT, PLC_MODE_ENHANCED, PMAX_AT, PMIN_AT, ptr, roundToInt16, seti, SUB_AT,
  SYNTH_PTR_AT, VOICING_AT,
} from './plcState';

export { plcCreate, plcDestroy, plcReset } from './plcState';

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
