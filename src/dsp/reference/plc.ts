/**
 * Plain TypeScript packet loss concealer for PCM codecs (G.711, G.722, L16):
 * the specification the WebAssembly kernel (assembly/plc.ts) is tested
 * against and benchmarked beside. Both compute in f64 in the same order and
 * round once per output sample, so they agree to the sample.
 *
 * Two modes share one engine:
 *
 * 'appendix-i' is the waveform substitution of ITU-T G.711 Appendix I (1999),
 * scaled from 8 kHz to the stream's rate, in 10 ms steps:
 * - the output is delayed by 3.75 ms (§I.2.1) so that the start of an erasure
 *   can still be overlap-added with the last received quarter period;
 * - the pitch (5–15 ms) is the lag of greatest normalised cross-correlation
 *   of the last 20 ms against the history, searched on the signal decimated to
 *   4 kHz and refined at full rate (§I.2.2);
 * - the last period is repeated, with a 1/4-period overlap-add at the start;
 *   the 2nd and 3rd 10 ms of the erasure each add one older period to the
 *   repeated segment (§I.2.3), overlap-added over 1/4 period;
 * - from 10 ms on, the output is attenuated linearly by 20% per 10 ms, so it
 *   is silent from 60 ms on (§I.2.4);
 * - the first good 10 ms after the erasure is overlap-added with the
 *   synthetic continuation over 1/4 period plus 4 ms for every 10 ms of
 *   erasure beyond the first (§I.2.5).
 *
 * 'enhanced' keeps that skeleton and changes these things:
 * - as the periodic part fades (gain g: −25% per 10 ms after the first
 *   10 ms; on real speech with PLCMOS v2, slower fades scored lower, a held
 *   buzz being worse than a dip), noise at the stream's measured noise floor,
 *   with its spectral tilt (a first-order autoregressive shape learnt from
 *   quiet frames), takes its place, weighted (1 − g)² so that it comes in as
 *   the periodic part goes: a long loss fades to comfort noise, never to
 *   digital silence;
 * - `concealBefore(next)`: when the frame after the loss is already at hand,
 *   the gap is interpolated: the forward extrapolation from the past is
 *   spliced into a backward extension of the next frame (its first pitch
 *   period repeated back in time), at the position in the gap where the two
 *   correlate best, with a one-period cross-fade (late in a burst, when the
 *   forward signal has faded, the backward one fades in over half a frame
 *   instead). The gap then ends exactly on the next frame's first sample, so
 *   the following `good(next)` plays it without any blend;
 * - `concealBefore(next, out, framesUntilNext)`: when the packet after a
 *   burst of k lost frames is already buffered, the whole burst is planned
 *   at its first frame (the bidirectional interpolation of
 *   waveform-substitution PLC, Goodman et al., IEEE Trans. ASSP 34(6), 1986,
 *   "waveform substitution techniques for recovering missing speech
 *   segments"). Up to PLC_MORPH_MAX_FRAMES (120 ms) it is a pitch-synchronous
 *   interpolation (`planMorph`, plcBurst.ts): the period glides linearly from the last
 *   one heard to the first period of `next` (searched within a factor 1.5 of
 *   the past one, so an octave error on one side does not sweep the pitch),
 *   the phase runs through a whole number of cycles so the gap ends where
 *   `next` begins, the next period is read rotated to where it matches the
 *   past one's start (so the two add rather than cancel), and every sample
 *   cross-fades the two periods, read at the same phase, linearly across the
 *   gap: the voice carries on through the gap at the level of its two ends.
 *   A burst already extrapolated for a while before `next` arrived morphs
 *   from the last period played. On clean.wav at 10% Gilbert-Elliott loss
 *   (5 seeds, `next` at most 60 ms ahead) this took PLCMOS v2 from 3.74 to
 *   4.00, and 3.80 → 4.08 with any look-ahead; without the rotation and the
 *   restricted search it scored 3.88, and a dip in level across the gap
 *   lower still.
 *   Longer bursts keep the earlier plan: frames before the middle one
 *   extrapolate the past; the middle one is spliced, as above, into the
 *   backward extension of `next`, whose fade mirrors the forward one (full
 *   level for 10 ms before `next`, then −25% per 10 ms into comfort noise),
 *   so a long burst dips to the noise floor in its middle and rises into
 *   `next`.
 *
 * History and output are 16-bit; the pitch search works on integers, whose
 * products and sums are exact in f64 at every rate, so any summation order
 * gives the same lag.
 *
 * The engine is split as the kernel is, file for file: plcState.ts (dimensions,
 * shared state), plcExtrapolate.ts (Appendix I waveform substitution),
 * plcComfortNoise.ts (fade schedule, noise floor) and plcBurst.ts (bursts
 * bridged towards the next frame); this file drives them.
 */

import { backward, bestSplice, planMorph } from './plcBurst.ts';
import { PLC_FULL_SCALE_SQUARED, trackFloor } from './plcComfortNoise.ts';
import { loadInput, periodic, save, synth, synthFrame } from './plcExtrapolate.ts';
import { plcFindPitch } from './plcPitch.ts';
import { PLC_MORPH_MAX_FRAMES, PLC_PLAN_MAX_FRAMES, PlcState, roundToInt16, type PlcMode } from './plcState.ts';

export { plcFindPitch };
export {
  PLC_APPENDIX_ATTENUATION, PLC_APPENDIX_HOLD_SUBFRAMES, PLC_CORR_8K, PLC_DELAY_8K, PLC_END_OVERLAP_STEP_8K,
  PLC_ENHANCED_ATTENUATION, PLC_ENHANCED_HOLD_SUBFRAMES, PLC_HISTORY_8K, PLC_INITIAL_FLOOR, PLC_MIN_FLOOR,
  PLC_MORPH_MAX_FRAMES, PLC_NOISE_SEED, PLC_PITCH_MAX_8K, PLC_PITCH_MIN_8K, PLC_PLAN_MAX_FRAMES, PLC_RATES_HZ,
  PLC_SEARCH_RATE_HZ, PLC_SUBFRAME_8K, plcRateFactor, roundToInt16, type PlcMode,
} from './plcState.ts';
export {
  PLC_FLOOR_RISE_PER_SUBFRAME, PLC_FULL_SCALE_SQUARED, PLC_QUIET_FACTOR, PLC_TILT_MAX, PLC_TILT_MIN,
  PLC_TILT_SMOOTHING,
} from './plcComfortNoise.ts';

export class ReferenceConcealer {
  readonly rateHz: number;
  readonly mode: PlcMode;
  readonly samplesPerFrame: number;
  /** Output lags input by this much (Appendix I's 3.75 ms). */
  readonly delaySamples: number;
  readonly #state: PlcState;

  constructor(rateHz: number, mode: PlcMode = 'enhanced') {
    const state = new PlcState(rateHz, mode);
    this.#state = state;
    this.rateHz = rateHz;
    this.mode = mode;
    this.samplesPerFrame = state.samplesPerFrame;
    this.delaySamples = state.delaySamples;
  }

  get lostInARow(): number { return this.#state.lost; }
  get noiseFloorDbfs(): number { return 10 * Math.log10(this.#state.floor / PLC_FULL_SCALE_SQUARED); }
  get pitchLag(): number { return this.#state.pitch; }
  get voicing(): number { return this.#state.voicing; }

  reset(): void {
    this.#state.reset();
  }

  good(frame: Int16Array, out: Int16Array): void {
    const state = this.#state;
    loadInput(state, frame);
    const sub = state.sub;
    for (let s = 0; s < 2; s++) {
      const at = s * sub;
      if (state.erased > 0) {
        // Appendix I §I.2.5: the longer the erasure, the longer the blend back.
        let olen = state.ov + (state.erased - 1) * state.eovInc;
        if (olen > sub) olen = sub;
        for (let i = 0; i < olen; i++) {
          const w = (i + 1) / (olen + 1);
          state.in[at + i] = roundToInt16(synth(state, periodic(state)) * (1 - w) + state.in[at + i]! * w);
        }
        state.erased = 0;
      }
      trackFloor(state, at);
      save(state, state.in, at, out);
    }
    state.lost = 0;
    state.planNext = 0;
  }

  conceal(out: Int16Array): void {
    const state = this.#state;
    state.planNext = 0;
    synthFrame(state);
    for (let i = 0; i < this.samplesPerFrame; i++) state.in[i] = roundToInt16(state.frame[i]!);
    save(state, state.in, 0, out);
    save(state, state.in, state.sub, out);
    state.lost++;
  }

  /**
   * One lost frame when a later frame is already at hand: `framesUntilNext`
   * lost frames, this one included, come before `next` (1 when `next` is the
   * very next frame). Calls for one burst pass a count that falls by one per
   * frame; a count that does not continue the previous call's starts a new plan.
   */
  concealBefore(next: Int16Array, out: Int16Array, framesUntilNext = 1): void {
    const state = this.#state;
    if (this.mode !== 'enhanced') { this.conceal(out); return; }
    let m = framesUntilNext >= 1 ? Math.floor(framesUntilNext) : 1;
    if (m > PLC_PLAN_MAX_FRAMES) m = PLC_PLAN_MAX_FRAMES;
    const planned = m > 1 || state.planNext === 1;
    const n = this.samplesPerFrame;
    // A new burst of up to PLC_MORPH_MAX_FRAMES is interpolated whole at its
    // first call; the calls that continue it play the next frame of that.
    if (!(planned && state.planNext === m)) state.morphFrames = 0;
    if (planned && state.planNext !== m && m <= PLC_MORPH_MAX_FRAMES) planMorph(state, next, m);
    if (planned && state.morphFrames > 0) {
      state.planNext = m - 1;
      const at = (state.morphFrames - m) * n;
      for (let i = 0; i < n; i++) state.in[i] = roundToInt16(state.plan[at + i]!);
      save(state, state.in, 0, out);
      save(state, state.in, state.sub, out);
      state.lost++;
      return;
    }
    // A burst seen whole splices at its middle frame, or the earlier of two.
    if (planned && state.planNext !== m) state.planCross = (m >> 1) + 1;
    state.planNext = planned ? m - 1 : 0;
    if (planned && m > state.planCross) {
      synthFrame(state);
      for (let i = 0; i < n; i++) state.in[i] = roundToInt16(state.frame[i]!);
    } else {
      const cross = !planned || m === state.planCross;
      // Later in a one-frame look-ahead the forward signal has faded and
      // carries little worth matching: the backward one fades in over half a frame.
      const longGap = !planned && state.erased >= 2;
      if (cross) synthFrame(state);
      const len = Math.min(next.length, n);
      for (let i = 0; i < len; i++) state.in[i] = next[i]!;
      for (let i = len; i < n; i++) state.in[i] = 0;
      // The next frame's own period: its start against itself a lag later.
      const pn = plcFindPitch(state.in, 0, n - state.pmax, state.pmin, state.pmax, state.dec, 1).lag;
      backward(state, pn, m * n, planned);
      let bestC = 0;
      if (cross && !longGap) bestC = bestSplice(state, pn);
      const fade = !cross ? 0 : longGap ? n >> 1 : pn;
      const f = state.frame;
      const b = state.back;
      for (let k = 0; k < n; k++) {
        let v: number;
        if (k < bestC) v = f[k]!;
        else if (k < bestC + fade) {
          const w = (k - bestC + 1) / (fade + 1);
          v = f[k]! * (1 - w) + b[k]! * w;
        } else v = b[k]!;
        state.in[k] = roundToInt16(v);
      }
      // The gap now continues into `next`: its good() needs no blend, and a
      // conceal() instead starts a new erasure from what was played.
      state.erased = 0;
    }
    save(state, state.in, 0, out);
    save(state, state.in, state.sub, out);
    state.lost++;
  }
}
