/**
 * The callers' speech for the test peers: a fixture WAV read and µ-law
 * encoded here, not through the engine (src/wire/wav.ts, src/dsp/g711.ts),
 * so what a peer sends never shares the engine's mistakes.
 *
 * The WAV reader takes what the fixtures are: RIFF/WAVE with one `fmt `
 * chunk of PCM (format 1), 16 bits, one channel, and a `data` chunk; chunks
 * are word-aligned (Microsoft/IBM, "Multimedia Programming Interface and Data
 * Specifications 1.0", 1991, RIFF and WAVE form). Anything else is refused.
 */
import { readFileSync } from 'node:fs';
import { ulawEncodeSample } from './g711.ts';

const SPEECH_DIR = new URL('../fixtures/data/speech/', import.meta.url);

/** A mono 16-bit PCM WAV file's rate and samples. */
export function readPcm16Wav(bytes: Uint8Array, what = 'WAV'): { rateHz: number; samples: Int16Array } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new RangeError(`not a RIFF/WAVE file [${what}]`);
  let rateHz = 0;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      const format = v.getUint16(body, true);
      const channels = v.getUint16(body + 2, true);
      const bits = v.getUint16(body + 14, true);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new RangeError(`expected 16-bit mono PCM [${what}, format:${format}, channels:${channels}, bits:${bits}]`);
      }
      rateHz = v.getUint32(body + 4, true);
    } else if (id === 'data') {
      if (rateHz === 0) throw new RangeError(`data before fmt [${what}]`);
      const n = Math.min(size, bytes.length - body) >> 1;
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = v.getInt16(body + 2 * i, true);
      return { rateHz, samples };
    }
    at = body + size + (size & 1);
  }
  throw new RangeError(`no data chunk [${what}]`);
}

/** A speech fixture at 8 kHz (e.g. `synth-m-8k`) as a caller's µ-law, optionally its first `ms`. */
export function ulawSpeech(name: string, ms?: number): Uint8Array {
  const { rateHz, samples } = readPcm16Wav(new Uint8Array(readFileSync(new URL(`${name}.wav`, SPEECH_DIR))), `fixture:${name}`);
  if (rateHz !== 8000) throw new RangeError(`Twilio audio is 8 kHz [fixture:${name}, rateHz:${rateHz}]`);
  const n = ms === undefined ? samples.length : Math.min(samples.length, ms * 8);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ulawEncodeSample(samples[i]!);
  return out;
}
