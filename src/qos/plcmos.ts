/**
 * PLCMOS v2: a non-intrusive quality estimate (1–5) for speech after packet
 * loss concealment, from Diener et al., "PLCMOS — a data-driven non-intrusive
 * metric for the evaluation of packet loss concealment algorithms",
 * Interspeech 2023 (model published with the Interspeech 2022 Deep PLC
 * Challenge, MIT licence). The feature extraction follows
 * test/fixtures/plcmos/README.md; the network runs in onnxruntime-node (an
 * optional dependency, src/qos/onnxRuntime.ts: the benchmarks and the
 * post-call report load it when present).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Fft } from './fft.ts';
import { loadOnnxRuntime, type OnnxRuntime, type OrtSession } from './onnxRuntime.ts';

export const PLCMOS_RATE_HZ = 16000;
const FFT_SIZE = 512;
const HOP = 256;
const BINS = FFT_SIZE / 2 + 1;
/** Silence gets the smallest nonzero power of the utterance minus this, in dB. */
const ZERO_POWER_FLOOR_DB = -120;
/** What every bin gets when the whole signal is digital silence, in dB. */
const ALL_ZERO_POWER_DB = -80;
/** The model was trained on log power spectra scaled down by this. */
const FEATURE_SCALE = 20;
const RATER_EMBED_DIM = 64;
/** The model's convolution and pooling stack needs at least this many frames. */
const MIN_FRAMES = 7;
/** The shortest signal that makes MIN_FRAMES frames (⌈n / 256⌉ + 1 ≥ 7): 80 ms. */
export const PLCMOS_MIN_SAMPLES = (MIN_FRAMES - 2) * HOP + 1;
/** onnxruntime's own logging: errors only reach us as rejections, so keep its console quiet. */
const ORT_LOG_FATAL_ONLY = 4;

const DEFAULT_DIR = new URL('../../test/fixtures/plcmos/', import.meta.url);
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('plcmos_v2.onnx', DEFAULT_DIR));
export const DEFAULT_EMBEDS_PATH = fileURLToPath(new URL('rater_embeds.json', DEFAULT_DIR));

/** dB → natural-log units of power: dB/10 decades, ln(10) per decade. */
function dbToLn(db: number): number {
  return (db / 10) * Math.LN10;
}

/** Samples as floats in [-1, 1]; Int16 is scaled by 1/32768. */
export function toUnitFloat(samples: Float32Array | Int16Array): Float32Array {
  if (samples instanceof Float32Array) return samples;
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/**
 * The model's input features: frames × 257 log power spectra / 20, row-major.
 * Frames of 512 with hop 256 under a periodic Hamming window; the first frame
 * starts 256 samples before the signal. The end is padded like the start
 * (256 zeros, so the last samples also sit in the middle of a frame) and then
 * to a whole frame: ⌈n / 256⌉ + 1 frames in all. That is the framing that
 * reproduces the published example scores; one frame fewer is 0.01 off.
 */
export function plcmosFeatures(signal: Float32Array): { frames: number; data: Float32Array } {
  const frames = Math.ceil(signal.length / HOP) + 1;
  const window = new Float64Array(FFT_SIZE);
  // Periodic Hamming: the first 512 points of the 513-point symmetric window.
  for (let n = 0; n < FFT_SIZE; n++) window[n] = 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / FFT_SIZE);
  const fft = new Fft(FFT_SIZE);
  const frame = new Float64Array(FFT_SIZE);
  const power = new Float64Array(BINS);
  const all = new Float64Array(frames * BINS);
  let minNonZero = Infinity;
  for (let f = 0; f < frames; f++) {
    const start = f * HOP - HOP;
    for (let n = 0; n < FFT_SIZE; n++) {
      const at = start + n;
      frame[n] = at >= 0 && at < signal.length ? signal[at]! * window[n]! : 0;
    }
    fft.powerSpectrum(frame, power);
    for (let k = 0; k < BINS; k++) {
      const p = power[k]!;
      all[f * BINS + k] = p;
      if (p > 0 && p < minNonZero) minNonZero = p;
    }
  }
  const zeroLog = minNonZero === Infinity ? dbToLn(ALL_ZERO_POWER_DB) : Math.log(minNonZero) + dbToLn(ZERO_POWER_FLOOR_DB);
  const data = new Float32Array(frames * BINS);
  for (let i = 0; i < all.length; i++) {
    const p = all[i]!;
    data[i] = (p > 0 ? Math.log(p) : zeroLog) / FEATURE_SCALE;
  }
  return { frames, data };
}

interface RaterEmbedsFile {
  dim: number;
  embeds: number[][];
}

function loadRaterEmbeds(path: string): Float32Array[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as RaterEmbedsFile;
  if (parsed.dim !== RATER_EMBED_DIM || !Array.isArray(parsed.embeds) || parsed.embeds.length === 0) {
    throw new Error(`unexpected rater embeddings [path:${path}, dim:${parsed.dim}]`);
  }
  return parsed.embeds.map((e, i) => {
    if (e.length !== RATER_EMBED_DIM) throw new Error(`rater embedding ${i} has ${e.length} values, not ${RATER_EMBED_DIM}`);
    return Float32Array.from(e);
  });
}

/** One ONNX session; score() as often as needed, then close(). */
export class PlcMos {
  readonly #ort: OnnxRuntime;
  readonly #session: OrtSession;
  readonly #embeds: Float32Array[];
  #closed = false;

  private constructor(ort: OnnxRuntime, session: OrtSession, embeds: Float32Array[]) {
    this.#ort = ort;
    this.#session = session;
    this.#embeds = embeds;
  }

  /** Rejects when onnxruntime-node (optional) is not installed, or the model or embeddings will not load. */
  static async load(modelPath: string = DEFAULT_MODEL_PATH, embedsPath: string = DEFAULT_EMBEDS_PATH): Promise<PlcMos> {
    const ort = await loadOnnxRuntime();
    const embeds = loadRaterEmbeds(embedsPath);
    // One thread: the bench scores one clip at a time and must not compete
    // with the engine's workers for the two cores.
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: ORT_LOG_FATAL_ONLY,
    });
    for (const name of ['degraded_audio', 'rater_embed']) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new Error(`not a PLCMOS v2 model: no input ${name} [path:${modelPath}, inputs:${session.inputNames.join(',')}]`);
      }
    }
    return new PlcMos(ort, session, embeds);
  }

  /**
   * The PLCMOS of 16 kHz mono speech (Float32 in [-1, 1], or Int16 scaled by
   * 1/32768): the mean of the model's output over the rater embeddings.
   * Rejects with a RangeError for a signal shorter than PLCMOS_MIN_SAMPLES or
   * one holding a NaN or an infinity.
   */
  async score(samples16k: Float32Array | Int16Array): Promise<number> {
    if (this.#closed) throw new Error('PlcMos.score after close()');
    if (samples16k.length < PLCMOS_MIN_SAMPLES) {
      throw new RangeError(`signal too short for PLCMOS [samples:${samples16k.length}, minimum:${PLCMOS_MIN_SAMPLES}]`);
    }
    const signal = toUnitFloat(samples16k);
    for (let i = 0; i < signal.length; i++) {
      if (!Number.isFinite(signal[i]!)) throw new RangeError(`non-finite sample [index:${i}, value:${signal[i]}]`);
    }
    const { frames, data } = plcmosFeatures(signal);
    const audio = new this.#ort.Tensor('float32', data, [1, 1, frames, BINS]);
    const outputName = this.#session.outputNames[0]!;
    let sum = 0;
    for (const embed of this.#embeds) {
      const rater = new this.#ort.Tensor('float32', embed, [1, RATER_EMBED_DIM]);
      const result = await this.#session.run({ degraded_audio: audio, rater_embed: rater });
      sum += Number((result[outputName]!.data as Float32Array)[0]);
    }
    return sum / this.#embeds.length;
  }

  /** Releases the session; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}
