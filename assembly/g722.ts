// G.722 at 64 kbit/s (mode 1): QMF and sub-band ADPCM (ITU-T G.722), in the
// standard's 16-bit integer arithmetic, so its bitstream and its decoding
// match any other implementation that follows the standard, bit for bit.
// src/dsp/reference/g722.ts is the same algorithm written plainly, block by
// block; block names (QUANTL, UPPOL2, …) are the standard's.
//
// Both QMFs are 24-tap dot products in SIMD (i32x4.dot_i16x8_s over a
// history kept twice in a row, so the last 24 samples are always contiguous).
// The six-tap zero predictor (UPZERO, DELAYZ, FILTEZ) runs in two i32x4
// vectors; the rest of the ADPCM recursion is scalar, sample by sample.
//
// One byte per input pair: bits 7–6 the high band's 2-bit code, 5–0 the low
// band's 6-bit code.

// Sub-band state (i32 slots, byte offsets), one per band:
//
//    0  D1 D2 D3 D4 | 16  D5 D6 0 0    quantized differences d(n−1…n−6)
//   32  B1 B2 B3 B4 | 48  B5 B6 0 0    zero-predictor coefficients
//   64  S     predictor output (SL or SH)
//   68  SZ    its zero part
//   72  R1    reconstructed signal r(n−1)
//   76  R2    r(n−2)
//   80  P1    partial reconstruction p(n−1)
//   84  P2    p(n−2)
//   88  A1    pole coefficients a1, a2
//   92  A2
//   96  NB    log scale factor
//  100  DET   linear scale factor
//  104  (padding to 112)
const BAND_D: usize = 0;
const BAND_B: usize = 32;
const BAND_S: usize = 64;
const BAND_SZ: usize = 68;
const BAND_R1: usize = 72;
const BAND_R2: usize = 76;
const BAND_P1: usize = 80;
const BAND_P2: usize = 84;
const BAND_A1: usize = 88;
const BAND_A2: usize = 92;
const BAND_NB: usize = 96;
const BAND_DET: usize = 100;
const BAND_BYTES: usize = 112;

// Coder state (encoder and decoder alike), allocated by g722EncoderCreate or
// g722DecoderCreate:
//
//    0  low band (BAND_BYTES)
//  112  high band (BAND_BYTES)
//  224  QMF_POS  i32: index in the ring where the next pair goes (0, 2, …, 22)
//  228  (padding)
//  240  QMF ring: 48 × i16, entry k and k+24 equal; the 24 newest samples,
//       oldest first, start at QMF_POS. The encoder keeps input samples; the
//       decoder keeps xs at even and xd at odd indices.
//  336  end
const STATE_LOW: usize = 0;
const STATE_HIGH: usize = STATE_LOW + BAND_BYTES;
const STATE_QMF_POS: usize = STATE_HIGH + BAND_BYTES;
const STATE_QMF_RING: usize = 240;
const QMF_TAPS: i32 = 24;
const STATE_BYTES: usize = 336;

/** Initial linear scale factors DETL and DETH. */
const DETL_INIT: i32 = 32;
const DETH_INIT: i32 = 8;
/** Upper limits of the log scale factors NBL and NBH. */
const NBL_MAX: i32 = 18432;
const NBH_MAX: i32 = 22528;
/** SCALEL and SCALEH shift the mantissa by these minus NB's integer part. */
const SCALEL_SHIFT: i32 = 8;
const SCALEH_SHIFT: i32 = 10;
/** QUANTH: the one decision level of the 2-bit high-band quantizer (Q12 of DETH). */
const Q2: i32 = 564;

// QMF coefficients h0…h23 (symmetric). With the newest sample at the
// window's end, sample k of the window meets h[k]; the even and odd taps are
// split so one pass gives both of the standard's partial sums.
const H_EVEN_0: v128 = i16x8(3, 0, -11, 0, 12, 0, 32, 0);
const H_EVEN_1: v128 = i16x8(-210, 0, 951, 0, 3876, 0, -805, 0);
const H_EVEN_2: v128 = i16x8(362, 0, -156, 0, 53, 0, -11, 0);
const H_ODD_0: v128 = i16x8(0, -11, 0, 53, 0, -156, 0, 362);
const H_ODD_1: v128 = i16x8(0, -805, 0, 3876, 0, 951, 0, -210);
const H_ODD_2: v128 = i16x8(0, 32, 0, 12, 0, -11, 0, 3);

/**
 * QUANTL: decision levels 1…29 of the 6-bit quantizer (Q12 of DETL) as i32,
 * four to a vector; the last vector's three padding lanes are 0 and always
 * counted (Q6_PADDING).
 */
const Q6: usize = memory.data<i32>(
  [
    35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339,
    1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0, 0,
  ],
  16,
);
const Q6_PADDING: i32 = 3;
/**
 * QUANTL: the code of interval i (1…30: i − 1 decision levels reached) for
 * negative and positive differences; entry 0 is never used.
 */
const ILN: usize = memory.data<u8>([
  63, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
]);
const ILP: usize = memory.data<u8>([
  61, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
  33, 32,
]);
/** INVQBL (mode 1): 6-bit inverse quantizer outputs (Q15 of DETL). */
const QM6: usize = memory.data<i16>([
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464,
  4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
]);
/** INVQAL: 4-bit inverse quantizer outputs for the low-band predictor. */
const QM4: usize = memory.data<i16>([
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
]);
/** LOGSCL: the log scale factor step of each 4-bit code, WL[RL42[code]]. */
const WL_BY_CODE4: usize = memory.data<i16>([
  -60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60,
]);
/** INVQAH: 2-bit inverse quantizer outputs. */
const QM2: usize = memory.data<i16>([-7408, -1616, 7408, 1616]);
/** LOGSCH: the log scale factor step of each 2-bit code, WH[RH2[code]]. */
const WH_BY_CODE2: usize = memory.data<i16>([798, -214, 798, -214]);
/** SCALEL/SCALEH: 2^(i/32) in Q11, the mantissa of the linear scale factor. */
const ILB: usize = memory.data<i16>([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025,
  3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);

@inline function sat16(x: i32): i32 {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

@inline function clamp(x: i32, lo: i32, hi: i32): i32 {
  return x > hi ? hi : x < lo ? lo : x;
}

/** LOGSCL + SCALEL (or LOGSCH + SCALEH): adapts DET to the last code. */
@inline function adaptScale(band: usize, step: i32, nbMax: i32, shiftBase: i32): void {
  const nb = clamp(((load<i32>(band, BAND_NB) * 127) >> 7) + step, 0, nbMax);
  const mantissa = <i32>load<i16>(ILB + (<usize>((nb >> 6) & 31) << 1));
  const shift = shiftBase - (nb >> 11);
  store<i32>(band, nb, BAND_NB);
  store<i32>(band, (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2, BAND_DET);
}

/**
 * Block 4: reconstruct, adapt the pole and zero predictors, predict the next
 * sample. The coefficients leak by 1 − 2^−7 (a2: 32512/32768) and 1 − 2^−8
 * (a1 and b: 32640/32768) per sample, so they forget old signal.
 */
@inline function predict(band: usize, dq: i32): void {
  // RECONS, PARREC
  const r1 = load<i32>(band, BAND_R1);
  const r = sat16(load<i32>(band, BAND_S) + dq);
  const p = sat16(load<i32>(band, BAND_SZ) + dq);

  // UPPOL2: a2 follows the sign agreement of p(n) with p(n−1) and p(n−2).
  const sg0 = p >> 15;
  const sg1 = load<i32>(band, BAND_P1) >> 15;
  const sg2 = load<i32>(band, BAND_P2) >> 15;
  const a1Old = load<i32>(band, BAND_A1);
  const wd1 = sat16(a1Old << 2);
  const wd2 = min(sg0 == sg1 ? -wd1 : wd1, 32767);
  const a2 = clamp(
    (sg0 == sg2 ? 128 : -128) + (wd2 >> 7) + ((load<i32>(band, BAND_A2) * 32512) >> 15),
    -12288,
    12288,
  );

  // UPPOL1: a1 leaks and follows p(n)'s agreement with p(n−1); |a1| ≤ 15360 − a2.
  const limit = sat16(15360 - a2);
  const a1 = clamp(sat16((sg0 == sg1 ? 192 : -192) + ((a1Old * 32640) >> 15)), -limit, limit);

  // UPZERO: every b leaks and steps ±128 toward d(n)'s sign agreement with
  // d(n−i) (no step when d(n) = 0). The padding lanes' d stays 0; their b is
  // cleared so it never matters.
  const dLo = v128.load(band, BAND_D);
  const dHi = v128.load(band, BAND_D + 16);
  const step = i32x4.splat(dq == 0 ? 0 : 128);
  const negStep = i32x4.neg(step);
  const sgd = i32x4.splat(dq >> 15);
  const leak = i32x4.splat(32640);
  const lo16 = i32x4.splat(-32768);
  const hi16 = i32x4.splat(32767);
  const bLo = i32x4.max_s(
    i32x4.min_s(
      i32x4.add(
        v128.bitselect(step, negStep, i32x4.eq(i32x4.shr_s(dLo, 15), sgd)),
        i32x4.shr_s(i32x4.mul(v128.load(band, BAND_B), leak), 15),
      ),
      hi16,
    ),
    lo16,
  );
  const bHi = v128.and(
    i32x4.max_s(
      i32x4.min_s(
        i32x4.add(
          v128.bitselect(step, negStep, i32x4.eq(i32x4.shr_s(dHi, 15), sgd)),
          i32x4.shr_s(i32x4.mul(v128.load(band, BAND_B + 16), leak), 15),
        ),
        hi16,
      ),
      lo16,
    ),
    i32x4(-1, -1, 0, 0),
  );

  // DELAYZ: d(n) enters, d(n−6) leaves.
  const dNewLo = i32x4.shuffle(i32x4.splat(dq), dLo, 0, 4, 5, 6);
  const dNewHi = i32x4.shuffle(dLo, dHi, 3, 4, 6, 7);

  // FILTEZ: Σ b(i)·2d(n−i), each product scaled before summing.
  const twoLo = i32x4.max_s(i32x4.min_s(i32x4.add(dNewLo, dNewLo), hi16), lo16);
  const twoHi = i32x4.max_s(i32x4.min_s(i32x4.add(dNewHi, dNewHi), hi16), lo16);
  const terms = i32x4.add(i32x4.shr_s(i32x4.mul(bLo, twoLo), 15), i32x4.shr_s(i32x4.mul(bHi, twoHi), 15));
  const halves = i32x4.add(terms, i32x4.shuffle(terms, terms, 2, 3, 0, 1));
  const sz = sat16(i32x4.extract_lane(halves, 0) + i32x4.extract_lane(halves, 1));

  // DELAYA, FILTEP, PREDIC: the pole part uses r(n) and r(n−1).
  const sp = sat16(((a1 * sat16(r + r)) >> 15) + ((a2 * sat16(r1 + r1)) >> 15));

  v128.store(band, dNewLo, BAND_D);
  v128.store(band, dNewHi, BAND_D + 16);
  v128.store(band, bLo, BAND_B);
  v128.store(band, bHi, BAND_B + 16);
  store<i32>(band, sat16(sp + sz), BAND_S);
  store<i32>(band, sz, BAND_SZ);
  store<i32>(band, r, BAND_R1);
  store<i32>(band, r1, BAND_R2);
  store<i32>(band, load<i32>(band, BAND_P1), BAND_P2);
  store<i32>(band, p, BAND_P1);
  store<i32>(band, a1, BAND_A1);
  store<i32>(band, a2, BAND_A2);
}

/** Blocks 2L–4L, shared by coder and decoder: INVQAL, LOGSCL, SCALEL, block 4L. */
@inline function updateLow(band: usize, code6: i32): void {
  const code4 = <usize>(code6 >> 2) << 1;
  const dlt = (load<i32>(band, BAND_DET) * <i32>load<i16>(QM4 + code4)) >> 15;
  adaptScale(band, <i32>load<i16>(WL_BY_CODE4 + code4), NBL_MAX, SCALEL_SHIFT);
  predict(band, dlt);
}

/** Blocks 2H–4H: INVQAH, LOGSCH, SCALEH, block 4H; returns the quantized difference. */
@inline function updateHigh(band: usize, code2: i32): i32 {
  const at = <usize>code2 << 1;
  const dh = (load<i32>(band, BAND_DET) * <i32>load<i16>(QM2 + at)) >> 15;
  adaptScale(band, <i32>load<i16>(WH_BY_CODE2 + at), NBH_MAX, SCALEH_SHIFT);
  predict(band, dh);
  return dh;
}

/**
 * QUANTL: the 6-bit code of the low band's prediction error; adapts the band.
 * The interval index is the number of decision levels the magnitude reaches,
 * counted over all 29 at once instead of searched (no branch to mispredict).
 * magnitude ≥ (q·det) >> 12 is tested as ((magnitude + 1) << 12) > q·det.
 */
@inline function encodeLow(band: usize, xl: i32): i32 {
  const el = sat16(xl - load<i32>(band, BAND_S));
  const magnitude = el >= 0 ? el : -(el + 1);
  const det = i32x4.splat(load<i32>(band, BAND_DET));
  const scaled = i32x4.splat((magnitude + 1) << 12);
  let reached = i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6), det));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 16), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 32), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 48), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 64), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 80), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 96), det)));
  reached = i32x4.add(reached, i32x4.gt_s(scaled, i32x4.mul(v128.load(Q6, 112), det)));
  // Each lane counted −1 per level reached.
  const halves = i32x4.add(reached, i32x4.shuffle(reached, reached, 2, 3, 0, 1));
  const count = -(i32x4.extract_lane(halves, 0) + i32x4.extract_lane(halves, 1)) - Q6_PADDING;
  const code = <i32>load<u8>((el < 0 ? ILN : ILP) + <usize>(count + 1));
  updateLow(band, code);
  return code;
}

/** QUANTH: the 2-bit code of the high band's prediction error; adapts the band. */
@inline function encodeHigh(band: usize, xh: i32): i32 {
  const eh = sat16(xh - load<i32>(band, BAND_S));
  const magnitude = eh >= 0 ? eh : -(eh + 1);
  const upper = magnitude >= ((Q2 * load<i32>(band, BAND_DET)) >> 12);
  // Codes: negative 0 (upper) or 1, positive 2 (upper) or 3.
  const code = (eh < 0 ? 0 : 2) | (upper ? 0 : 1);
  updateHigh(band, code);
  return code;
}

/**
 * Puts a pair into the QMF ring and returns the address of the 24 newest
 * entries, oldest first.
 */
@inline function qmfPush(state: usize, older: i32, newer: i32): usize {
  const pos = load<i32>(state, STATE_QMF_POS);
  const at = state + STATE_QMF_RING + (<usize>pos << 1);
  store<i16>(at, <i16>older);
  store<i16>(at, <i16>newer, 2);
  store<i16>(at, <i16>older, QMF_TAPS << 1);
  store<i16>(at, <i16>newer, (QMF_TAPS << 1) + 2);
  const next = pos + 2 == QMF_TAPS ? 0 : pos + 2;
  store<i32>(state, next, STATE_QMF_POS);
  return state + STATE_QMF_RING + (<usize>next << 1);
}

/** Σ window[k]·h[k] over the even k (lane 0) and the odd k (lane 1) of 24 taps. */
@inline function qmfSums(window: usize): v128 {
  const w0 = v128.load(window);
  const w1 = v128.load(window, 16);
  const w2 = v128.load(window, 32);
  const even = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, H_EVEN_0), i32x4.dot_i16x8_s(w1, H_EVEN_1)),
    i32x4.dot_i16x8_s(w2, H_EVEN_2),
  );
  const odd = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, H_ODD_0), i32x4.dot_i16x8_s(w1, H_ODD_1)),
    i32x4.dot_i16x8_s(w2, H_ODD_2),
  );
  // [e0+e1, e2+e3, o0+o1, o2+o3], then the two halves folded.
  const pairs = i32x4.add(i32x4.shuffle(even, odd, 0, 2, 4, 6), i32x4.shuffle(even, odd, 1, 3, 5, 7));
  return i32x4.add(pairs, i32x4.shuffle(pairs, pairs, 1, 2, 3, 0)); // lanes 0 and 2 hold the sums
}

function resetState(state: usize): void {
  memory.fill(state, 0, STATE_BYTES);
  store<i32>(state + STATE_LOW, DETL_INIT, BAND_DET);
  store<i32>(state + STATE_HIGH, DETH_INIT, BAND_DET);
}

function createState(): usize {
  const state = heap.alloc(STATE_BYTES);
  resetState(state);
  return state;
}

// ---- encoder ---------------------------------------------------------------

/** A new encoder's state (free it with g722EncoderDestroy). */
export function g722EncoderCreate(): usize {
  return createState();
}

/** Returns the encoder to its initial state, as after create. */
export function g722EncoderReset(state: usize): void {
  resetState(state);
}

export function g722EncoderDestroy(state: usize): void {
  if (state != 0) heap.free(state);
}

/**
 * Encodes `samples` 16 kHz samples (i16 at pcm) into floor(samples / 2) bytes
 * at out and returns that count; an odd last sample is ignored.
 */
export function g722Encode(state: usize, pcm: usize, samples: i32, out: usize): i32 {
  const pairs = samples > 0 ? samples >> 1 : 0;
  const low = state + STATE_LOW;
  const high = state + STATE_HIGH;
  for (let j = 0; j < pairs; j++) {
    const at = pcm + (<usize>j << 2);
    // Transmit QMF: xA = Σ h(2i)·x(j−2i) is the odd-tap sum of the window,
    // xB = Σ h(2i+1)·x(j−2i−1) the even-tap one. h sums to 2^13, so the
    // shift by 14 leaves each band at half the input's amplitude.
    const sums = qmfSums(qmfPush(state, <i32>load<i16>(at), <i32>load<i16>(at, 2)));
    const xb = i32x4.extract_lane(sums, 0);
    const xa = i32x4.extract_lane(sums, 2);
    const codeLow = encodeLow(low, (xa + xb) >> 14);
    const codeHigh = encodeHigh(high, (xa - xb) >> 14);
    store<u8>(out + <usize>j, <u8>((codeHigh << 6) | codeLow));
  }
  return pairs;
}

// ---- decoder ---------------------------------------------------------------

/** A new decoder's state (free it with g722DecoderDestroy). */
export function g722DecoderCreate(): usize {
  return createState();
}

/** Returns the decoder to its initial state, as after create. */
export function g722DecoderReset(state: usize): void {
  resetState(state);
}

export function g722DecoderDestroy(state: usize): void {
  if (state != 0) heap.free(state);
}

/** Decodes `bytes` codes at src into 2 · bytes 16 kHz samples (i16) at out; returns that count. */
export function g722Decode(state: usize, src: usize, bytes: i32, out: usize): i32 {
  const n = bytes > 0 ? bytes : 0;
  const low = state + STATE_LOW;
  const high = state + STATE_HIGH;
  for (let j = 0; j < n; j++) {
    const code = <i32>load<u8>(src + <usize>j);
    // INVQBL, RECONS, LIMIT: the output uses all 6 bits of the low band; its
    // predictor adapts on the 4 most significant only.
    const code6 = code & 63;
    const rl = clamp(
      load<i32>(low, BAND_S) + ((load<i32>(low, BAND_DET) * <i32>load<i16>(QM6 + (<usize>code6 << 1))) >> 15),
      -16384,
      16383,
    );
    updateLow(low, code6);
    const sh = load<i32>(high, BAND_S);
    const rh = clamp(sh + updateHigh(high, code >> 6), -16384, 16383);

    // Receive QMF: xout(j) = 2·Σ h(2i)·xd(n−i) from the odd taps, xout(j+1) =
    // 2·Σ h(2i+1)·xs(n−i) from the even ones. Each sum's taps add up to 2^12
    // and the bands carry half the signal, so a shift of 11 restores unity
    // gain before saturating to 16 bits.
    const sums = qmfSums(qmfPush(state, rl + rh, rl - rh));
    const d = out + (<usize>j << 2);
    store<i16>(d, <i16>sat16(i32x4.extract_lane(sums, 2) >> 11));
    store<i16>(d, <i16>sat16(i32x4.extract_lane(sums, 0) >> 11), 2);
  }
  return n << 1;
}
