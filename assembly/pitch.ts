// Pitch search by normalised cross-correlation, shared by the concealer and
// the time stretcher. The algorithm is documented with its plain TypeScript
// twin, plcFindPitch in src/dsp/reference/plcPitch.ts. Samples are 16-bit
// integers, so every product and sum is exact in f64 and the lag does not
// depend on the summation order.

/** Normalised correlation at the lag the last pitchSearch returned. */
let lastVoicing: f64 = 0;

export function pitchVoicing(): f64 {
  return lastVoicing;
}

// @ts-ignore: decorator
@inline function at(x: usize, i: i32): f64 {
  return <f64>load<i16>(x + (<usize>i << 1));
}

/**
 * Σ x[a + i]·x[b + i] and Σ x[b + i]² over i in [0, n), eight samples per
 * step: i16 lanes widened to i32, then to f64 pairs (products of 16-bit
 * values and their sums are exact there, so this equals the scalar sum).
 * The cross term is left in `dotXY`, the energy is returned.
 */
let dotXY: f64 = 0;

function dot(x: usize, a: i32, b: i32, n: i32): f64 {
  let c2 = f64x2.splat(0);
  let e2 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const xv = v128.load(x + (<usize>(a + i) << 1));
    const yv = v128.load(x + (<usize>(b + i) << 1));
    const xl = i32x4.extend_low_i16x8_s(xv);
    const xh = i32x4.extend_high_i16x8_s(xv);
    const yl = i32x4.extend_low_i16x8_s(yv);
    const yh = i32x4.extend_high_i16x8_s(yv);
    const x0 = f64x2.convert_low_i32x4_s(xl);
    const x1 = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(xl, xl, 2, 3, 2, 3));
    const x2 = f64x2.convert_low_i32x4_s(xh);
    const x3 = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(xh, xh, 2, 3, 2, 3));
    const y0 = f64x2.convert_low_i32x4_s(yl);
    const y1 = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(yl, yl, 2, 3, 2, 3));
    const y2 = f64x2.convert_low_i32x4_s(yh);
    const y3 = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(yh, yh, 2, 3, 2, 3));
    c2 = f64x2.add(c2, f64x2.add(f64x2.add(f64x2.mul(x0, y0), f64x2.mul(x1, y1)), f64x2.add(f64x2.mul(x2, y2), f64x2.mul(x3, y3))));
    e2 = f64x2.add(e2, f64x2.add(f64x2.add(f64x2.mul(y0, y0), f64x2.mul(y1, y1)), f64x2.add(f64x2.mul(y2, y2), f64x2.mul(y3, y3))));
  }
  let c = f64x2.extract_lane(c2, 0) + f64x2.extract_lane(c2, 1);
  let e = f64x2.extract_lane(e2, 0) + f64x2.extract_lane(e2, 1);
  for (; i < n; i++) {
    const y = at(x, b + i);
    c += at(x, a + i) * y;
    e += y * y;
  }
  dotXY = c;
  return e;
}

/**
 * Lag in [pmin, pmax] that best matches the window x[t0, t0 + corr) (i16)
 * against the signal `lag` samples earlier (dir −1) or later (dir +1): a
 * coarse pass on every `dec`-th sample and lag, then ±(dec − 1) at full rate.
 */
export function pitchSearch(x: usize, t0: i32, corr: i32, pmin: i32, pmax: i32, dec: i32, dir: i32): i32 {
  let best = pmax;
  let bestScore: f64 = 0;
  for (let lag = pmin; lag <= pmax; lag += dec) {
    let c: f64 = 0;
    let e: f64 = 0;
    const y0 = t0 + dir * lag;
    for (let i = 0; i < corr; i += dec) {
      const y = at(x, y0 + i);
      c += at(x, t0 + i) * y;
      e += y * y;
    }
    if (c > 0 && e > 0) {
      const s = (c * c) / e;
      if (s > bestScore) {
        bestScore = s;
        best = lag;
      }
    }
  }
  const lo = max(pmin, best - dec + 1);
  const hi = min(pmax, best + dec - 1);
  let fine = best;
  let fineScore: f64 = -1;
  let fineC: f64 = 0;
  let fineE: f64 = 0;
  for (let lag = lo; lag <= hi; lag++) {
    const e = dot(x, t0, t0 + dir * lag, corr);
    const c = dotXY;
    const s = c > 0 && e > 0 ? (c * c) / e : 0;
    if (s > fineScore) {
      fineScore = s;
      fine = lag;
      fineC = c;
      fineE = e;
    }
  }
  const e0 = dot(x, t0, t0, corr);
  lastVoicing = fineC > 0 && fineE > 0 && e0 > 0 ? fineC / Math.sqrt(fineE * e0) : 0;
  return fine;
}
