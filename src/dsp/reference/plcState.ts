/**
 * The reference concealer's state (src/dsp/reference/plc.ts): the dimensions
 * it is sized from, every field the parts of the engine share, and its
 * lifecycle. Mirrors the kernel's state block, assembly/plcState.ts.
 */

export type PlcMode = 'enhanced' | 'appendix-i';
export const PLC_RATES_HZ = [8000, 16000, 24000, 48000] as const;

/** All lengths are these 8 kHz figures of Appendix I times rateHz / 8000. */
export const PLC_SUBFRAME_8K = 80; // 10 ms: the step of the erasure schedule
export const PLC_PITCH_MIN_8K = 40; // 5 ms, 200 Hz
export const PLC_PITCH_MAX_8K = 120; // 15 ms, 66.7 Hz
export const PLC_CORR_8K = 160; // 20 ms correlation window
export const PLC_DELAY_8K = 30; // 3.75 ms: the longest quarter period
export const PLC_END_OVERLAP_STEP_8K = 32; // 4 ms more end overlap per 10 ms lost
/** 48.75 ms: three longest periods plus a quarter period for the overlap. */
export const PLC_HISTORY_8K = 390;
/** A burst plan covers at most 1.28 s; longer ones are planned from their last 1.28 s (all comfort noise by then). */
export const PLC_PLAN_MAX_FRAMES = 64;
/** Bursts up to 120 ms are interpolated pitch-synchronously; longer ones fade through comfort noise (a held voice that long is worse than a dip). */
export const PLC_MORPH_MAX_FRAMES = 6;
/** The pitch search's coarse pass runs at 4 kHz. */
export const PLC_SEARCH_RATE_HZ = 4000;

/** Appendix I: −20% per 10 ms after the first 10 ms. */
export const PLC_APPENDIX_HOLD_SUBFRAMES = 1;
export const PLC_APPENDIX_ATTENUATION = 0.2;
/** Enhanced: −25% per 10 ms after the first 10 ms, the periodic part handing over to comfort noise by 50 ms. */
export const PLC_ENHANCED_HOLD_SUBFRAMES = 1;
export const PLC_ENHANCED_ATTENUATION = 0.25;

/** Before anything is heard (−70 dBFS), and the lowest floor (−90 dBFS), as mean squares (products, not powers, so the kernel computes the same double). */
export const PLC_INITIAL_FLOOR = 32767 * 32767 * 1e-7;
export const PLC_MIN_FLOOR = 32767 * 32767 * 1e-9;
export const PLC_NOISE_SEED = 0x2545f491;

export function plcRateFactor(rateHz: number): number {
  if (!(PLC_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`unsupported PLC rate [rateHz:${rateHz}, supported:${PLC_RATES_HZ.join('/')}]`);
  }
  return rateHz / 8000;
}

export function roundToInt16(x: number): number {
  const v = Math.floor(x + 0.5);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** Everything a concealer remembers, shared by the parts of the engine as the kernel shares its state block. */
export class PlcState {
  readonly rateHz: number;
  readonly mode: PlcMode;
  readonly samplesPerFrame: number;
  /** Output lags input by this much (Appendix I's 3.75 ms). */
  readonly delaySamples: number;
  readonly sub: number;
  readonly pmin: number;
  readonly pmax: number;
  readonly corr: number;
  readonly eovInc: number;
  readonly hlen: number;
  readonly dec: number;
  readonly hold: number;
  readonly atten: number;
  readonly history: Int16Array;
  readonly pitchBuf: Float64Array;
  readonly frame: Float64Array;
  readonly tmp: Float64Array;
  readonly back: Float64Array;
  readonly in: Int16Array;
  readonly plan: Float64Array;
  erased = 0; // 10 ms steps concealed in a row
  lost = 0; // frames concealed in a row
  pitch = 0;
  ov = 0; // 1/4 period
  offset = 0;
  blen = 0; // repeated length
  t = 0; // samples since the erasure began
  seed = PLC_NOISE_SEED;
  z = 0; // noise filter
  floor = 0; // mean square
  floorSet = false;
  tilt = 0;
  noiseAmp = 0;
  voicing = 0;
  planNext = 0; // frames the next call of a burst plan should announce; 0 none
  planCross = 0; // the announced count at which the plan splices
  /** Frames in plan (the burst interpolated whole), 0 when none. */
  morphFrames = 0;

  constructor(rateHz: number, mode: PlcMode) {
    const r = plcRateFactor(rateHz);
    this.rateHz = rateHz;
    this.mode = mode;
    this.sub = PLC_SUBFRAME_8K * r;
    this.samplesPerFrame = 2 * this.sub;
    this.delaySamples = PLC_DELAY_8K * r;
    this.pmin = PLC_PITCH_MIN_8K * r;
    this.pmax = PLC_PITCH_MAX_8K * r;
    this.corr = PLC_CORR_8K * r;
    this.eovInc = PLC_END_OVERLAP_STEP_8K * r;
    this.hlen = PLC_HISTORY_8K * r;
    this.dec = rateHz / PLC_SEARCH_RATE_HZ;
    const enhanced = mode === 'enhanced';
    this.hold = (enhanced ? PLC_ENHANCED_HOLD_SUBFRAMES : PLC_APPENDIX_HOLD_SUBFRAMES) * this.sub;
    this.atten = enhanced ? PLC_ENHANCED_ATTENUATION : PLC_APPENDIX_ATTENUATION;
    this.history = new Int16Array(this.hlen);
    this.pitchBuf = new Float64Array(this.hlen);
    this.frame = new Float64Array(this.samplesPerFrame);
    this.back = new Float64Array(this.samplesPerFrame);
    this.tmp = new Float64Array(this.sub);
    this.in = new Int16Array(this.samplesPerFrame);
    this.plan = new Float64Array(PLC_MORPH_MAX_FRAMES * this.samplesPerFrame);
    this.reset();
  }

  reset(): void {
    this.history.fill(0);
    this.erased = 0;
    this.lost = 0;
    this.planNext = 0;
    this.morphFrames = 0;
    this.pitch = 0;
    this.t = 0;
    this.seed = PLC_NOISE_SEED;
    this.z = 0;
    this.floor = PLC_INITIAL_FLOOR;
    this.floorSet = false;
    this.tilt = 0;
    this.voicing = 0;
  }
}
