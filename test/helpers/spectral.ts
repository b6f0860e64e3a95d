/**
 * Measuring tools for DSP tests, independent of any kernel under test: a
 * sine generator, a least-squares tone fit, a windowed-sinc band limiter,
 * delay search by cross-correlation and an SNR.
 */

/** `n` samples of amplitude·sin(2π·f·t + phase) at `rateHz`, rounded to int16. */
export function sine(n: number, freqHz: number, rateHz: number, amplitude: number, phase = 0): Int16Array {
  const out = new Int16Array(n);
  const w = (2 * Math.PI * freqHz) / rateHz;
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin(w * i + phase));
  return out;
}

export interface ToneFit {
  /** Amplitude of the sinusoid at the given frequency that best fits the samples. */
  readonly amplitude: number;
  /** RMS of what is left once that sinusoid is taken away. */
  readonly residualRms: number;
}

/**
 * Least-squares fit of a·cos(ωi) + b·sin(ωi) to x[from..to) at a known
 * frequency: a 2×2 normal-equation solve, exact over any span (sin and cos
 * are not orthogonal over a fractional number of periods, which a plain DFT
 * bin would assume). Near 0 and Nyquist the system is singular; there the
 * fit falls back to the cosine alone.
 */
export function fitTone(x: ArrayLike<number>, freqHz: number, rateHz: number, from = 0, to = x.length): ToneFit {
  const w = (2 * Math.PI * freqHz) / rateHz;
  let cc = 0;
  let ss = 0;
  let cs = 0;
  let xc = 0;
  let xs = 0;
  for (let i = from; i < to; i++) {
    const c = Math.cos(w * i);
    const s = Math.sin(w * i);
    cc += c * c;
    ss += s * s;
    cs += c * s;
    xc += x[i]! * c;
    xs += x[i]! * s;
  }
  const det = cc * ss - cs * cs;
  let a: number;
  let b: number;
  if (Math.abs(det) > 1e-9 * cc * ss) {
    a = (xc * ss - xs * cs) / det;
    b = (xs * cc - xc * cs) / det;
  } else {
    a = xc / cc;
    b = 0;
  }
  let residual = 0;
  for (let i = from; i < to; i++) residual += (x[i]! - a * Math.cos(w * i) - b * Math.sin(w * i)) ** 2;
  return { amplitude: Math.hypot(a, b), residualRms: Math.sqrt(residual / (to - from)) };
}

/** RMS of x[from..to). */
export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (to - from));
}

/**
 * Low-pass FIR of `taps` (odd) coefficients: a sinc cut off at
 * `cutoff` × the sampling rate under a Blackman window (about 74 dB of
 * stopband, a transition about 6/taps of the rate wide), unit gain at DC.
 */
export function blackmanLowpass(cutoff: number, taps: number): Float64Array {
  const h = new Float64Array(taps);
  const centre = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const t = i - centre;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const phase = (2 * Math.PI * i) / (taps - 1);
    h[i] = sinc * (0.42 - 0.5 * Math.cos(phase) + 0.08 * Math.cos(2 * phase));
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i] = h[i]! / sum;
  return h;
}

/** x filtered by the linear-phase FIR h with its delay taken out (zero phase); samples outside x count as 0. */
export function filterZeroPhase(x: ArrayLike<number>, h: Float64Array): Float64Array {
  const centre = (h.length - 1) / 2;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const lo = Math.max(0, i + centre - (x.length - 1));
    const hi = Math.min(h.length - 1, i + centre);
    let y = 0;
    for (let k = lo; k <= hi; k++) y += h[k]! * x[i + centre - k]!;
    out[i] = y;
  }
  return out;
}

/** The lag d in [−maxLag, maxLag] maximising Σ a[i]·b[i + d]: how far b runs behind a. */
export function delayByCrossCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, maxLag: number): number {
  let best = 0;
  let bestSum = -Infinity;
  for (let d = -maxLag; d <= maxLag; d++) {
    let sum = 0;
    const from = Math.max(0, -d);
    const to = Math.min(a.length, b.length - d);
    for (let i = from; i < to; i++) sum += a[i]! * b[i + d]!;
    if (sum > bestSum) {
      bestSum = sum;
      best = d;
    }
  }
  return best;
}

/** 10·log10(Σ ref² / Σ (ref − test)²) with test[i + lag] against ref[i], over ref[from..to). */
export function snrDb(ref: ArrayLike<number>, test: ArrayLike<number>, lag: number, from: number, to: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    const r = ref[i]!;
    signal += r * r;
    noise += (r - test[i + lag]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}
