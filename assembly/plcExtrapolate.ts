// ITU-T G.711 Appendix I waveform substitution (§I.2.2–I.2.4) scaled to the
// stream's rate: the pitch-period repetition of the past that every
// concealment starts from, and the delayed history it reads and writes.
// Mirrors src/dsp/reference/plcExtrapolate.ts.

import { pitchSearch, pitchVoicing } from './pitch';
import { fade } from './plcComfortNoise';
import {
  BLEN_AT, CORR_AT, DEC_AT, DELAY_AT, ERASED_AT, f64At, FLOOR_AT, FRAME_AT, geti, HISTORY_PTR_AT, HLEN_AT, i16At,
  IN_PTR_AT, NOISE_AMP_AT, OFFSET_AT, OUT_PTR_AT, OV_AT, PITCH_AT, PITCH_BUF_PTR_AT, PMAX_AT, PMIN_AT, ptr,
  roundToInt16, setF64, seti, SUB_AT, SYNTH_PTR_AT, T_AT, TILT_AT, TMP_PTR_AT, VOICING_AT, Z_AT,
} from './plcState';

/** Pads the input after its first `n` samples with silence (n clamped to the frame). */
export function padInput(state: usize, n: i32): void {
  const frame = geti(state, FRAME_AT);
  const m = min(max(n, 0), frame);
  memory.fill(ptr(state, IN_PTR_AT) + (<usize>m << 1), 0, <usize>(frame - m) << 1);
}

export function synthFrame(state: usize): void {
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

export function start(state: usize): void {
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

export function periodic(state: usize): f64 {
  const blen = geti(state, BLEN_AT);
  const offset = geti(state, OFFSET_AT);
  const v = f64At(ptr(state, PITCH_BUF_PTR_AT), geti(state, HLEN_AT) - blen + offset);
  seti(state, OFFSET_AT, offset + 1 == blen ? 0 : offset + 1);
  return v;
}

export function synth(state: usize, p: f64): f64 {
  const t = geti(state, T_AT);
  seti(state, T_AT, t + 1);
  return fade(state, t, p);
}

/** Appends one 10 ms step from `src` at `at` to the history; writes the delayed output there. */
export function save(state: usize, src: usize, at: i32): void {
  const sub = geti(state, SUB_AT);
  const h = geti(state, HLEN_AT);
  const history = ptr(state, HISTORY_PTR_AT);
  memory.copy(history, history + (<usize>sub << 1), <usize>(h - sub) << 1);
  memory.copy(history + (<usize>(h - sub) << 1), src + (<usize>at << 1), <usize>sub << 1);
  const from = history + (<usize>(h - sub - geti(state, DELAY_AT)) << 1);
  memory.copy(ptr(state, OUT_PTR_AT) + (<usize>at << 1), from, <usize>sub << 1);
}
