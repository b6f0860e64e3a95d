// Pitch-synchronous interpolation of a burst the concealer (plc.ts) plans
// whole: the period glides from the last one heard to the next frame's
// first, a whole number of cycles (less the rotation that puts the two
// periods in step) long, each sample cross-fading the two periods read at the
// same phase. Documented with its plain TypeScript twin, which this must
// match to the sample: src/dsp/reference/plcMorph.ts.

// @ts-ignore: decorator
@inline function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function i16At(p: usize, i: i32): f64 {
  return <f64>load<i16>(p + (<usize>i << 1));
}

/**
 * Writes `len` f64 samples at `plan`: the gap from the end of `past` (f64,
 * its period pa ending at index pastEnd) to `next` (i16, period pn at its
 * start). `loop` (f64 ≥ pn) and `scratch` (f64 ≥ pn / dec + 1) are work space.
 */
export function morphPlan(
  plan: usize, past: usize, pastEnd: i32, pa: i32, next: usize, pn: i32, len: i32, dec: i32, loop: usize, scratch: usize,
): void {
  const ovb = pn >> 2;
  for (let j = 0; j < pn; j++) {
    let v: f64;
    if (j < ovb) {
      const w = <f64>(j + 1) / <f64>(ovb + 1);
      v = i16At(next, j + pn) * (1 - w) + i16At(next, j) * w;
    } else v = i16At(next, j);
    store<f64>(loop + (<usize>j << 3), v);
  }
  const fpa = <f64>pa;
  const fpn = <f64>pn;
  const dp = <f64>(pn - pa);
  const flen = <f64>len;
  let cyclesExact: f64 = 0;
  for (let t = 0; t < len; t++) cyclesExact += 1 / (fpa + (dp * <f64>t) / flen);
  const sigma = <f64>alignPeriods(past, pastEnd, pa, loop, pn, dec, scratch) / fpn;
  let cycles = Math.floor(cyclesExact + sigma + 0.5);
  if (cycles < 1) cycles = 1;
  const scale = (cycles - sigma) / cyclesExact;
  const base = pastEnd - pa;
  let phase: f64 = 0;
  for (let t = 0; t < len; t++) {
    let frac = phase - Math.floor(phase);
    let pos = frac * fpa;
    let i0 = <i32>Math.floor(pos);
    if (i0 >= pa) i0 = pa - 1;
    let a = pos - <f64>i0;
    const from = f64At(past, base + i0) * (1 - a) + f64At(past, base + ((i0 + 1) % pa)) * a;
    frac = phase + sigma - Math.floor(phase + sigma);
    pos = frac * fpn;
    i0 = <i32>Math.floor(pos);
    if (i0 >= pn) i0 = pn - 1;
    a = pos - <f64>i0;
    const to = f64At(loop, i0) * (1 - a) + f64At(loop, (i0 + 1) % pn) * a;
    const w = <f64>(t + 1) / <f64>(len + 1);
    store<f64>(plan + (<usize>t << 3), from * (1 - w) + to * w);
    phase += scale / (fpa + (dp * <f64>t) / flen);
  }
}

/** The shift into the next period (`loop`) that best matches the past period's start (every `dec`-th sample, kept in `scratch`). */
function alignPeriods(past: usize, pastEnd: i32, pa: i32, loop: usize, pn: i32, dec: i32, scratch: usize): i32 {
  const base = pastEnd - pa;
  let xx: f64 = 0;
  let k = 0;
  for (let i = 0; i < pn; i += dec) {
    const pos = <f64>(i * pa) / <f64>pn;
    const i0 = <i32>Math.floor(pos);
    const a = pos - <f64>i0;
    const u = f64At(past, base + i0) * (1 - a) + f64At(past, base + ((i0 + 1) % pa)) * a;
    store<f64>(scratch + (<usize>k << 3), u);
    k++;
    xx += u * u;
  }
  let best = 0;
  let bestScore: f64 = -2;
  for (let sh = 0; sh < pn; sh++) {
    let xy: f64 = 0;
    let yy: f64 = 0;
    k = 0;
    for (let i = 0; i < pn; i += dec) {
      const v = f64At(loop, (i + sh) % pn);
      xy += f64At(scratch, k) * v;
      k++;
      yy += v * v;
    }
    const score = xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
    if (score > bestScore) {
      bestScore = score;
      best = sh;
    }
  }
  return best;
}
