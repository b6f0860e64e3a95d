/**
 * A burst of lost frames bridged towards the frame after it, already at hand
 * (src/dsp/reference/plc.ts): the whole-burst pitch-synchronous plan
 * (plcMorph) and, for longer bursts, the backward extension of the next frame
 * and where to splice into it. Mirrors assembly/plcBurst.ts.
 */

import { fade } from './plcComfortNoise.ts';
import { start } from './plcExtrapolate.ts';
import { plcMorph } from './plcMorph.ts';
import { plcFindPitch } from './plcPitch.ts';
import type { PlcState } from './plcState.ts';

/**
 * Plans a burst of `m` frames before `next` whole into state.plan (plcMorph):
 * from the last period heard (after the erasure-start blend, or mid-erasure
 * the last period played) to the first period of `next`.
 */
export function planMorph(state: PlcState, next: Int16Array, m: number): void {
  const n = state.samplesPerFrame;
  const h = state.hlen;
  const pb = state.pitchBuf;
  if (state.erased === 0) start(state);
  else for (let i = 0; i < h; i++) pb[i] = state.history[i]!;
  const pa = state.pitch;
  const len = Math.min(next.length, n);
  const x = state.in;
  for (let i = 0; i < len; i++) x[i] = next[i]!;
  for (let i = len; i < n; i++) x[i] = 0;
  // The next frame's period near the past one's (within a factor 1.5), so
  // that a period found at twice its length on one side only (as the
  // search may) does not glide the pitch an octave across the gap.
  let lo = Math.floor((pa * 2 + 2) / 3);
  let hi = Math.floor((pa * 3) / 2);
  if (lo < state.pmin) lo = state.pmin;
  if (hi > state.pmax) hi = state.pmax;
  const pn = plcFindPitch(x, 0, n - state.pmax, lo, hi, state.dec, 1).lag;
  plcMorph(state.plan, pb, h, pa, x, pn, m * n, state.dec, state.back, state.tmp);
  state.morphFrames = m;
  state.erased = 0;
}

/**
 * state.back[k] = the signal `dist − k` samples before the next frame (in state.in):
 * its first period repeated back in time, the first quarter period fading
 * from the sample after the period so that the wrap is as smooth as the
 * real signal. `faded`: mirrored in time, the forward schedule applies,
 * hold then attenuation with comfort noise, counted from the next frame.
 */
export function backward(state: PlcState, pn: number, dist: number, faded: boolean): void {
  const x = state.in;
  const ov = pn >> 2;
  for (let k = 0; k < state.samplesPerFrame; k++) {
    const d = dist - k;
    const j = (((-d) % pn) + pn) % pn;
    let v: number;
    if (j < ov) {
      const w = (j + 1) / (ov + 1);
      v = x[j + pn]! * (1 - w) + x[j]! * w;
    } else v = x[j]!;
    state.back[k] = faded ? fade(state, d - 1, v) : v;
  }
}

/** Where in the frame forward and backward agree best over one period `pn`. */
export function bestSplice(state: PlcState, pn: number): number {
  const f = state.frame;
  const b = state.back;
  const step = state.rateHz / 8000;
  let bestC = 0;
  let bestScore = -2;
  for (let c = 0; c + pn <= state.samplesPerFrame; c += step) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < pn; i++) {
      xy += f[c + i]! * b[c + i]!;
      xx += f[c + i]! * f[c + i]!;
      yy += b[c + i]! * b[c + i]!;
    }
    const score = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    if (score > bestScore) { bestScore = score; bestC = c; }
  }
  return bestC;
}
