/**
 * ITU-T G.711 Appendix I waveform substitution (§I.2.2–I.2.4) scaled to the
 * stream's rate (src/dsp/reference/plc.ts): the pitch-period repetition of
 * the past that every concealment starts from, and the delayed history it
 * reads and writes. Mirrors assembly/plcExtrapolate.ts.
 */

import { fade } from './plcComfortNoise.ts';
import { plcFindPitch } from './plcPitch.ts';
import { roundToInt16, type PlcState } from './plcState.ts';

/** Input shorter than a frame is padded with silence; samples beyond it are ignored. */
export function loadInput(state: PlcState, frame: Int16Array): void {
  const n = Math.min(frame.length, state.samplesPerFrame);
  for (let i = 0; i < n; i++) state.in[i] = frame[i]!;
  for (let i = n; i < state.samplesPerFrame; i++) state.in[i] = 0;
}

/** Synthesises one frame of the erasure into state.frame (f64, before rounding). */
export function synthFrame(state: PlcState): void {
  for (let s = 0; s < 2; s++) {
    const at = s * state.sub;
    if (state.erased === 0) start(state);
    else if (state.erased <= 2) addPeriod(state, at);
    else for (let i = 0; i < state.sub; i++) state.frame[at + i] = periodic(state);
    if (state.erased === 0) for (let i = 0; i < state.sub; i++) state.frame[at + i] = periodic(state);
    for (let i = 0; i < state.sub; i++) state.frame[at + i] = synth(state, state.frame[at + i]!);
    state.erased++;
  }
}

/** §I.2.2–I.2.3: pitch search, and the real tail overlap-added into the signal one period back. */
export function start(state: PlcState): void {
  const h = state.hlen;
  const pb = state.pitchBuf;
  for (let i = 0; i < h; i++) pb[i] = state.history[i]!;
  const { lag, voicing } = plcFindPitch(pb, h - state.corr, state.corr, state.pmin, state.pmax, state.dec);
  state.pitch = lag;
  state.voicing = voicing;
  const ov = lag >> 2;
  state.ov = ov;
  for (let i = 0; i < ov; i++) {
    const k = h - ov + i;
    const w = (i + 1) / (ov + 1);
    pb[k] = pb[k]! * (1 - w) + pb[k - lag]! * w;
    // Not yet played (the output delay covers it): the listener hears the blend.
    state.history[k] = roundToInt16(pb[k]!);
  }
  state.offset = 0;
  state.blen = lag;
  state.t = 0;
  state.z = 0;
  state.noiseAmp = Math.sqrt(state.floor * 3 * (1 - state.tilt * state.tilt));
}

/** §I.2.3: one older period joins the repeated segment, blended in over 1/4 period. */
function addPeriod(state: PlcState, at: number): void {
  const ov = state.ov;
  for (let i = 0; i < ov; i++) state.tmp[i] = periodic(state);
  state.offset = (state.offset - ov + state.blen) % state.blen % state.pitch;
  state.blen += state.pitch;
  for (let i = 0; i < state.sub; i++) state.frame[at + i] = periodic(state);
  for (let i = 0; i < ov; i++) {
    const w = (i + 1) / (ov + 1);
    state.frame[at + i] = state.tmp[i]! * (1 - w) + state.frame[at + i]! * w;
  }
}

export function periodic(state: PlcState): number {
  const v = state.pitchBuf[state.hlen - state.blen + state.offset]!;
  state.offset++;
  if (state.offset === state.blen) state.offset = 0;
  return v;
}

/** Applies the attenuation schedule (and, enhanced, the comfort noise) at the erasure's current sample. */
export function synth(state: PlcState, p: number): number {
  return fade(state, state.t++, p);
}

/** Appends one 10 ms step to the history and writes the delayed output for it. */
export function save(state: PlcState, src: Int16Array, at: number, out: Int16Array): void {
  const h = state.history;
  const sub = state.sub;
  h.copyWithin(0, sub);
  for (let i = 0; i < sub; i++) h[state.hlen - sub + i] = src[at + i]!;
  const from = state.hlen - sub - state.delaySamples;
  const n = Math.min(sub, out.length - at);
  for (let i = 0; i < n; i++) out[at + i] = h[from + i]!;
}
