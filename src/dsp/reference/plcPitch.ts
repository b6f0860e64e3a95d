/**
 * The pitch search shared by the concealer and the time stretcher (its
 * WebAssembly twin is assembly/pitch.ts). Samples are 16-bit integers, so
 * every product and sum is exact in f64 and any summation order gives the
 * same lag.
 */

/**
 * Pitch lag of the window `x[t0, t0 + corr)` by normalised cross-correlation
 * with the signal `lag` samples earlier (`dir` −1) or later (+1): a coarse
 * pass on every `dec`-th sample and lag, then ±(dec−1) lags at full rate.
 * Returns the lag and the normalised correlation at it.
 */
export function plcFindPitch(
  x: ArrayLike<number>, t0: number, corr: number, pmin: number, pmax: number, dec: number, dir: -1 | 1 = -1,
): { lag: number; voicing: number } {
  let best = pmax;
  let bestScore = 0;
  for (let lag = pmin; lag <= pmax; lag += dec) {
    let c = 0;
    let e = 0;
    for (let i = 0; i < corr; i += dec) {
      const y = x[t0 + dir * lag + i]!;
      c += x[t0 + i]! * y;
      e += y * y;
    }
    if (c > 0 && e > 0) {
      const s = (c * c) / e;
      if (s > bestScore) { bestScore = s; best = lag; }
    }
  }
  const lo = Math.max(pmin, best - dec + 1);
  const hi = Math.min(pmax, best + dec - 1);
  let fine = best;
  let fineScore = -1;
  let fineC = 0;
  let fineE = 0;
  for (let lag = lo; lag <= hi; lag++) {
    let c = 0;
    let e = 0;
    for (let i = 0; i < corr; i++) {
      const y = x[t0 + dir * lag + i]!;
      c += x[t0 + i]! * y;
      e += y * y;
    }
    const s = c > 0 && e > 0 ? (c * c) / e : 0;
    if (s > fineScore) { fineScore = s; fine = lag; fineC = c; fineE = e; }
  }
  let e0 = 0;
  for (let i = 0; i < corr; i++) e0 += x[t0 + i]! * x[t0 + i]!;
  const voicing = fineC > 0 && fineE > 0 && e0 > 0 ? fineC / Math.sqrt(fineE * e0) : 0;
  return { lag: fine, voicing };
}
