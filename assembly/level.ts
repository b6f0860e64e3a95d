// Level meter: RMS and peak of a 16-bit frame in dBFS.
//
// Full scale is 32767: a full-scale sine reads 0 dBFS peak and -3.01 dBFS RMS,
// a full-scale square wave 0 dBFS for both. -32768 counts as full scale, so no
// reading exceeds 0. Silence reads LEVEL_FLOOR_DBFS rather than -Infinity: it
// stays a finite number in JSON (/status) and in Prometheus gauges, and sits
// below anything 16-bit audio can carry (one LSB in a 960-sample frame reads
// -120.1 dBFS RMS, which the floor absorbs).

import { alloc, free } from './memory';

const LEVEL_FLOOR_DBFS: f64 = -120.0;
const FULL_SCALE: f64 = 32767.0;
const FULL_SCALE_SQUARED: f64 = FULL_SCALE * FULL_SCALE;

// State block of a meter (levelCreate), 16-byte aligned:
//
//   0  i32  capacity      samples the buffer holds
//   4  i32  measured      samples in the last measurement
//   8  f64  rmsDbfs       of the last measurement
//  16  f64  peakDbfs      of the last measurement
//  24       (padding)
//  32  i16  samples[capacity]
const LEVEL_CAPACITY: usize = 0;
const LEVEL_MEASURED: usize = 4;
const LEVEL_RMS_DBFS: usize = 8;
const LEVEL_PEAK_DBFS: usize = 16;
const LEVEL_SAMPLES: usize = 32;

/** Largest frame a meter accepts: 120 ms at 48 kHz. */
const LEVEL_MAX_SAMPLES: i32 = 5760;

/** Sum of squares of `n` samples at `ptr`, exact (integer-valued f64). */
export function levelSumSquares(ptr: usize, n: i32): f64 {
  if (n <= 0) return 0;
  // i32x4.dot_i16x8_s adds two products per lane; two (-32768)^2 make 2^31,
  // which wraps to negative as i32 but is exact as u32, so the lanes are
  // widened unsigned into i64 accumulators.
  let acc = i64x2.splat(0);
  const blocks = n >> 3;
  let p = ptr;
  for (let b = 0; b < blocks; b++) {
    const v = v128.load(p);
    const d = i32x4.dot_i16x8_s(v, v);
    acc = i64x2.add(acc, i64x2.extend_low_i32x4_u(d));
    acc = i64x2.add(acc, i64x2.extend_high_i32x4_u(d));
    p += 16;
  }
  let sum = i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1);
  for (let k = blocks << 3; k < n; k++) {
    const x = <i64>load<i16>(ptr + (<usize>k << 1));
    sum += x * x;
  }
  return <f64>sum;
}

/** Largest magnitude among `n` samples at `ptr` (32768 for -32768). */
export function levelPeak(ptr: usize, n: i32): i32 {
  if (n <= 0) return 0;
  // Max and min separately: i16x8.abs(-32768) wraps to itself.
  let hi = i16x8.splat(0);
  let lo = i16x8.splat(0);
  const blocks = n >> 3;
  let p = ptr;
  for (let b = 0; b < blocks; b++) {
    const v = v128.load(p);
    hi = i16x8.max_s(hi, v);
    lo = i16x8.min_s(lo, v);
    p += 16;
  }
  let top: i32 = 0;
  let bottom: i32 = 0;
  top = max(top, <i32>i16x8.extract_lane_s(hi, 0));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 1));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 2));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 3));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 4));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 5));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 6));
  top = max(top, <i32>i16x8.extract_lane_s(hi, 7));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 0));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 1));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 2));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 3));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 4));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 5));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 6));
  bottom = min(bottom, <i32>i16x8.extract_lane_s(lo, 7));
  for (let k = blocks << 3; k < n; k++) {
    const x = <i32>load<i16>(ptr + (<usize>k << 1));
    top = max(top, x);
    bottom = min(bottom, x);
  }
  return max(top, -bottom);
}

/** RMS level in dBFS of a frame whose sum of squares over `n` samples is `sumSquares`. */
export function levelRmsDbfsOf(sumSquares: f64, n: i32): f64 {
  if (n <= 0 || sumSquares <= 0) return LEVEL_FLOOR_DBFS;
  const db = 10.0 * Math.log10(sumSquares / <f64>n / FULL_SCALE_SQUARED);
  return min(0.0, max(LEVEL_FLOOR_DBFS, db));
}

/** Peak level in dBFS of a peak magnitude. */
export function levelPeakDbfsOf(peak: i32): f64 {
  if (peak <= 0) return LEVEL_FLOOR_DBFS;
  const db = 20.0 * Math.log10(<f64>min(peak, 32767) / FULL_SCALE);
  return max(LEVEL_FLOOR_DBFS, db);
}

/** A meter with a buffer for frames of up to `maxSamples`; 0 when `maxSamples` is out of 1..LEVEL_MAX_SAMPLES. */
export function levelCreate(maxSamples: i32): usize {
  if (maxSamples < 1 || maxSamples > LEVEL_MAX_SAMPLES) return 0;
  const state = alloc(LEVEL_SAMPLES + (<usize>maxSamples << 1));
  store<i32>(state, maxSamples, LEVEL_CAPACITY);
  store<f64>(state, LEVEL_FLOOR_DBFS, LEVEL_RMS_DBFS);
  store<f64>(state, LEVEL_FLOOR_DBFS, LEVEL_PEAK_DBFS);
  return state;
}

export function levelDestroy(state: usize): void {
  free(state);
}

/** Where the caller writes the frame to measure. */
export function levelSamples(state: usize): usize {
  return state + LEVEL_SAMPLES;
}

/** Measures the first `n` samples of the buffer (clamped to its capacity); returns how many were measured. */
export function levelMeasure(state: usize, n: i32): i32 {
  const count = min(max(n, 0), load<i32>(state, LEVEL_CAPACITY));
  const samples = state + LEVEL_SAMPLES;
  store<i32>(state, count, LEVEL_MEASURED);
  store<f64>(state, levelRmsDbfsOf(levelSumSquares(samples, count), count), LEVEL_RMS_DBFS);
  store<f64>(state, levelPeakDbfsOf(levelPeak(samples, count)), LEVEL_PEAK_DBFS);
  return count;
}

export function levelRmsDbfs(state: usize): f64 {
  return load<f64>(state, LEVEL_RMS_DBFS);
}

export function levelPeakDbfs(state: usize): f64 {
  return load<f64>(state, LEVEL_PEAK_DBFS);
}
