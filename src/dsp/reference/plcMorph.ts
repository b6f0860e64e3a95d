/**
 * Pitch-synchronous interpolation of a planned burst (the reference
 * concealer's `concealBefore`, see plc.ts; its WebAssembly twin is
 * assembly/plcMorph.ts, which must agree to the sample): the waveform
 * interpolation of Goodman et al., IEEE Trans. ASSP 34(6), 1986, between the
 * last period heard and the first period of the frame after the gap.
 *
 * - The period glides linearly from pa to pn across the gap; the phase (in
 *   cycles) is the running sum of 1 / period, scaled so that the gap holds
 *   a whole number of cycles less the rotation below: it then ends exactly
 *   where the next frame begins.
 * - The next period is read rotated by the shift at which it best matches
 *   the past period's start (normalised correlation, the past one stretched
 *   to pn samples), so at equal phase the two are in step and their
 *   cross-fade adds instead of cancelling.
 * - Each sample cross-fades the past period and the next one, read at the
 *   same phase with linear interpolation between samples, with a weight
 *   rising linearly across the gap.
 *
 * Every operation is on f64 in a fixed order, so the twin computes the same.
 */

/**
 * Writes `len` samples into `plan`: the gap from the end of `past` (its
 * period pa ends at `pastEnd`) to `next` (period pn at its start). `loop`
 * (≥ pn) and `scratch` (≥ pn / dec + 1) are work space.
 */
export function plcMorph(
  plan: Float64Array, past: Float64Array, pastEnd: number, pa: number, next: Int16Array, pn: number, len: number, dec: number,
  loop: Float64Array, scratch: Float64Array,
): void {
  // The next period as a loop: its first quarter period fades in from the sample after the period.
  const ovb = pn >> 2;
  for (let j = 0; j < pn; j++) {
    if (j < ovb) {
      const w = (j + 1) / (ovb + 1);
      loop[j] = next[j + pn]! * (1 - w) + next[j]! * w;
    } else loop[j] = next[j]!;
  }
  let cyclesExact = 0;
  for (let t = 0; t < len; t++) cyclesExact += 1 / (pa + ((pn - pa) * t) / len);
  const sigma = plcAlignPeriods(past, pastEnd, pa, loop, pn, dec, scratch) / pn;
  let cycles = Math.floor(cyclesExact + sigma + 0.5);
  if (cycles < 1) cycles = 1;
  const scale = (cycles - sigma) / cyclesExact;
  const base = pastEnd - pa;
  let phase = 0;
  for (let t = 0; t < len; t++) {
    let frac = phase - Math.floor(phase);
    let pos = frac * pa;
    let i0 = Math.floor(pos);
    if (i0 >= pa) i0 = pa - 1;
    let a = pos - i0;
    const from = past[base + i0]! * (1 - a) + past[base + ((i0 + 1) % pa)]! * a;
    frac = phase + sigma - Math.floor(phase + sigma);
    pos = frac * pn;
    i0 = Math.floor(pos);
    if (i0 >= pn) i0 = pn - 1;
    a = pos - i0;
    const to = loop[i0]! * (1 - a) + loop[(i0 + 1) % pn]! * a;
    const w = (t + 1) / (len + 1);
    plan[t] = from * (1 - w) + to * w;
    phase += scale / (pa + ((pn - pa) * t) / len);
  }
}

/**
 * The shift into the next period (`loop`) that best matches the past
 * period's start: the past period stretched to pn samples, every `dec`-th
 * sample (kept in `scratch`), against the loop rotated, by normalised
 * correlation.
 */
export function plcAlignPeriods(
  past: Float64Array, pastEnd: number, pa: number, loop: Float64Array, pn: number, dec: number, scratch: Float64Array,
): number {
  const base = pastEnd - pa;
  let xx = 0;
  let k = 0;
  for (let i = 0; i < pn; i += dec) {
    const pos = (i * pa) / pn;
    const i0 = Math.floor(pos);
    const a = pos - i0;
    const u = past[base + i0]! * (1 - a) + past[base + ((i0 + 1) % pa)]! * a;
    scratch[k++] = u;
    xx += u * u;
  }
  let best = 0;
  let bestScore = -2;
  for (let sh = 0; sh < pn; sh++) {
    let xy = 0;
    let yy = 0;
    k = 0;
    for (let i = 0; i < pn; i += dec) {
      const v = loop[(i + sh) % pn]!;
      xy += scratch[k++]! * v;
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
