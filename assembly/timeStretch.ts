// Time-scale modification for the jitter buffer: WSOLA (Verhelst & Roelands,
// ICASSP 1993) removing or inserting one pitch period, as NetEq's Accelerate
// and PreemptiveExpand do. The algorithm and its constants are documented
// with the plain TypeScript reference this kernel matches to the sample:
// src/dsp/reference/timeStretch.ts.

import { alloc, free } from './memory';
import { pitchSearch } from './pitch';

const PITCH_MIN_8K: i32 = 20;
const PITCH_MAX_8K: i32 = 120;
const MAX_INPUT_8K: i32 = 480;
const SEARCH_RATE_HZ: i32 = 4000;
const CORRELATION_THRESHOLD: f64 = 0.9;
const QUIET_MEAN_SQUARE: f64 = 32767.0 * 32767.0 * 1e-5;

// State block (timeStretchCreate), one allocation; lengths scale with r = rateHz / 8000:
//
//   0  i32  pmin          2.5 ms
//   4  i32  pmax          15 ms
//   8  i32  dec           coarse search decimation to 4 kHz
//  12  i32  maxInput      60 ms
//  16  i32  lastPeriod    removed or inserted by the last call, 0 if declined
//  20       (padding)
//  24  i16  input[maxInput]
//  24 + 2 * maxInput  i16  output[maxInput + pmax]
const PMIN_AT: usize = 0;
const PMAX_AT: usize = 4;
const DEC_AT: usize = 8;
const MAX_INPUT_AT: usize = 12;
const LAST_PERIOD_AT: usize = 16;
const INPUT_AT: usize = 24;

/** A stretcher for `rateHz` (8000, 16000, 24000 or 48000); 0 when out of range. */
export function timeStretchCreate(rateHz: i32): usize {
  if (rateHz != 8000 && rateHz != 16000 && rateHz != 24000 && rateHz != 48000) return 0;
  const r = rateHz / 8000;
  const maxInput = MAX_INPUT_8K * r;
  const pmax = PITCH_MAX_8K * r;
  const state = alloc(INPUT_AT + (<usize>(2 * maxInput + pmax) << 1));
  store<i32>(state, PITCH_MIN_8K * r, PMIN_AT);
  store<i32>(state, pmax, PMAX_AT);
  store<i32>(state, rateHz / SEARCH_RATE_HZ, DEC_AT);
  store<i32>(state, maxInput, MAX_INPUT_AT);
  return state;
}

export function timeStretchDestroy(state: usize): void {
  free(state);
}

export function timeStretchInput(state: usize): usize {
  return state + INPUT_AT;
}

export function timeStretchOutput(state: usize): usize {
  return state + INPUT_AT + (<usize>load<i32>(state, MAX_INPUT_AT) << 1);
}

export function timeStretchMaxInput(state: usize): i32 {
  return load<i32>(state, MAX_INPUT_AT);
}

export function timeStretchMaxPeriod(state: usize): i32 {
  return load<i32>(state, PMAX_AT);
}

export function timeStretchLastPeriod(state: usize): i32 {
  return load<i32>(state, LAST_PERIOD_AT);
}

// @ts-ignore: decorator
@inline function sample(x: usize, i: i32): f64 {
  return <f64>load<i16>(x + (<usize>i << 1));
}

function roundToInt16(x: f64): i16 {
  const v = Math.floor(x + 0.5);
  return <i16>(v > 32767 ? 32767 : v < -32768 ? -32768 : <i32>v);
}

/** The period to remove or insert in x[0, n), or 0 to decline. */
function period(state: usize, x: usize, n: i32): i32 {
  const pmin = load<i32>(state, PMIN_AT);
  const maxLag = min(load<i32>(state, PMAX_AT), n >> 1);
  if (maxLag < pmin) return 0;
  const p = pitchSearch(x, 0, n - maxLag, pmin, maxLag, load<i32>(state, DEC_AT), 1);
  let ab: f64 = 0;
  let aa: f64 = 0;
  let bb: f64 = 0;
  for (let i = 0; i < p; i++) {
    const a = sample(x, i);
    const b = sample(x, p + i);
    ab += a * b;
    aa += a * a;
    bb += b * b;
  }
  if ((aa + bb) / <f64>(2 * p) < QUIET_MEAN_SQUARE) return p;
  if (ab <= 0 || ab / Math.sqrt(aa * bb) < CORRELATION_THRESHOLD) return 0;
  return p;
}

/**
 * Stretches the first `n` input samples by one period, shorter (dir −1) or
 * longer (+1), into the output, whose capacity the caller gives as
 * `outCapacity`; returns the samples written (n when it declined).
 */
function stretch(state: usize, n: i32, outCapacity: i32, dir: i32): i32 {
  n = max(0, min(n, load<i32>(state, MAX_INPUT_AT)));
  const x = state + INPUT_AT;
  const y = timeStretchOutput(state);
  let p = period(state, x, n);
  if (n + dir * p > outCapacity) p = 0;
  store<i32>(state, p, LAST_PERIOD_AT);
  if (p == 0) {
    const m = min(n, outCapacity);
    memory.copy(y, x, <usize>m << 1);
    return m;
  }
  if (dir < 0) {
    for (let i = 0; i < p; i++) {
      const w = <f64>(i + 1) / <f64>(p + 1);
      store<i16>(y + (<usize>i << 1), roundToInt16(sample(x, i) * (1 - w) + sample(x, p + i) * w));
    }
    memory.copy(y + (<usize>p << 1), x + (<usize>(2 * p) << 1), <usize>(n - 2 * p) << 1);
    return n - p;
  }
  memory.copy(y, x, <usize>p << 1);
  for (let i = 0; i < p; i++) {
    const w = <f64>(i + 1) / <f64>(p + 1);
    store<i16>(y + (<usize>(p + i) << 1), roundToInt16(sample(x, p + i) * (1 - w) + sample(x, i) * w));
  }
  memory.copy(y + (<usize>(2 * p) << 1), x + (<usize>p << 1), <usize>(n - p) << 1);
  return n + p;
}

/** Removes one period from the first `n` input samples when it can; returns the output length. */
export function timeStretchAccelerate(state: usize, n: i32, outCapacity: i32): i32 {
  return stretch(state, n, outCapacity, -1);
}

/** Inserts one period into the first `n` input samples when it can; returns the output length. */
export function timeStretchExpand(state: usize, n: i32, outCapacity: i32): i32 {
  return stretch(state, n, outCapacity, 1);
}
