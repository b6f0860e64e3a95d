import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav, toMono } from '../wire/wav.ts';
import { Prng } from './prng.ts';

/**
 * The audio callers speak: the corpus's two synthetic voices (about 28 s of
 * the Harvard sentences each, `synth-m-*` and `synth-f-*`, at 8 and 16 kHz)
 * one after the other, or, where the corpus is absent, a synthetic
 * speech-like signal (voiced syllables with pauses, seeded). The length is a
 * whole number of 20 ms frames, so a caller loops it frame by frame; every
 * caller starts at its own frame.
 */
export interface SpeechSource {
  rateHz: number;
  samples: Int16Array;
  /** Where it came from, for the report. */
  origin: string;
}

const VOICES = ['synth-m', 'synth-f'];
const FRAME_MS = 20;

/** The corpus files for `rateHz`, or why they cannot be used. */
export function corpusFiles(dir: string, rateHz: number): { files: string[] } | { missing: string } {
  const files = VOICES.map((v) => join(dir, `${v}-${rateHz / 1000}k.wav`));
  const absent = files.filter((f) => !existsSync(f));
  return absent.length === 0 ? { files } : { missing: absent.join(', ') };
}

export function loadSpeech(dir: string, rateHz: number): SpeechSource {
  const frame = (rateHz * FRAME_MS) / 1000;
  const found = corpusFiles(dir, rateHz);
  if ('missing' in found) return syntheticSpeech(rateHz, 30, frame);
  const parts = found.files.map((f) => {
    const wav = readWav(new Uint8Array(readFileSync(f)));
    if (wav.rateHz !== rateHz) throw new RangeError(`speech file at ${wav.rateHz} Hz, expected ${rateHz} [file:${f}]`);
    return toMono(wav);
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const samples = new Int16Array(total - (total % frame));
  let at = 0;
  for (const p of parts) {
    samples.set(p.subarray(0, Math.min(p.length, samples.length - at)), at);
    at += p.length;
  }
  return { rateHz, samples, origin: found.files.join(', ') };
}

/**
 * Speech-like audio without a corpus: syllables of 80–300 ms (a rising then
 * falling envelope) on a glottal-like harmonic series whose pitch wanders
 * around 90–220 Hz, with pauses of 30–600 ms between them; its envelope never
 * repeats, so returned audio aligns with what was sent.
 */
export function syntheticSpeech(rateHz: number, seconds: number, frameSamples: number, seed = 7): SpeechSource {
  const n = Math.round(rateHz * seconds);
  const samples = new Int16Array(n - (n % frameSamples));
  const prng = new Prng(seed);
  let at = 0;
  let phase = 0;
  while (at < samples.length) {
    const syllable = Math.round(rateHz * (0.08 + 0.22 * prng.next()));
    const f0 = 90 + 130 * prng.next();
    const glide = (prng.next() - 0.5) * 0.4;
    const amp = 3000 + 9000 * prng.next();
    for (let i = 0; i < syllable && at < samples.length; i++, at++) {
      const t = i / syllable;
      const env = Math.sin(Math.PI * t) ** 2;
      phase += (2 * Math.PI * f0 * (1 + glide * t)) / rateHz;
      // Harmonics falling off at 6 dB an octave, as a voiced source roughly does.
      let v = 0;
      for (let h = 1; h <= 8; h++) v += Math.sin(h * phase) / h;
      samples[at] = Math.round(amp * env * v * 0.5);
    }
    at += Math.round(rateHz * (0.03 + 0.57 * prng.next()));
  }
  return { rateHz, samples, origin: `synthetic speech-like signal (${seconds} s)` };
}
