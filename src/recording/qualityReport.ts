import { Vad } from '../dsp/vad.ts';

/** A sample at or beyond this magnitude is clipped (the top code of 16-bit PCM, either sign). */
const CLIP_LEVEL = 32767;
/** Level of digital silence, so an all-zero channel reads a finite figure. */
const FLOOR_DBFS = -120;

/** The caller channel's quality after the call (GET /v1/recordings/:id, GET /v1/calls/:id, /metrics). */
export interface QualityReport {
  /** Seconds of the caller channel measured. */
  seconds: number;
  /** RMS level of the whole channel, dBFS (a full-scale sine reads −3.01). */
  levelDbfs: number;
  /** RMS level over the frames the VAD called speech, dBFS (the talker's level, silence excluded); the floor when there is none. */
  speechLevelDbfs: number;
  peakDbfs: number;
  /** Share of samples at full scale. */
  clippingRatio: number;
  /** Share of 20 ms frames the VAD (src/dsp/vad.ts) called speech. */
  speechRatio: number;
  /** Share of the call's played samples the jitter buffer concealed (PLC), when the call reported it. */
  concealmentRatio: number | undefined;
  /** PLCMOS v2 (1–5) of the caller channel, when the scorer is installed; else why not. */
  plcmos: number | undefined;
  plcmosUnavailable?: string;
}

const dbfs = (meanSquare: number): number => (meanSquare > 0 ? Math.max(FLOOR_DBFS, 10 * Math.log10(meanSquare / (32768 * 32768))) : FLOOR_DBFS);

/**
 * Measures one channel: level, peak, clipping, the VAD's speech share.
 * Allocates; runs in a post-call job, never on a tick.
 */
export function measureChannel(samples: Int16Array, rateHz: number): Omit<QualityReport, 'concealmentRatio' | 'plcmos' | 'plcmosUnavailable'> {
  let sum = 0;
  let peak = 0;
  let clipped = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sum += s * s;
    const a = s < 0 ? -s : s;
    if (a > peak) peak = a;
    if (a >= CLIP_LEVEL) clipped++;
  }
  const vad = new Vad(rateHz);
  const spf = vad.samplesPerFrame;
  let frames = 0;
  let speechFrames = 0;
  let speechSum = 0;
  try {
    for (let at = 0; at + spf <= samples.length; at += spf) {
      const frame = samples.subarray(at, at + spf);
      frames++;
      if (!vad.process(frame)) continue;
      speechFrames++;
      for (let i = 0; i < spf; i++) speechSum += frame[i]! * frame[i]!;
    }
  } finally {
    vad.destroy();
  }
  const n = samples.length;
  return {
    seconds: n / rateHz,
    levelDbfs: round2(dbfs(n > 0 ? sum / n : 0)),
    speechLevelDbfs: round2(dbfs(speechFrames > 0 ? speechSum / (speechFrames * spf) : 0)),
    peakDbfs: round2(peak > 0 ? 20 * Math.log10(peak / 32768) : FLOOR_DBFS),
    clippingRatio: n > 0 ? clipped / n : 0,
    speechRatio: frames > 0 ? speechFrames / frames : 0,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
