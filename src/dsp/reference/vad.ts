/**
 * Plain TypeScript voice activity detector: the specification the WebAssembly
 * kernel (assembly/vad.ts) is tested against and benchmarked beside. Both
 * compute in f64 in the same order (apart from the SIMD lanes of the
 * autocorrelation sums), so their figures agree to rounding and their
 * decisions agree frame for frame.
 *
 * A frame is a speech candidate on one of three kinds of evidence:
 *
 * - voiced: energy at least `VAD_MIN_SNR_DB` over an adaptive noise floor,
 *   and periodic: the peak normalised autocorrelation at pitch lags (2.5–16 ms,
 *   62.5–400 Hz) of the signal decimated to 4 kHz and pre-emphasised is at
 *   least `VAD_VOICED`. Voiced speech reads 0.6–0.99; white and pink noise
 *   stay under 0.4 with a 30 ms window. This is the pitch cue of the AMR VAD
 *   (3GPP TS 26.094 §3.3) in its simplest form;
 * - loud: far above the floor and loud outright, such as the fricative that
 *   opens "Side", before any voicing;
 * - sustaining: inside an utterance, a frame still clearly above the floor and
 *   loud enough to be speech keeps it open through unvoiced sounds ("Left").
 *
 * Speech opens after `onsetFrames` consecutive candidates (a click does not
 * open it) and closes `hangoverFrames` after the last one.
 *
 * The noise floor follows the energy down at once (the quietest recent frame
 * is the best noise estimate, as in minimum-statistics tracking, R. Martin,
 * IEEE Trans. SAP 9(5), 2001) and up quickly only through steady frames that
 * are not voiced (a noise that starts mid-call is learnt in about 100 ms), or
 * through any frame that has held steady for `VAD_TONE_MS` (a tone or hum is
 * periodic but not speech). Otherwise it rises over seconds, so a vowel or a
 * fricative does not lift the floor under itself.
 */

/** Rate every input is decimated to for the voicing cue. */
export const VAD_ANALYSIS_RATE_HZ = 4000;
/** Pitch lags at 4 kHz: 2.5 ms (400 Hz) to 16 ms (62.5 Hz). */
export const VAD_MIN_LAG = 10;
export const VAD_MAX_LAG = 64;
/** Autocorrelation window at 4 kHz: 30 ms, about two of the longest pitch periods, whatever the frame length. */
export const VAD_WINDOW = 120;
/** Decimated history kept between frames. */
export const VAD_HISTORY = VAD_WINDOW + VAD_MAX_LAG;
/** Pre-emphasis before the autocorrelation, so pink and hum-heavy noise do not look periodic. */
export const VAD_PREEMPHASIS = 0.9;

/** Energy of digital silence, so the floor and the SNR stay finite. */
export const VAD_ENERGY_FLOOR_DBFS = -100;
/** Where the noise floor starts before any frame is seen. */
export const VAD_INITIAL_FLOOR_DBFS = -60;

/** Voiced evidence: never below this level (too faint to be speech worth answering on a phone line)… */
export const VAD_MIN_SPEECH_DBFS = -50;
/** …this far over the floor… */
export const VAD_MIN_SNR_DB = 6;
/** …and at least this periodic. Also the voicing under which a frame may teach the floor quickly. */
export const VAD_VOICED = 0.45;
/** Loud evidence. */
export const VAD_LOUD_DBFS = -35;
export const VAD_LOUD_SNR_DB = 15;
/** Sustaining evidence (inside an utterance only). */
export const VAD_SUSTAIN_DBFS = -45;
export const VAD_SUSTAIN_SNR_DB = 10;

/** A frame within this many dB of the one before is steady. */
export const VAD_STEADY_DB = 1.5;
/** Steady this long, a frame is floor even when periodic. */
export const VAD_TONE_MS = 300;
/** Floor time constants: falling; rising through steady noise; rising otherwise. */
export const VAD_FLOOR_FALL_MS = 10;
export const VAD_FLOOR_RISE_NOISE_MS = 60;
export const VAD_FLOOR_RISE_MS = 4000;

export const VAD_DEFAULT_HANGOVER_MS = 200;
export const VAD_DEFAULT_ONSET_MS = 30;

export const VAD_RATES_HZ: readonly number[] = [8000, 16000, 24000, 48000];
export const VAD_FRAMES_MS: readonly number[] = [10, 20];

export interface VadOptions {
  /** 10 or 20 (default 20). */
  frameMs?: number;
  /** Frames that stay speech after the last candidate frame (default 200 ms worth). */
  hangoverFrames?: number;
  /** Consecutive candidate frames needed to open speech (default 30 ms worth, rounded: 2 of 20 ms, 3 of 10 ms). */
  onsetFrames?: number;
}

/** Resolved, validated settings shared by the reference and the wrapper. */
export interface VadSettings {
  rateHz: number;
  frameMs: number;
  samplesPerFrame: number;
  decimation: number;
  hangoverFrames: number;
  onsetFrames: number;
}

/** Validates the options (control time: throws RangeError naming the value). */
export function vadSettings(rateHz: number, opts: VadOptions = {}): VadSettings {
  if (!VAD_RATES_HZ.includes(rateHz)) {
    throw new RangeError(`unsupported VAD rate [rateHz:${rateHz}, supported:${VAD_RATES_HZ.join('|')}]`);
  }
  const frameMs = opts.frameMs ?? 20;
  if (!VAD_FRAMES_MS.includes(frameMs)) {
    throw new RangeError(`unsupported VAD frame length [frameMs:${frameMs}, supported:${VAD_FRAMES_MS.join('|')}]`);
  }
  const hangoverFrames = opts.hangoverFrames ?? Math.round(VAD_DEFAULT_HANGOVER_MS / frameMs);
  const onsetFrames = opts.onsetFrames ?? Math.max(1, Math.round(VAD_DEFAULT_ONSET_MS / frameMs));
  if (!Number.isInteger(hangoverFrames) || hangoverFrames < 0 || hangoverFrames > 1000) {
    throw new RangeError(`hangoverFrames must be an integer in 0..1000 [hangoverFrames:${hangoverFrames}]`);
  }
  if (!Number.isInteger(onsetFrames) || onsetFrames < 1 || onsetFrames > 100) {
    throw new RangeError(`onsetFrames must be an integer in 1..100 [onsetFrames:${onsetFrames}]`);
  }
  return {
    rateHz,
    frameMs,
    samplesPerFrame: (rateHz * frameMs) / 1000,
    decimation: rateHz / VAD_ANALYSIS_RATE_HZ,
    hangoverFrames,
    onsetFrames,
  };
}

/** Per-frame step of a one-pole follower with time constant `tauMs`. */
export function vadCoefficient(frameMs: number, tauMs: number): number {
  return 1 - Math.exp(-frameMs / tauMs);
}

export class VadReference {
  readonly settings: VadSettings;
  /** Energy of the last frame, dBFS (a full-scale square wave reads 0). */
  levelDbfs = VAD_ENERGY_FLOOR_DBFS;
  noiseFloorDbfs = VAD_INITIAL_FLOOR_DBFS;
  /** Peak normalised autocorrelation of the last frame, 0..1. */
  voicing = 0;
  speech = false;
  readonly #history = new Float64Array(VAD_HISTORY);
  readonly #fall: number;
  readonly #riseNoise: number;
  readonly #rise: number;
  readonly #toneFrames: number;
  #emphasisPrev = 0;
  #steadyFrames = 0;
  #onset = 0;
  #hangover = 0;

  constructor(rateHz: number, opts: VadOptions = {}) {
    this.settings = vadSettings(rateHz, opts);
    const f = this.settings.frameMs;
    this.#fall = vadCoefficient(f, VAD_FLOOR_FALL_MS);
    this.#riseNoise = vadCoefficient(f, VAD_FLOOR_RISE_NOISE_MS);
    this.#rise = vadCoefficient(f, VAD_FLOOR_RISE_MS);
    this.#toneFrames = Math.ceil(VAD_TONE_MS / f);
  }

  get snrDb(): number {
    return this.levelDbfs - this.noiseFloorDbfs;
  }

  reset(): void {
    this.levelDbfs = VAD_ENERGY_FLOOR_DBFS;
    this.noiseFloorDbfs = VAD_INITIAL_FLOOR_DBFS;
    this.voicing = 0;
    this.speech = false;
    this.#history.fill(0);
    this.#emphasisPrev = 0;
    this.#steadyFrames = 0;
    this.#onset = 0;
    this.#hangover = 0;
  }

  /** Classifies one frame; a frame of another length is measured over what it has (an empty one changes nothing). */
  process(frame: Int16Array): boolean {
    const n = Math.min(frame.length, this.settings.samplesPerFrame);
    if (n === 0) return this.speech;

    let sumSquares = 0;
    for (let k = 0; k < n; k++) sumSquares += frame[k]! * frame[k]!;
    const e = Math.max(VAD_ENERGY_FLOOR_DBFS, 10 * Math.log10(sumSquares / n / (32767 * 32767)));
    const steady = Math.abs(e - this.levelDbfs) < VAD_STEADY_DB;
    this.#steadyFrames = steady ? this.#steadyFrames + 1 : 0;
    this.levelDbfs = e;
    const v = this.#voicing(frame, Math.floor(n / this.settings.decimation));
    this.voicing = v;

    let floor = this.noiseFloorDbfs;
    if (e < floor) floor += this.#fall * (e - floor);
    else if (steady && (v < VAD_VOICED || this.#steadyFrames >= this.#toneFrames)) floor += this.#riseNoise * (e - floor);
    else floor += this.#rise * (e - floor);
    this.noiseFloorDbfs = floor;

    const snr = e - floor;
    const candidate =
      (e >= VAD_MIN_SPEECH_DBFS && snr >= VAD_MIN_SNR_DB && v >= VAD_VOICED) ||
      (e >= VAD_LOUD_DBFS && snr >= VAD_LOUD_SNR_DB) ||
      (this.speech && e >= VAD_SUSTAIN_DBFS && snr >= VAD_SUSTAIN_SNR_DB);
    if (candidate) {
      if (this.speech) this.#hangover = this.settings.hangoverFrames;
      else if (++this.#onset >= this.settings.onsetFrames) {
        this.speech = true;
        this.#hangover = this.settings.hangoverFrames;
      }
    } else {
      this.#onset = 0;
      if (this.speech) {
        if (this.#hangover > 0) this.#hangover--;
        else this.speech = false;
      }
    }
    return this.speech;
  }

  /** Decimates `m` samples' worth of the frame into the history, then measures periodicity over the last window. */
  #voicing(frame: Int16Array, m: number): number {
    const h = this.#history;
    const d = this.settings.decimation;
    h.copyWithin(0, m);
    let prev = this.#emphasisPrev;
    for (let j = 0; j < m; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += frame[j * d + k]!;
      const x = acc / d;
      h[VAD_HISTORY - m + j] = x - VAD_PREEMPHASIS * prev;
      prev = x;
    }
    this.#emphasisPrev = prev;

    const start = VAD_HISTORY - VAD_WINDOW;
    let e0 = 0;
    for (let j = start; j < VAD_HISTORY; j++) e0 += h[j]! * h[j]!;
    if (e0 <= 0) return 0;
    let best = 0;
    for (let lag = VAD_MIN_LAG; lag <= VAD_MAX_LAG; lag++) {
      let xy = 0;
      let yy = 0;
      for (let j = start; j < VAD_HISTORY; j++) {
        const y = h[j - lag]!;
        xy += h[j]! * y;
        yy += y * y;
      }
      if (xy > 0 && yy > 0) {
        const r = xy / Math.sqrt(e0 * yy);
        if (r > best) best = r;
      }
    }
    return best;
  }
}
