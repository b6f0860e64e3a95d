/**
 * The simplest packet loss concealments, as floors for the PLC evaluation.
 * They work on a whole 16 kHz signal and a loss pattern (one boolean per
 * 20 ms frame, true = lost); frames past the end of the pattern are received.
 * The output has the type and length of the input.
 */
import { NETWORK_MODELS, lossPattern } from './network.ts';

/** 20 ms at 16 kHz. */
export const FRAME_SAMPLES_16K = 320;

type Signal = Int16Array | Float32Array;

function like<T extends Signal>(signal: T): T {
  return (signal instanceof Int16Array ? new Int16Array(signal.length) : new Float32Array(signal.length)) as T;
}

/** Number of 20 ms frames covering `samples` (the last may be partial). */
export function frameCount(samples: number, frameSamples = FRAME_SAMPLES_16K): number {
  return Math.ceil(samples / frameSamples);
}

/** Lost frames become silence: what a receiver with no concealment plays. */
export function zeroFill<T extends Signal>(signal: T, lost: readonly boolean[], frameSamples = FRAME_SAMPLES_16K): T {
  const out = like(signal);
  out.set(signal);
  for (let f = 0; f < lost.length; f++) {
    if (lost[f]) out.fill(0, f * frameSamples, Math.min(signal.length, (f + 1) * frameSamples));
  }
  return out;
}

/**
 * Each lost frame repeats the last received frame scaled by factorᵏ, k the
 * number of consecutive losses so far; nothing received yet plays silence.
 * No overlap-add at the joins, so every boundary may click: the naive
 * baseline the issue compares against.
 */
export function repeatLast<T extends Signal>(
  signal: T,
  lost: readonly boolean[],
  factor = 0.9,
  frameSamples = FRAME_SAMPLES_16K,
): T {
  const out = like(signal);
  out.set(signal);
  let lastStart = -1;
  let gain = 1;
  for (let f = 0; f * frameSamples < signal.length; f++) {
    const start = f * frameSamples;
    const end = Math.min(signal.length, start + frameSamples);
    if (!lost[f]) {
      if (end - start === frameSamples) lastStart = start;
      gain = 1;
      continue;
    }
    gain *= factor;
    if (lastStart < 0) {
      out.fill(0, start, end);
      continue;
    }
    const isInt = out instanceof Int16Array;
    for (let i = 0; i < end - start; i++) {
      const v = signal[lastStart + i]! * gain;
      out[start + i] = isInt ? Math.round(v) : v;
    }
  }
  return out;
}

/** Uniform random loss of `rate` over `frames` frames, seeded. */
export function uniformLoss(frames: number, rate: 0.05 | 0.1 | 0.2, seed: number): boolean[] {
  const model = NETWORK_MODELS[`loss-${Math.round(rate * 100)}`]!;
  return lossPattern(model(frames, seed));
}

/** Gilbert-Elliott bursty loss (≈10%, mean burst 3) over `frames` frames, seeded. */
export function burstyLoss(frames: number, seed: number): boolean[] {
  return lossPattern(NETWORK_MODELS['gilbert-elliott']!(frames, seed));
}

/** The fraction of `lost` that is true. */
export function lostFraction(lost: readonly boolean[]): number {
  let n = 0;
  for (const l of lost) if (l) n++;
  return lost.length === 0 ? 0 : n / lost.length;
}
