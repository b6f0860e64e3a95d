/**
 * G.722 at 64 kbit/s (mode 1): the quadrature mirror filters and the two
 * sub-band ADPCM coders of ITU-T G.722, written block by block in the
 * standard's integer arithmetic. This is the reference the WebAssembly kernel
 * (assembly/g722.ts) is tested against; it allocates freely and is not meant
 * for the per-frame path.
 *
 * Each 16 kHz sample pair becomes one byte: bits 7–6 the high band's 2-bit
 * code (4–8 kHz), bits 5–0 the low band's 6-bit code (0–4 kHz).
 *
 * Block names (QUANTL, INVQAL, LOGSCL, SCALEL, UPPOL2, …) are the standard's.
 * Signals, scale factors and predictor coefficients are 16-bit values that
 * saturate, as in the standard; only the QMF sums are wider.
 */

/** Transmit and receive QMF coefficients h0…h23 (symmetric: h[i] = h[23 − i]). */
const QMF_COEFFS: readonly number[] = [
  3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11,
  -11, 3,
];

/** QUANTL: decision levels of the 6-bit low-band quantizer, scaled by DETL (Q12). */
const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339,
  1458, 1612, 1765, 1980, 2195, 2557, 2919,
];
/** QUANTL: 6-bit codes of the intervals above, for negative and positive differences. */
const ILN = [
  63, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
];
const ILP = [
  61, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34,
  33, 32,
];
/** INVQBL (mode 1): 6-bit inverse quantizer outputs (Q15 of DETL). */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464,
  4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** INVQAL: the 4-bit inverse quantizer feeding the low-band predictor. */
const QM4 = [
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
];
/** LOGSCL: magnitude index of a 4-bit code, and the log scale factor step per index. */
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/** SCALEL/SCALEH: 2^(i/32) in Q11, the mantissa of the linear scale factor. */
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025,
  3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/** QUANTH: the one decision level of the 2-bit high-band quantizer (Q12 of DETH). */
const Q2 = 564;
/** QUANTH: codes for the lower and upper interval, negative and positive. */
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
/** INVQAH: 2-bit inverse quantizer outputs, and LOGSCH's magnitude index and step. */
const QM2 = [-7408, -1616, 7408, 1616];
const RH2 = [2, 1, 2, 1];
const WH = [0, -214, 798];

/** LOGSCL/LOGSCH: upper limits of the log scale factors NBL and NBH. */
const NBL_MAX = 18432;
const NBH_MAX = 22528;
/** Initial linear scale factors (DETL, DETH) after reset. */
const DETL_INIT = 32;
const DETH_INIT = 8;

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

function clamp(x: number, lo: number, hi: number): number {
  return x > hi ? hi : x < lo ? lo : x;
}

/** The adaptive predictor and scale factor of one sub-band. */
class SubBand {
  /** SL/SH: the predictor's estimate; SP and SZ its pole and zero parts. */
  s = 0;
  sp = 0;
  sz = 0;
  /** Reconstructed signal r(n−1), r(n−2) and partial reconstruction p(n−1), p(n−2). */
  r1 = 0;
  r2 = 0;
  p1 = 0;
  p2 = 0;
  /** Pole coefficients a1, a2. */
  a1 = 0;
  a2 = 0;
  /** Quantized differences d(n−1)…d(n−6) at [1…6], zero coefficients b1…b6 likewise. */
  readonly d = [0, 0, 0, 0, 0, 0, 0];
  readonly b = [0, 0, 0, 0, 0, 0, 0];
  /** Log scale factor NB and linear scale factor DET. */
  nb = 0;
  det: number;

  constructor(readonly detInit: number) {
    this.det = detInit;
  }

  reset(): void {
    this.s = this.sp = this.sz = 0;
    this.r1 = this.r2 = this.p1 = this.p2 = 0;
    this.a1 = this.a2 = 0;
    this.d.fill(0);
    this.b.fill(0);
    this.nb = 0;
    this.det = this.detInit;
  }

  /** LOGSCL then SCALEL (or LOGSCH, SCALEH): adapts DET to the code's magnitude. */
  adaptScale(step: number, nbMax: number, shiftBase: number): void {
    this.nb = clamp(((this.nb * 127) >> 7) + step, 0, nbMax);
    const mantissa = ILB[(this.nb >> 6) & 31]!;
    const shift = shiftBase - (this.nb >> 11);
    this.det = (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2;
  }

  /** Block 4: reconstruct, update the pole and zero predictors, predict the next sample. */
  predict(dq: number): void {
    // RECONS, PARREC
    const r = sat16(this.s + dq);
    const p = sat16(this.sz + dq);

    // UPPOL2: a2 follows the sign agreement of p(n) with p(n−1) and p(n−2).
    const sg0 = p >> 15;
    const sg1 = this.p1 >> 15;
    const sg2 = this.p2 >> 15;
    const wd1 = sat16(this.a1 * 4);
    const wd2 = Math.min(sg0 === sg1 ? -wd1 : wd1, 32767);
    let a2 = (sg0 === sg2 ? 128 : -128) + (wd2 >> 7) + ((this.a2 * 32512) >> 15);
    a2 = clamp(a2, -12288, 12288);

    // UPPOL1: a1 leaks and follows the sign agreement of p(n) with p(n−1); |a1| ≤ 15360 − a2.
    let a1 = sat16((sg0 === sg1 ? 192 : -192) + ((this.a1 * 32640) >> 15));
    const limit = sat16(15360 - a2);
    a1 = clamp(a1, -limit, limit);

    // UPZERO: each b leaks and steps toward sign agreement of d(n) with d(n−i).
    const step = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    const b = this.b;
    const d = this.d;
    for (let i = 1; i <= 6; i++) {
      b[i] = sat16(((d[i]! >> 15) === sgd ? step : -step) + ((b[i]! * 32640) >> 15));
    }

    // DELAYZ, DELAYA
    for (let i = 6; i > 1; i--) d[i] = d[i - 1]!;
    d[1] = dq;
    this.r2 = this.r1;
    this.r1 = r;
    this.p2 = this.p1;
    this.p1 = p;
    this.a1 = a1;
    this.a2 = a2;

    // FILTEP, FILTEZ, PREDIC
    const sp = sat16(((a1 * sat16(r + r)) >> 15) + ((a2 * sat16(this.r2 + this.r2)) >> 15));
    let sz = 0;
    for (let i = 6; i >= 1; i--) sz += (b[i]! * sat16(d[i]! + d[i]!)) >> 15;
    this.sp = sp;
    this.sz = sat16(sz);
    this.s = sat16(sp + this.sz);
  }
}

/** Low band, blocks 2L–4L shared by coder and decoder: adapt to the 6-bit code. */
function updateLow(band: SubBand, code6: number): void {
  const code4 = code6 >> 2;
  const dlt = (band.det * QM4[code4]!) >> 15; // INVQAL
  band.adaptScale(WL[RL42[code4]!]!, NBL_MAX, 8); // LOGSCL, SCALEL
  band.predict(dlt);
}

/** High band, blocks 2H–4H: adapt to the 2-bit code. */
function updateHigh(band: SubBand, code2: number): number {
  const dh = (band.det * QM2[code2]!) >> 15; // INVQAH
  band.adaptScale(WH[RH2[code2]!]!, NBH_MAX, 10); // LOGSCH, SCALEH
  band.predict(dh);
  return dh;
}

/** A 64 kbit/s G.722 encoder: 16 kHz samples in, one byte per sample pair out. */
export class G722Encoder {
  readonly #low = new SubBand(DETL_INIT);
  readonly #high = new SubBand(DETH_INIT);
  /** The last 24 input samples, oldest first. */
  readonly #x = new Array<number>(24).fill(0);
  #destroyed = false;

  /**
   * Encodes min(floor(pcm.length / 2), out.length) sample pairs and returns
   * that count of bytes; an odd last sample is dropped. 0 after destroy().
   */
  encode(pcm: Int16Array, out: Uint8Array): number {
    if (this.#destroyed) return 0;
    const pairs = Math.min(pcm.length >> 1, out.length);
    const x = this.#x;
    for (let j = 0; j < pairs; j++) {
      // Transmit QMF: xA = Σ h(2i)·x(j−2i), xB = Σ h(2i+1)·x(j−2i−1). With
      // x(j) at x[23] and h symmetric, x[k] meets h[k]: xA takes the odd
      // positions, xB the even ones. The low band is their sum, the high band
      // their difference; h sums to 2^13, so the shift by 14 leaves each band
      // at half the input's amplitude, within the coders' 15 bits.
      x.copyWithin(0, 2);
      x[22] = pcm[2 * j]!;
      x[23] = pcm[2 * j + 1]!;
      let xa = 0;
      let xb = 0;
      for (let i = 0; i < 24; i += 2) {
        xb += x[i]! * QMF_COEFFS[i]!;
        xa += x[i + 1]! * QMF_COEFFS[i + 1]!;
      }
      const xl = (xa + xb) >> 14;
      const xh = (xa - xb) >> 14;

      const low = this.#encodeLow(xl);
      out[j] = (this.#encodeHigh(xh) << 6) | low;
    }
    return pairs;
  }

  /** QUANTL: the 6-bit code of the low band's prediction error. */
  #encodeLow(xl: number): number {
    const band = this.#low;
    const el = sat16(xl - band.s);
    const magnitude = el >= 0 ? el : -(el + 1);
    let i = 1;
    while (i < Q6.length && magnitude >= (Q6[i]! * band.det) >> 12) i++;
    const code = el < 0 ? ILN[i]! : ILP[i]!;
    updateLow(band, code);
    return code;
  }

  /** QUANTH: the 2-bit code of the high band's prediction error. */
  #encodeHigh(xh: number): number {
    const band = this.#high;
    const eh = sat16(xh - band.s);
    const magnitude = eh >= 0 ? eh : -(eh + 1);
    const upper = magnitude >= (Q2 * band.det) >> 12 ? 2 : 1;
    const code = eh < 0 ? IHN[upper]! : IHP[upper]!;
    updateHigh(band, code);
    return code;
  }

  reset(): void {
    this.#low.reset();
    this.#high.reset();
    this.#x.fill(0);
  }

  /** Nothing to free here; marks the coder spent, as the WebAssembly one is. */
  destroy(): void {
    this.#destroyed = true;
  }
}

/** A 64 kbit/s G.722 decoder: one byte in, two 16 kHz samples out. */
export class G722Decoder {
  readonly #low = new SubBand(DETL_INIT);
  readonly #high = new SubBand(DETH_INIT);
  /** Receive QMF history, newest last: xs(n−11…n) at even, xd(n−11…n) at odd indices. */
  readonly #x = new Array<number>(24).fill(0);

  #destroyed = false;

  /** Decodes min(bytes.length, floor(out.length / 2)) bytes; returns the samples written (0 after destroy()). */
  decode(bytes: Uint8Array, out: Int16Array): number {
    if (this.#destroyed) return 0;
    const n = Math.min(bytes.length, out.length >> 1);
    const low = this.#low;
    const high = this.#high;
    const x = this.#x;
    for (let j = 0; j < n; j++) {
      const code = bytes[j]!;

      // INVQBL, RECONS, LIMIT: the low band's output uses all 6 bits; its
      // predictor adapts on the 4 most significant only.
      const rl = clamp(low.s + ((low.det * QM6[code & 63]!) >> 15), -16384, 16383);
      updateLow(low, code & 63);
      const sh = high.s;
      const rh = clamp(sh + updateHigh(high, code >> 6), -16384, 16383);

      // Receive QMF: xout(j) = 2·Σ h(2i)·xd(n−i), xout(j+1) = 2·Σ h(2i+1)·xs(n−i).
      // With xd(n) at x[23] and h symmetric, x[k] meets h[k] in both sums.
      // Each sum's taps add up to 2^12 and the bands carry half the input's
      // amplitude, so a shift of 11 restores unity gain; the result saturates
      // to 16 bits.
      x.copyWithin(0, 2);
      x[22] = rl + rh;
      x[23] = rl - rh;
      let xd = 0;
      let xs = 0;
      for (let i = 0; i < 24; i += 2) {
        xs += x[i]! * QMF_COEFFS[i]!;
        xd += x[i + 1]! * QMF_COEFFS[i + 1]!;
      }
      out[2 * j] = sat16(xd >> 11);
      out[2 * j + 1] = sat16(xs >> 11);
    }
    return 2 * n;
  }

  reset(): void {
    this.#low.reset();
    this.#high.reset();
    this.#x.fill(0);
  }

  /** Nothing to free here; marks the coder spent, as the WebAssembly one is. */
  destroy(): void {
    this.#destroyed = true;
  }
}
