// Voice activity detector: energy over an adaptive noise floor, a voicing
// (periodicity) cue, an onset requirement and a hangover.
//
// The algorithm and the reasons for every constant are documented once, with
// the plain TypeScript reference it must agree with: src/dsp/reference/vad.ts.
// This kernel computes in f64 in the same order, except that the
// autocorrelation sums run two lanes at a time (f64x2).

import { alloc, free } from './memory';
import { levelSumSquares } from './level';

const ANALYSIS_RATE_HZ: i32 = 4000;
const MIN_LAG: i32 = 10;
const MAX_LAG: i32 = 64;
const WINDOW: i32 = 120;
const HISTORY: i32 = WINDOW + MAX_LAG;
const PREEMPHASIS: f64 = 0.9;

const ENERGY_FLOOR_DBFS: f64 = -100.0;
const INITIAL_FLOOR_DBFS: f64 = -60.0;
const MIN_SPEECH_DBFS: f64 = -50.0;
const MIN_SNR_DB: f64 = 6.0;
const VOICED: f64 = 0.45;
const LOUD_DBFS: f64 = -35.0;
const LOUD_SNR_DB: f64 = 15.0;
const SUSTAIN_DBFS: f64 = -45.0;
const SUSTAIN_SNR_DB: f64 = 10.0;
const STEADY_DB: f64 = 1.5;
const TONE_MS: i32 = 300;
const FLOOR_FALL_MS: f64 = 10.0;
const FLOOR_RISE_NOISE_MS: f64 = 60.0;
const FLOOR_RISE_MS: f64 = 4000.0;
const FULL_SCALE_SQUARED: f64 = 32767.0 * 32767.0;

// State block (vadCreate), one allocation:
//
//   0  i32  samplesPerFrame   capacity of the input buffer
//   4  i32  decimation        input samples per 4 kHz analysis sample
//   8  i32  hangoverFrames
//  12  i32  onsetFrames
//  16  i32  toneFrames        steady frames after which even a periodic frame is floor
//  20  i32  hangoverLeft
//  24  i32  onsetCount
//  28  i32  speech            0 or 1
//  32  i32  steadyFrames
//  36       (padding)
//  40  f64  levelDbfs         energy of the last frame
//  48  f64  noiseFloorDbfs
//  56  f64  voicing           of the last frame, 0..1
//  64  f64  emphasisPrev      last decimated sample, for the pre-emphasis
//  72  f64  fall              floor follower steps per frame
//  80  f64  riseNoise
//  88  f64  rise
//  96       (padding)
// 112  f64  history[HISTORY]  pre-emphasised 4 kHz signal, newest last
// 112 + 8 * HISTORY  i16  input[samplesPerFrame]
const VAD_SAMPLES_AT: usize = 0;
const VAD_DECIMATION_AT: usize = 4;
const VAD_HANGOVER_FRAMES_AT: usize = 8;
const VAD_ONSET_FRAMES_AT: usize = 12;
const VAD_TONE_FRAMES_AT: usize = 16;
const VAD_HANGOVER_LEFT_AT: usize = 20;
const VAD_ONSET_COUNT_AT: usize = 24;
const VAD_SPEECH_AT: usize = 28;
const VAD_STEADY_FRAMES_AT: usize = 32;
const VAD_LEVEL_AT: usize = 40;
const VAD_FLOOR_AT: usize = 48;
const VAD_VOICING_AT: usize = 56;
const VAD_EMPHASIS_PREV_AT: usize = 64;
const VAD_FALL_AT: usize = 72;
const VAD_RISE_NOISE_AT: usize = 80;
const VAD_RISE_AT: usize = 88;
const VAD_HISTORY_AT: usize = 112;
const VAD_INPUT_AT: usize = VAD_HISTORY_AT + (<usize>HISTORY << 3);

// @ts-ignore: decorator
@inline function coefficient(frameMs: i32, tauMs: f64): f64 {
  return 1.0 - Math.exp(-<f64>frameMs / tauMs);
}

/**
 * A detector for `rateHz` (8000, 16000, 24000 or 48000) in frames of
 * `frameMs` (10 or 20); 0 when an argument is out of range.
 */
export function vadCreate(rateHz: i32, frameMs: i32, hangoverFrames: i32, onsetFrames: i32): usize {
  if (rateHz != 8000 && rateHz != 16000 && rateHz != 24000 && rateHz != 48000) return 0;
  if (frameMs != 10 && frameMs != 20) return 0;
  if (hangoverFrames < 0 || hangoverFrames > 1000 || onsetFrames < 1 || onsetFrames > 100) return 0;
  const samplesPerFrame = (rateHz / 1000) * frameMs;
  const state = alloc(VAD_INPUT_AT + (<usize>samplesPerFrame << 1));
  store<i32>(state, samplesPerFrame, VAD_SAMPLES_AT);
  store<i32>(state, rateHz / ANALYSIS_RATE_HZ, VAD_DECIMATION_AT);
  store<i32>(state, hangoverFrames, VAD_HANGOVER_FRAMES_AT);
  store<i32>(state, onsetFrames, VAD_ONSET_FRAMES_AT);
  store<i32>(state, (TONE_MS + frameMs - 1) / frameMs, VAD_TONE_FRAMES_AT);
  store<f64>(state, coefficient(frameMs, FLOOR_FALL_MS), VAD_FALL_AT);
  store<f64>(state, coefficient(frameMs, FLOOR_RISE_NOISE_MS), VAD_RISE_NOISE_AT);
  store<f64>(state, coefficient(frameMs, FLOOR_RISE_MS), VAD_RISE_AT);
  vadReset(state);
  return state;
}

export function vadDestroy(state: usize): void {
  free(state);
}

/** Forgets everything heard: the floor, the history and any speech in progress. */
export function vadReset(state: usize): void {
  store<i32>(state, 0, VAD_HANGOVER_LEFT_AT);
  store<i32>(state, 0, VAD_ONSET_COUNT_AT);
  store<i32>(state, 0, VAD_SPEECH_AT);
  store<i32>(state, 0, VAD_STEADY_FRAMES_AT);
  store<f64>(state, ENERGY_FLOOR_DBFS, VAD_LEVEL_AT);
  store<f64>(state, INITIAL_FLOOR_DBFS, VAD_FLOOR_AT);
  store<f64>(state, 0, VAD_VOICING_AT);
  store<f64>(state, 0, VAD_EMPHASIS_PREV_AT);
  memory.fill(state + VAD_HISTORY_AT, 0, <usize>HISTORY << 3);
}

/** Where the caller writes the frame. */
export function vadInput(state: usize): usize {
  return state + VAD_INPUT_AT;
}

export function vadLevelDbfs(state: usize): f64 {
  return load<f64>(state, VAD_LEVEL_AT);
}

export function vadNoiseFloorDbfs(state: usize): f64 {
  return load<f64>(state, VAD_FLOOR_AT);
}

export function vadVoicing(state: usize): f64 {
  return load<f64>(state, VAD_VOICING_AT);
}

export function vadSpeech(state: usize): i32 {
  return load<i32>(state, VAD_SPEECH_AT);
}

/** Decimates `m` analysis samples' worth of the input into the history and returns the voicing. */
function voicing(state: usize, m: i32): f64 {
  const history = state + VAD_HISTORY_AT;
  const input = state + VAD_INPUT_AT;
  const d = load<i32>(state, VAD_DECIMATION_AT);
  memory.copy(history, history + (<usize>m << 3), <usize>(HISTORY - m) << 3);
  let prev = load<f64>(state, VAD_EMPHASIS_PREV_AT);
  let src = input;
  let dst = history + (<usize>(HISTORY - m) << 3);
  for (let j = 0; j < m; j++) {
    let acc: i32 = 0;
    for (let k = 0; k < d; k++) acc += <i32>load<i16>(src + (<usize>k << 1));
    // a division, as in the reference: multiplying by 1/d would round differently
    const x = <f64>acc / <f64>d;
    store<f64>(dst, x - PREEMPHASIS * prev);
    prev = x;
    src += <usize>d << 1;
    dst += 8;
  }
  store<f64>(state, prev, VAD_EMPHASIS_PREV_AT);

  const window = history + (<usize>(HISTORY - WINDOW) << 3);
  let e2 = f64x2.splat(0);
  for (let j = 0; j < WINDOW; j += 2) {
    const x = v128.load(window + (<usize>j << 3));
    e2 = f64x2.add(e2, f64x2.mul(x, x));
  }
  const e0 = f64x2.extract_lane(e2, 0) + f64x2.extract_lane(e2, 1);
  if (e0 <= 0) return 0;
  let best: f64 = 0;
  for (let lag = MIN_LAG; lag <= MAX_LAG; lag++) {
    const lagged = window - (<usize>lag << 3);
    let xy2 = f64x2.splat(0);
    let yy2 = f64x2.splat(0);
    for (let j = 0; j < WINDOW; j += 2) {
      const x = v128.load(window + (<usize>j << 3));
      const y = v128.load(lagged + (<usize>j << 3));
      xy2 = f64x2.add(xy2, f64x2.mul(x, y));
      yy2 = f64x2.add(yy2, f64x2.mul(y, y));
    }
    const xy = f64x2.extract_lane(xy2, 0) + f64x2.extract_lane(xy2, 1);
    const yy = f64x2.extract_lane(yy2, 0) + f64x2.extract_lane(yy2, 1);
    if (xy > 0 && yy > 0) {
      const r = xy / Math.sqrt(e0 * yy);
      if (r > best) best = r;
    }
  }
  return best;
}

/**
 * Classifies the first `n` samples of the input buffer (clamped to
 * samplesPerFrame) as one frame; returns 1 for speech, 0 for not. An empty
 * frame changes nothing and returns the current state.
 */
export function vadProcess(state: usize, n: i32): i32 {
  const count = min(max(n, 0), load<i32>(state, VAD_SAMPLES_AT));
  if (count == 0) return load<i32>(state, VAD_SPEECH_AT);

  const sumSquares = levelSumSquares(state + VAD_INPUT_AT, count);
  const e = max(ENERGY_FLOOR_DBFS, 10.0 * Math.log10(sumSquares / <f64>count / FULL_SCALE_SQUARED));
  const steady = abs(e - load<f64>(state, VAD_LEVEL_AT)) < STEADY_DB;
  const steadyFrames = steady ? load<i32>(state, VAD_STEADY_FRAMES_AT) + 1 : 0;
  store<i32>(state, steadyFrames, VAD_STEADY_FRAMES_AT);
  store<f64>(state, e, VAD_LEVEL_AT);
  const v = voicing(state, count / load<i32>(state, VAD_DECIMATION_AT));
  store<f64>(state, v, VAD_VOICING_AT);

  let floor = load<f64>(state, VAD_FLOOR_AT);
  if (e < floor) floor += load<f64>(state, VAD_FALL_AT) * (e - floor);
  else if (steady && (v < VOICED || steadyFrames >= load<i32>(state, VAD_TONE_FRAMES_AT))) {
    floor += load<f64>(state, VAD_RISE_NOISE_AT) * (e - floor);
  } else floor += load<f64>(state, VAD_RISE_AT) * (e - floor);
  store<f64>(state, floor, VAD_FLOOR_AT);

  const snr = e - floor;
  let speech = load<i32>(state, VAD_SPEECH_AT);
  const candidate =
    (e >= MIN_SPEECH_DBFS && snr >= MIN_SNR_DB && v >= VOICED) ||
    (e >= LOUD_DBFS && snr >= LOUD_SNR_DB) ||
    (speech != 0 && e >= SUSTAIN_DBFS && snr >= SUSTAIN_SNR_DB);
  if (candidate) {
    const onset = load<i32>(state, VAD_ONSET_COUNT_AT) + 1;
    if (speech != 0) store<i32>(state, load<i32>(state, VAD_HANGOVER_FRAMES_AT), VAD_HANGOVER_LEFT_AT);
    else {
      store<i32>(state, onset, VAD_ONSET_COUNT_AT);
      if (onset >= load<i32>(state, VAD_ONSET_FRAMES_AT)) {
        speech = 1;
        store<i32>(state, load<i32>(state, VAD_HANGOVER_FRAMES_AT), VAD_HANGOVER_LEFT_AT);
      }
    }
  } else {
    store<i32>(state, 0, VAD_ONSET_COUNT_AT);
    if (speech != 0) {
      const left = load<i32>(state, VAD_HANGOVER_LEFT_AT);
      if (left > 0) store<i32>(state, left - 1, VAD_HANGOVER_LEFT_AT);
      else speech = 0;
    }
  }
  store<i32>(state, speech, VAD_SPEECH_AT);
  return speech;
}
