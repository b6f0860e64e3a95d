/**
 * The VAD evaluation corpus: speech files with silence and noise gaps inserted
 * at seeded places, and the frame labels the detector is scored against.
 *
 * Ground truth, per 20 ms frame (or 10 ms, see `frameMs`):
 * - every frame of an inserted gap is non-speech;
 * - a frame of the original recording is speech when its energy in the CLEAN
 *   recording is at least `ORACLE_THRESHOLD_DBFS`, or when it lies within
 *   `ORACLE_HANGOVER_MS` after such a frame, so that the stops inside and at
 *   the end of words count as speech. Background noise added to a variant
 *   never changes a label.
 */
import { mulberry32 } from '../test/helpers/prng.ts';

/** Clean-signal frame energy (dBFS, re a full-scale square wave) at or above which a frame is speech. */
export const ORACLE_THRESHOLD_DBFS = -45;
/** Frames after a loud-enough frame that still count as speech. */
export const ORACLE_HANGOVER_MS = 200;

export type NoiseKind = 'white' | 'pink';

export interface Variant {
  name: string;
  /** What fills the inserted gaps; `undefined` is digital silence. */
  gap?: { kind: NoiseKind; dbfs: number };
  /** Noise added under the whole file (speech and gaps), if any. */
  background?: { kind: NoiseKind; dbfs: number };
}

export const VARIANTS: readonly Variant[] = [
  { name: 'silence gaps' },
  { name: 'white −50 gaps', gap: { kind: 'white', dbfs: -50 } },
  { name: 'white −40 gaps', gap: { kind: 'white', dbfs: -40 } },
  { name: 'pink −50 gaps', gap: { kind: 'pink', dbfs: -50 } },
  { name: 'pink −40 gaps', gap: { kind: 'pink', dbfs: -40 } },
  { name: 'white −55 under all', background: { kind: 'white', dbfs: -55 } },
  { name: 'pink −50 under all', background: { kind: 'pink', dbfs: -50 } },
];

export interface VadCase {
  rateHz: number;
  frameMs: number;
  samples: Int16Array;
  /** One label per whole frame of `samples`. */
  labels: Uint8Array;
}

/** RMS level of `x` in dBFS (re 32767), −Infinity for silence. */
function rmsDbfs(x: Float64Array | Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return 10 * Math.log10(s / Math.max(1, to - from) / (32767 * 32767));
}

/**
 * Noise of the given kind scaled to `dbfs` RMS. Pink-ish noise is white noise
 * through three one-pole low-passes a decade apart (50 Hz, 500 Hz, 5 kHz,
 * the last kept under a third of the rate), weighted 1/√fc so that their sum
 * falls about 3 dB per octave between them.
 */
export function noise(kind: NoiseKind, n: number, rateHz: number, dbfs: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(n);
  if (kind === 'white') {
    for (let i = 0; i < n; i++) out[i] = rnd() * 2 - 1;
  } else {
    const corners = [50, 500, 5000];
    const a = corners.map((fc) => Math.exp((-2 * Math.PI * Math.min(fc, rateHz / 3)) / rateHz));
    const w = corners.map((fc) => 1 / Math.sqrt(fc));
    const y = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const x = rnd() * 2 - 1;
      let s = 0;
      for (let k = 0; k < 3; k++) {
        y[k] = a[k]! * y[k]! + (1 - a[k]!) * x;
        s += w[k]! * y[k]!;
      }
      out[i] = s;
    }
  }
  const gain = 10 ** ((dbfs - rmsDbfs(out)) / 20);
  for (let i = 0; i < n; i++) out[i]! *= gain;
  return out;
}

/** Oracle labels of the clean recording, one per whole frame. */
export function oracleLabels(clean: Int16Array, rateHz: number, frameMs: number): Uint8Array {
  const spf = (rateHz * frameMs) / 1000;
  const frames = Math.floor(clean.length / spf);
  const hang = Math.round(ORACLE_HANGOVER_MS / frameMs);
  const labels = new Uint8Array(frames);
  let since = Infinity;
  for (let f = 0; f < frames; f++) {
    since = rmsDbfs(clean, f * spf, (f + 1) * spf) >= ORACLE_THRESHOLD_DBFS ? 0 : since + 1;
    labels[f] = since <= hang ? 1 : 0;
  }
  return labels;
}

/**
 * One evaluation case: a gap of 0.4–1.5 s inserted before the start and at
 * seeded frame boundaries, filled per the variant, with the variant's
 * background noise added throughout. Gaps lengthen pauses: each goes where the
 * oracle already says non-speech, so none cuts a word in two (no detector
 * with a hangover could follow speech that stops mid-word into a gap).
 */
export function buildCase(clean: Int16Array, rateHz: number, variant: Variant, seed: number, frameMs = 20): VadCase {
  const spf = (rateHz * frameMs) / 1000;
  const frames = Math.floor(clean.length / spf);
  const truth = oracleLabels(clean, rateHz, frameMs);
  const rnd = mulberry32(seed);
  const durationS = clean.length / rateHz;
  const pauses: number[] = [];
  for (let f = 1; f < frames; f++) if (truth[f] === 0) pauses.push(f);
  if (truth[frames - 1] === 0) pauses.push(frames);
  const cuts = [0];
  const extra = Math.max(2, Math.round(durationS / 4));
  for (let i = 0; i < extra; i++) cuts.push(pauses[Math.floor(rnd() * pauses.length)]!);
  cuts.sort((a, b) => a - b);
  const gapFrames = cuts.map(() => Math.round((0.4 + 1.1 * rnd()) / (frameMs / 1000)));

  const total = frames + gapFrames.reduce((a, b) => a + b, 0);
  const mixed = new Float64Array(total * spf);
  const labels = new Uint8Array(total);
  let out = 0;
  let src = 0;
  for (let c = 0; c <= cuts.length; c++) {
    const until = c < cuts.length ? cuts[c]! : frames;
    for (; src < until; src++, out++) {
      for (let k = 0; k < spf; k++) mixed[out * spf + k] = clean[src * spf + k]!;
      labels[out] = truth[src]!;
    }
    if (c < cuts.length) {
      const g = gapFrames[c]!;
      if (variant.gap !== undefined) {
        const n = noise(variant.gap.kind, g * spf, rateHz, variant.gap.dbfs, seed * 31 + c);
        mixed.set(n, out * spf);
      }
      out += g; // labels stay 0
    }
  }
  if (variant.background !== undefined) {
    const bg = noise(variant.background.kind, mixed.length, rateHz, variant.background.dbfs, seed * 17 + 5);
    for (let i = 0; i < mixed.length; i++) mixed[i]! += bg[i]!;
  }
  const samples = new Int16Array(mixed.length);
  for (let i = 0; i < mixed.length; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(mixed[i]!)));
  return { rateHz, frameMs, samples, labels };
}

/** Every speech fixture the evaluation runs on. */
export const VAD_FILES: readonly string[] = [
  'synth-m-8k',
  'synth-f-8k',
  'synth-m-16k',
  'synth-f-16k',
  'synth-m-48k',
  'synth-f-48k',
  'human-front-center-48k',
  'human-front-left-48k',
  'human-front-right-48k',
  'human-rear-center-48k',
  'human-rear-left-48k',
  'human-side-left-48k',
];

/** Frame counts: true/false positives and negatives. */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface Score extends Counts {
  frames: number;
  accuracy: number;
  precision: number;
  recall: number;
}

export function scoreOf(c: Counts): Score {
  const frames = c.tp + c.fp + c.fn + c.tn;
  return {
    ...c,
    frames,
    accuracy: (c.tp + c.tn) / frames,
    precision: c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp),
    recall: c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn),
  };
}

/** Runs `classify` frame by frame over a case and scores it against the labels. */
export function scoreCase(c: VadCase, classify: (frame: Int16Array) => boolean): Score {
  const spf = (c.rateHz * c.frameMs) / 1000;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let f = 0; f < c.labels.length; f++) {
    const said = classify(c.samples.subarray(f * spf, (f + 1) * spf));
    const truth = c.labels[f] === 1;
    if (said && truth) tp++;
    else if (said) fp++;
    else if (truth) fn++;
    else tn++;
  }
  return scoreOf({ tp, fp, fn, tn });
}
