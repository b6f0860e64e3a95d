// A burst of lost frames bridged towards the frame after it, already at hand:
// the whole-burst pitch-synchronous plan (morphPlan) and, for longer bursts,
// the backward extension of the next frame and where to splice into it.
// Mirrors src/dsp/reference/plcBurst.ts.

import { pitchSearch } from './pitch';
import { fade } from './plcComfortNoise';
import { padInput, start } from './plcExtrapolate';
import { morphPlan } from './plcMorph';
import {
  BACK_PTR_AT, DEC_AT, ERASED_AT, f64At, FRAME_AT, geti, HISTORY_PTR_AT, HLEN_AT, i16At, IN_PTR_AT,
  MORPH_FRAMES_AT, PITCH_AT, PITCH_BUF_PTR_AT, PLAN_PTR_AT, PMAX_AT, PMIN_AT, ptr, setF64, seti,
  SYNTH_PTR_AT, TMP_PTR_AT,
} from './plcState';

/**
 * The burst of `m` frames before the next frame (its first `n` samples in the
 * input) planned whole into plan (morphPlan): from the last period heard to
 * the next frame's first, searched within a factor 1.5 of it.
 */
export function planMorph(state: usize, n: i32, m: i32): void {
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
export function backward(state: usize, pn: i32, dist: i32, faded: bool): void {
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
export function bestSplice(state: usize, pn: i32): i32 {
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
