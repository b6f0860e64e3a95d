// Conference mixer: every member's mix-minus ("everyone but me") and the full
// mix, from one sum.
//
// The weighted sum of all inputs is formed once per sample in f32, then each
// output is limit(sum - gain_i * input_i). Sums of up to 256 int16 inputs at
// unit gain are below 2^24, so f32 holds them exactly: below the limiter's
// knee an output is bit-exact with the integer sum.
//
// The soft limiter is memoryless and branch-free, so it runs four lanes at a
// time (WebAssembly SIMD, f32x4):
//
//   |y| = |x|                                  for |x| <= T
//   |y| = T + K - K^2 / (|x| - T + K)          for |x| >  T
//
// with the knee T = 16384 (-6 dBFS) and K = 32768 - T. The curve leaves the
// knee with slope 1 (no corner to hear), rises strictly, and approaches 32768
// without reaching it, so a mix never wraps and never clips hard; values that
// round to 32768 saturate to 32767 in the final narrowing. K^2 / K is exact in
// f32 (both are powers of two), so below the knee the limiter adds exactly 0.
// Every step is one correctly rounded f32 operation of a monotonic function,
// so the rounded curve is monotonic too.

import { alloc, free } from './memory';

/** Most inputs a mixer takes: their unit-gain sum stays exact in f32 (256 * 32768 = 2^23). */
const MIXER_MAX_INPUTS: i32 = 256;
/** Longest frame: 120 ms at 48 kHz. */
const MIXER_MAX_SAMPLES: i32 = 5760;
/** Largest gain (+24 dB); larger ones are clamped to it. */
const MIXER_MAX_GAIN: f32 = 16.0;

const KNEE: f32 = 16384.0;
const HEADROOM: f32 = 32768.0 - KNEE;
const HEADROOM_SQUARED: f32 = HEADROOM * HEADROOM;

// State block (mixerCreate), one allocation; every section starts 16-byte aligned:
//
//   0  i32  maxInputs
//   4  i32  samplesPerFrame
//   8  i32  stride        samples per channel buffer: samplesPerFrame rounded up to 8 (one v128 of i16)
//  12  i32  (padding)
//  16  u32  gains         v128 x maxInputs: each input's gain in all four f32 lanes
//  20  u32  inputs        i16 x stride x maxInputs, input i at inputs + i * stride * 2
//  24  u32  outputs       i16 x stride x maxInputs, mix-minus i likewise
//  28  u32  mix           i16 x stride: the full mix
//  32  u32  sum           f32 x stride: the weighted sum of the last mix
//  48       sections, in the order above
const MIXER_MAX_INPUTS_AT: usize = 0;
const MIXER_SAMPLES_AT: usize = 4;
const MIXER_STRIDE_AT: usize = 8;
const MIXER_GAINS_AT: usize = 16;
const MIXER_INPUTS_AT: usize = 20;
const MIXER_OUTPUTS_AT: usize = 24;
const MIXER_MIX_AT: usize = 28;
const MIXER_SUM_AT: usize = 32;
const MIXER_HEADER_BYTES: usize = 48;

/** A mixer for up to `maxInputs` inputs of `samplesPerFrame` samples, all gains 1; 0 when either is out of range. */
export function mixerCreate(maxInputs: i32, samplesPerFrame: i32): usize {
  if (maxInputs < 1 || maxInputs > MIXER_MAX_INPUTS) return 0;
  if (samplesPerFrame < 1 || samplesPerFrame > MIXER_MAX_SAMPLES) return 0;
  const stride = (samplesPerFrame + 7) & ~7;
  const n = <usize>maxInputs;
  const channelBytes = <usize>stride << 1;
  const gainsBytes = n << 4;
  const inputsBytes = channelBytes * n;
  const state = alloc(MIXER_HEADER_BYTES + gainsBytes + 2 * inputsBytes + channelBytes + (<usize>stride << 2));
  const gains = state + MIXER_HEADER_BYTES;
  const inputs = gains + gainsBytes;
  const outputs = inputs + inputsBytes;
  const mix = outputs + inputsBytes;
  const sum = mix + channelBytes;
  store<i32>(state, maxInputs, MIXER_MAX_INPUTS_AT);
  store<i32>(state, samplesPerFrame, MIXER_SAMPLES_AT);
  store<i32>(state, stride, MIXER_STRIDE_AT);
  store<u32>(state, <u32>gains, MIXER_GAINS_AT);
  store<u32>(state, <u32>inputs, MIXER_INPUTS_AT);
  store<u32>(state, <u32>outputs, MIXER_OUTPUTS_AT);
  store<u32>(state, <u32>mix, MIXER_MIX_AT);
  store<u32>(state, <u32>sum, MIXER_SUM_AT);
  const unity = f32x4.splat(1.0);
  for (let i: usize = 0; i < n; i++) v128.store(gains + (i << 4), unity);
  return state;
}

export function mixerDestroy(state: usize): void {
  free(state);
}

/** Where the caller writes input `i`'s frame; 0 when `i` is out of range. */
export function mixerInput(state: usize, i: i32): usize {
  if (i < 0 || i >= load<i32>(state, MIXER_MAX_INPUTS_AT)) return 0;
  return <usize>load<u32>(state, MIXER_INPUTS_AT) + <usize>i * (<usize>load<i32>(state, MIXER_STRIDE_AT) << 1);
}

/** Where mix-minus output `i` is read; 0 when `i` is out of range. */
export function mixerOutput(state: usize, i: i32): usize {
  if (i < 0 || i >= load<i32>(state, MIXER_MAX_INPUTS_AT)) return 0;
  return <usize>load<u32>(state, MIXER_OUTPUTS_AT) + <usize>i * (<usize>load<i32>(state, MIXER_STRIDE_AT) << 1);
}

/** Where the full mix is read. */
export function mixerMixOutput(state: usize): usize {
  return <usize>load<u32>(state, MIXER_MIX_AT);
}

/**
 * Sets input `i`'s linear gain. NaN and negative gains mute the input (0),
 * gains above 16 are clamped to 16. Returns 1, or 0 when `i` is out of range.
 */
export function mixerSetGain(state: usize, i: i32, gain: f32): i32 {
  if (i < 0 || i >= load<i32>(state, MIXER_MAX_INPUTS_AT)) return 0;
  const g: f32 = gain >= 0 ? min(gain, MIXER_MAX_GAIN) : 0; // NaN fails >= and mutes
  v128.store(<usize>load<u32>(state, MIXER_GAINS_AT) + (<usize>i << 4), f32x4.splat(g));
  return 1;
}

export function mixerGain(state: usize, i: i32): f32 {
  if (i < 0 || i >= load<i32>(state, MIXER_MAX_INPUTS_AT)) return 0;
  return load<f32>(<usize>load<u32>(state, MIXER_GAINS_AT) + (<usize>i << 4));
}

// Rounding by the magic number 1.5 * 2^23: for |v| < 2^22, v + MAGIC lands in
// [2^23, 2^24), where f32's unit in the last place is exactly 1, so the add
// itself rounds v to an integer, half to even (IEEE 754 round-to-nearest, as
// `nearest` does), and the low mantissa bits of the result hold it in two's
// complement offset by MAGIC's. Subtracting MAGIC's bit pattern as an i32
// gives the rounded integer: nearest + trunc_sat in two plain instructions.
// The limiter's output is below 32768 in magnitude, far inside the range.
const MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const MAGIC_BITS: i32 = 0x4b400000;

/**
 * The soft limiter on four lanes; see the curve at the top of the file.
 * `pmin`/`pmax` (b < a ? b : a) instead of `min`/`max`: the two differ only
 * for NaN and signed zeros, which never reach here (the sum is finite and
 * `a - KNEE` is never -0), and they compile to one minps/maxps each where
 * IEEE `min`/`max` need a NaN- and zero-sign-fixing sequence. The constants
 * come in as arguments, splatted once per pass by the caller: V8 rebuilds a
 * `v128.const` at every use rather than hoisting it out of the loop.
 */
// @ts-ignore: decorator
@inline function limit(x: v128, knee: v128, headroom: v128, headroomSquared: v128): v128 {
  const a = f32x4.abs(x);
  const over = f32x4.pmax(f32x4.sub(a, knee), f32x4.splat(0));
  const bent = f32x4.sub(headroom, f32x4.div(headroomSquared, f32x4.add(over, headroom)));
  const y = f32x4.add(f32x4.pmin(a, knee), bent);
  return v128.or(y, v128.and(x, i32x4.splat(0x80000000))); // x's sign back on
}

/** Rounds four f32 lanes (|v| < 2^22) half to even into i32 lanes, by the magic number above. */
// @ts-ignore: decorator
@inline function roundToI32(v: v128, magic: v128, magicBits: v128): v128 {
  return i32x4.sub(f32x4.add(v, magic), magicBits);
}

/** Limits, rounds half to even and narrows eight f32 lanes to i16 (saturating: 32768 becomes 32767). */
// @ts-ignore: decorator
@inline function limitToI16(lo: v128, hi: v128, knee: v128, headroom: v128, headroomSquared: v128, magic: v128, magicBits: v128): v128 {
  return i16x8.narrow_i32x4_s(
    roundToI32(limit(lo, knee, headroom, headroomSquared), magic, magicBits),
    roundToI32(limit(hi, knee, headroom, headroomSquared), magic, magicBits),
  );
}

/** The weighted sum of the first `count` inputs into `sum`, and its limited form into the full mix. */
function sumInputs(state: usize, count: i32): void {
  const stride = load<i32>(state, MIXER_STRIDE_AT);
  const channelBytes = <usize>stride << 1;
  const gains = <usize>load<u32>(state, MIXER_GAINS_AT);
  const inputs = <usize>load<u32>(state, MIXER_INPUTS_AT);
  const mix = <usize>load<u32>(state, MIXER_MIX_AT);
  const sum = <usize>load<u32>(state, MIXER_SUM_AT);
  const knee = f32x4.splat(KNEE);
  const headroom = f32x4.splat(HEADROOM);
  const headroomSquared = f32x4.splat(HEADROOM_SQUARED);
  const magic = f32x4.splat(MAGIC);
  const magicBits = i32x4.splat(MAGIC_BITS);
  const blocks = stride >> 3;
  // Sample blocks outside, inputs inside: the two accumulators stay in
  // registers and the sum is stored once per block.
  for (let b = 0; b < blocks; b++) {
    let lo = f32x4.splat(0);
    let hi = f32x4.splat(0);
    let p = inputs + (<usize>b << 4);
    let g = gains;
    for (let i = 0; i < count; i++) {
      const v = v128.load(p);
      const gain = v128.load(g);
      lo = f32x4.add(lo, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)), gain));
      hi = f32x4.add(hi, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), gain));
      p += channelBytes;
      g += 16;
    }
    v128.store(sum + (<usize>b << 5), lo);
    v128.store(sum + (<usize>b << 5), hi, 16);
    v128.store(mix + (<usize>b << 4), limitToI16(lo, hi, knee, headroom, headroomSquared, magic, magicBits));
  }
}

/** Clamps a requested input count to what the mixer holds. */
// @ts-ignore: decorator
@inline function inputCount(state: usize, count: i32): i32 {
  return min(max(count, 0), load<i32>(state, MIXER_MAX_INPUTS_AT));
}

/**
 * mixMinusOne: for the first `count` inputs (clamped to 0..maxInputs), writes
 * every member's output (everyone but itself) and the full mix, in one pass
 * over the sum. Returns the number of inputs mixed.
 */
export function mixerMixMinusOne(state: usize, count: i32): i32 {
  const n = inputCount(state, count);
  sumInputs(state, n);
  const stride = load<i32>(state, MIXER_STRIDE_AT);
  const channelBytes = <usize>stride << 1;
  const gains = <usize>load<u32>(state, MIXER_GAINS_AT);
  const inputs = <usize>load<u32>(state, MIXER_INPUTS_AT);
  const outputs = <usize>load<u32>(state, MIXER_OUTPUTS_AT);
  const sum = <usize>load<u32>(state, MIXER_SUM_AT);
  const knee = f32x4.splat(KNEE);
  const headroom = f32x4.splat(HEADROOM);
  const headroomSquared = f32x4.splat(HEADROOM_SQUARED);
  const magic = f32x4.splat(MAGIC);
  const magicBits = i32x4.splat(MAGIC_BITS);
  const blocks = stride >> 3;
  for (let i = 0; i < n; i++) {
    const gain = v128.load(gains + (<usize>i << 4));
    const src = inputs + <usize>i * channelBytes;
    const dst = outputs + <usize>i * channelBytes;
    for (let b = 0; b < blocks; b++) {
      const v = v128.load(src + (<usize>b << 4));
      const s = sum + (<usize>b << 5);
      const lo = f32x4.sub(v128.load(s), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)), gain));
      const hi = f32x4.sub(v128.load(s, 16), f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), gain));
      v128.store(dst + (<usize>b << 4), limitToI16(lo, hi, knee, headroom, headroomSquared, magic, magicBits));
    }
  }
  return n;
}

/** Only the full mix of the first `count` inputs (a recording with no one to send mix-minus to). Returns the inputs mixed. */
export function mixerMix(state: usize, count: i32): i32 {
  const n = inputCount(state, count);
  sumInputs(state, n);
  return n;
}
