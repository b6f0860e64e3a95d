import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav, toMono } from '../../src/wire/wav.ts';

/** Path of a file under test/fixtures/data (a copy of the shared test data). */
export function fixturePath(rel: string): string {
  return fileURLToPath(new URL(`../fixtures/data/${rel}`, import.meta.url));
}

export function readFixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(rel)));
}

/** A speech file as mono samples, e.g. `speech('synth-m-8k')`. */
export function speech(name: string): { rateHz: number; samples: Int16Array } {
  const wav = readWav(readFixture(`speech/${name}.wav`));
  return { rateHz: wav.rateHz, samples: toMono(wav) };
}

/** A raw little-endian s16 file as samples. */
export function readS16le(rel: string): Int16Array {
  const b = readFixture(rel);
  const out = new Int16Array(b.byteLength >> 1);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = v.getInt16(2 * i, true);
  return out;
}
