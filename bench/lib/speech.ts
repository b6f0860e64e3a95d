/**
 * The speech the jitter buffer and PLC evaluation runs on, all at 16 kHz
 * (the rate PLCMOS v2 takes): the PLCMOS example's real speech, the two
 * synthetic voices, and a real voice recorded at 48 kHz brought down with the
 * engine's own resampler.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resampleWhole } from '../../src/dsp/resampler.ts';
import { readWav, toMono } from '../../src/wire/wav.ts';

export interface EvalSpeech {
  name: string;
  samples16k: Int16Array;
}

const EVAL_RATE_HZ = 16000;
const FIXTURES = new URL('../../test/fixtures/', import.meta.url);

function readMono(rel: string): { rateHz: number; samples: Int16Array } {
  const wav = readWav(new Uint8Array(readFileSync(fileURLToPath(new URL(rel, FIXTURES)))));
  return { rateHz: wav.rateHz, samples: toMono(wav) };
}

/** `samples` at `rateHz` → 16 kHz, with the resampler's delay removed so the speech stays aligned. */
export function to16k(samples: Int16Array, rateHz: number): Int16Array {
  return resampleWhole(samples, rateHz, EVAL_RATE_HZ);
}

const SOURCES: ReadonlyArray<{ name: string; rel: string }> = [
  { name: 'clean', rel: 'plcmos/clean.wav' },
  { name: 'synth-m', rel: 'data/speech/synth-m-16k.wav' },
  { name: 'synth-f', rel: 'data/speech/synth-f-16k.wav' },
  { name: 'human-front-center', rel: 'data/speech/human-front-center-48k.wav' },
];

/** Every evaluation clip at 16 kHz mono. */
export function loadEvalSpeech(): EvalSpeech[] {
  return SOURCES.map(({ name, rel }) => {
    const { rateHz, samples } = readMono(rel);
    return { name, samples16k: to16k(samples, rateHz) };
  });
}
