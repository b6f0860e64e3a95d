// Sample-rate conversion between 8, 16, 24 and 48 kHz: a rational L/M
// polyphase resampler over a Kaiser-windowed sinc.
//
// Conceptually the input is raised to L·fromHz by inserting L−1 zeros after
// each sample, low-pass filtered by the prototype h (N taps, linear phase),
// and every M-th sample is kept. Output j then needs only the prototype taps
// that meet real samples: with t = j·M, phase p = t mod L and newest input
// b = ⌊t/L⌋,
//
//   y[j] = Σ_k h[p + L·k] · x[b − k]
//
// so each phase p is a short filter of ⌈N/L⌉ taps (the polyphase
// decomposition: R. E. Crochiere and L. R. Rabiner, "Multirate Digital
// Signal Processing", 1983, §3.3.4). Filtering one sample stream with state
// carried across calls is what makes any cut of the input into calls give
// the same output, sample for sample.
//
// The prototype's cut-off sits halfway between the passband edge (0.4 × the
// lower rate) and the point where images and aliases must be gone (0.5 ×
// the lower rate); its length and window follow Kaiser's design formulas
// (J. F. Kaiser, "Nonrecursive digital filter design using the I0-sinh
// window function", Proc. IEEE ISCAS 1974) for RESAMPLER_ATTENUATION_DB,
// which leaves room under the 70 dB the engine promises for the float32
// coefficients and the 16-bit output. N is chosen as 2·M·D + 1, so the
// prototype's group delay of (N − 1)/2 samples at L·fromHz is exactly D
// samples at the output rate: callers align by a whole number of samples.
//
// Arithmetic is float32; the dot products run four taps at a time in v128
// lanes, over phases padded with zero taps to a multiple of
// RESAMPLER_TAP_BLOCK.
//
// Filter table, one per rate pair, made on first use and shared by every
// stream of that pair for the life of the instance (never freed: at most 16
// of them, a few KiB in all):
//
//   TABLE_L       i32  interpolation factor L
//   TABLE_M       i32  decimation factor M
//   TABLE_TAPS    i32  taps per phase T (a multiple of RESAMPLER_TAP_BLOCK)
//   TABLE_DELAY   i32  group delay D, output samples
//   TABLE_COEFS   f32[L × T]  phase p at TABLE_COEFS + 4·T·p; tap m of a
//                       phase multiplies history[b − T + 1 + m], so taps are
//                       stored oldest input first: c_p[m] = h[p + L·(T−1−m)],
//                       0 where that index passes N
//
// Stream state, one block per stream:
//
//   STATE_TABLE     usize  the pair's filter table
//   STATE_PHASE     i32    p of the next output
//   STATE_SKIP      i32    inputs still to come before the next output's
//                          newest input: b − (inputs seen so far)
//   STATE_CAPACITY  i32    most input samples one call takes
//   STATE_HISTORY   f32[T − 1 + capacity]  the last T − 1 inputs (zeros at
//                          the start of a stream), then this call's inputs

import { alloc, free } from './memory';

/** Stopband attenuation the prototype is designed for, dB. */
const RESAMPLER_ATTENUATION_DB: f64 = 80;
/** Passband edge, as a fraction of the lower of the two rates. */
const RESAMPLER_PASSBAND: f64 = 0.4;
/** Stopband edge (no image or alias above it), as a fraction of the lower rate. */
const RESAMPLER_STOPBAND: f64 = 0.5;
/** Phases are padded to a multiple of this many taps: two v128 vectors of four lanes. */
const RESAMPLER_TAP_BLOCK: i32 = 8;

const TABLE_L: usize = 0;
const TABLE_M: usize = 4;
const TABLE_TAPS: usize = 8;
const TABLE_DELAY: usize = 12;
const TABLE_COEFS: usize = 16;

const STATE_TABLE: usize = 0;
const STATE_PHASE: usize = 4;
const STATE_SKIP: usize = 8;
const STATE_CAPACITY: usize = 12;
const STATE_HISTORY: usize = 16;

/** Supported rates, in the order of their slot in TABLES. */
const RATE_COUNT: i32 = 4;
/** One table pointer per (from, to) pair, 0 until first used. */
const TABLES: usize = memory.data(RATE_COUNT * RATE_COUNT * <i32>sizeof<usize>(), 16);

function rateIndex(rateHz: i32): i32 {
  if (rateHz == 8000) return 0;
  if (rateHz == 16000) return 1;
  if (rateHz == 24000) return 2;
  if (rateHz == 48000) return 3;
  return -1;
}

function gcd(a: i32, b: i32): i32 {
  while (b != 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** Modified Bessel function of the first kind, order 0, by its power series (converges fast for the β used here). */
function besselI0(x: f64): f64 {
  const q = (x * x) / 4;
  let term: f64 = 1;
  let sum: f64 = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (<f64>k * <f64>k);
    sum += term;
  }
  return sum;
}

/** Kaiser's β for a stopband attenuation a > 50 dB (Kaiser 1974). */
function kaiserBeta(attenuationDb: f64): f64 {
  return 0.1102 * (attenuationDb - 8.7);
}

/** Builds the filter table of one pair (set-up time only: allocates). */
function design(fromHz: i32, toHz: i32): usize {
  const g = gcd(fromHz, toHz);
  const l = toHz / g;
  const m = fromHz / g;
  let n: i32 = 1; // the identity is a single unit tap
  let delay: i32 = 0;
  if (l != 1 || m != 1) {
    const lowHz = <f64>min(fromHz, toHz);
    const protoHz = <f64>l * <f64>fromHz;
    const transition = (2 * Math.PI * (RESAMPLER_STOPBAND - RESAMPLER_PASSBAND) * lowHz) / protoHz;
    const minOrder = (RESAMPLER_ATTENUATION_DB - 7.95) / (2.285 * transition);
    delay = <i32>Math.ceil(minOrder / <f64>(2 * m));
    n = 2 * m * delay + 1;
  }
  const perPhase = (n + l - 1) / l;
  const taps = ((perPhase + RESAMPLER_TAP_BLOCK - 1) / RESAMPLER_TAP_BLOCK) * RESAMPLER_TAP_BLOCK;
  const table = alloc(TABLE_COEFS + <usize>(l * taps) * 4);
  store<i32>(table + TABLE_L, l);
  store<i32>(table + TABLE_M, m);
  store<i32>(table + TABLE_TAPS, taps);
  store<i32>(table + TABLE_DELAY, delay);

  const coefs = table + TABLE_COEFS;
  if (n == 1) {
    store<f32>(coefs + <usize>(taps - 1) * 4, 1);
    return table;
  }
  // Prototype at L·fromHz, cut-off midway through the transition band.
  const lowHz = <f64>min(fromHz, toHz);
  const cutoff = (((RESAMPLER_PASSBAND + RESAMPLER_STOPBAND) / 2) * lowHz) / (<f64>l * <f64>fromHz);
  const beta = kaiserBeta(RESAMPLER_ATTENUATION_DB);
  const i0Beta = besselI0(beta);
  const centre = <f64>(n - 1) / 2;
  // Gain L: inserting L−1 zeros per sample leaves the baseband at 1/L.
  const gain = <f64>l;
  for (let i = 0; i < n; i++) {
    const t = <f64>i - centre;
    const x = 2 * cutoff * t;
    const sinc = t == 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const r = t / centre;
    const window = besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
    const h = gain * 2 * cutoff * sinc * window;
    const phase = i % l;
    const k = i / l;
    store<f32>(coefs + <usize>(phase * taps + taps - 1 - k) * 4, <f32>h);
  }
  return table;
}

/** The shared table of a pair, made on first use; 0 for an unsupported rate. */
function tableFor(fromHz: i32, toHz: i32): usize {
  const from = rateIndex(fromHz);
  const to = rateIndex(toHz);
  if (from < 0 || to < 0) return 0;
  const slot = TABLES + <usize>(from * RATE_COUNT + to) * sizeof<usize>();
  let table = load<usize>(slot);
  if (table == 0) {
    table = design(fromHz, toHz);
    store<usize>(slot, table);
  }
  return table;
}

/**
 * A stream converting fromHz to toHz that takes up to maxInputSamples per
 * call; 0 when a rate is not supported or maxInputSamples < 1. Allocates.
 */
export function resamplerCreate(fromHz: i32, toHz: i32, maxInputSamples: i32): usize {
  if (maxInputSamples < 1) return 0;
  const table = tableFor(fromHz, toHz);
  if (table == 0) return 0;
  const taps = load<i32>(table + TABLE_TAPS);
  const state = alloc(STATE_HISTORY + <usize>(taps - 1 + maxInputSamples) * 4);
  store<usize>(state + STATE_TABLE, table);
  store<i32>(state + STATE_CAPACITY, maxInputSamples);
  return state;
}

/** Frees a stream (0 is ignored); its pair's table stays for other streams. */
export function resamplerDestroy(state: usize): void {
  free(state);
}

/** Back to the start of a stream: silent history, first output next. */
export function resamplerReset(state: usize): void {
  if (state == 0) return;
  const taps = load<i32>(load<usize>(state + STATE_TABLE) + TABLE_TAPS);
  store<i32>(state + STATE_PHASE, 0);
  store<i32>(state + STATE_SKIP, 0);
  memory.fill(state + STATE_HISTORY, 0, <usize>(taps - 1) * 4);
}

/** Group delay of the stream's filter, in output samples (whole by design). */
export function resamplerDelaySamples(state: usize): i32 {
  if (state == 0) return 0;
  return load<i32>(load<usize>(state + STATE_TABLE) + TABLE_DELAY);
}

/** int16 to float32, eight samples per step. */
@inline function widen(src: usize, n: i32, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v)));
    v128.store(dst + (<usize>i << 2), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v)), 16);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<i16>(src + (<usize>i << 1)));
}

/**
 * Σ coefs[m]·window[m] over `taps` (a multiple of 8) taps. Four
 * accumulators keep four f32x4 additions in flight, so the loop runs at the
 * multipliers' pace rather than waiting on each addition's latency.
 */
@inline function dot(coefs: usize, window: usize, taps: i32): f32 {
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  let c = f32x4.splat(0);
  let d = f32x4.splat(0);
  const bytes = <usize>taps << 2;
  const wide = bytes & ~(<usize>63);
  let o: usize = 0;
  for (; o < wide; o += 64) {
    a = f32x4.add(a, f32x4.mul(v128.load(coefs + o), v128.load(window + o)));
    b = f32x4.add(b, f32x4.mul(v128.load(coefs + o, 16), v128.load(window + o, 16)));
    c = f32x4.add(c, f32x4.mul(v128.load(coefs + o, 32), v128.load(window + o, 32)));
    d = f32x4.add(d, f32x4.mul(v128.load(coefs + o, 48), v128.load(window + o, 48)));
  }
  if (o < bytes) {
    a = f32x4.add(a, f32x4.mul(v128.load(coefs + o), v128.load(window + o)));
    b = f32x4.add(b, f32x4.mul(v128.load(coefs + o, 16), v128.load(window + o, 16)));
  }
  a = f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
  return (
    f32x4.extract_lane(a, 0) +
    f32x4.extract_lane(a, 1) +
    (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3))
  );
}

/**
 * Takes n int16 samples at src (at most the stream's capacity; more are
 * ignored) and writes the outputs they complete to dst, at most dstCapacity
 * of them; outputs beyond that are dropped, the stream keeping its timing.
 * Returns the count written. Rounds to nearest and saturates to int16.
 */
export function resamplerProcess(state: usize, src: usize, n: i32, dst: usize, dstCapacity: i32): i32 {
  if (state == 0 || n <= 0) return 0;
  const capacity = load<i32>(state + STATE_CAPACITY);
  if (n > capacity) n = capacity;
  const table = load<usize>(state + STATE_TABLE);
  const l = load<i32>(table + TABLE_L);
  const m = load<i32>(table + TABLE_M);
  const taps = load<i32>(table + TABLE_TAPS);
  const coefs = table + TABLE_COEFS;
  const history = state + STATE_HISTORY;
  const kept = taps - 1;
  widen(src, n, history + (<usize>kept << 2));

  // Phase steps by M each output: the newest input advances by ⌊M/L⌋, one
  // more when the phase wraps.
  const stepWhole = m / l;
  const stepPhase = m % l;
  const phaseBytes = <usize>taps << 2;
  let phase = load<i32>(state + STATE_PHASE);
  let newest = kept + load<i32>(state + STATE_SKIP);
  const end = kept + n;
  let written = 0;
  while (newest < end) {
    if (written < dstCapacity) {
      const window = history + (<usize>(newest - kept) << 2);
      const y = dot(coefs + <usize>phase * phaseBytes, window, taps);
      // Conversion saturates (i32.trunc_sat); the clamp is on integers, cheaper
      // than f32.min/max, whose NaN rules cost extra instructions.
      const s = <i32>nearest<f32>(y);
      store<i16>(dst + (<usize>written << 1), <i16>min(max(s, -32768), 32767));
      written++;
    }
    phase += stepPhase;
    newest += stepWhole;
    if (phase >= l) {
      phase -= l;
      newest++;
    }
  }
  store<i32>(state + STATE_PHASE, phase);
  store<i32>(state + STATE_SKIP, newest - end);
  // Keep the last T − 1 inputs for the next call's first outputs.
  memory.copy(history, history + (<usize>n << 2), <usize>kept << 2);
  return written;
}
