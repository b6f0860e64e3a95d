/**
 * Resampler throughput: the WebAssembly kernel through its wrapper as a leg
 * calls it (20 ms frames, copies in and out included) beside the plain
 * TypeScript reference on the same frames, for the pairs a call meets.
 * Speed is counted in input samples; "× real time" is seconds of audio
 * converted per second of one core, for one stream.
 */
import { Resampler } from '../src/dsp/resampler.ts';
import { ReferenceResampler } from '../src/dsp/reference/resampler.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { printTable, rate } from './table.ts';

const FRAME_MS = 20;
/** Seconds of speech each timed call converts. */
const SPAN_S = 2;
const ROUNDS = 3;
const ROUND_MS = 300;

const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [48000, 8000],
  [8000, 48000],
  [16000, 48000],
  [48000, 16000],
  [24000, 16000],
  [16000, 24000],
  [8000, 16000],
  [16000, 8000],
  [48000, 24000],
  [48000, 48000],
];

interface Stream {
  process(input: Int16Array, output: Int16Array): number;
}

/** A decimated or repeated copy of 48 kHz speech at `rateHz` is enough for timing. */
function speechAt(rateHz: number, source: Int16Array): Int16Array {
  const n = Math.round(SPAN_S * rateHz);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = source[Math.floor((i * 48000) / rateHz) % source.length]!;
  return out;
}

export default function resamplerBench(): void {
  const source = speech('synth-m-48k').samples;
  const rows: Array<Record<string, string | number>> = [];
  for (const [fromHz, toHz] of PAIRS) {
    const input = speechAt(fromHz, source);
    const frameSamples = (fromHz * FRAME_MS) / 1000;
    // Frames cut once so the timed loop allocates nothing of its own.
    const frames: Int16Array[] = [];
    for (let at = 0; at + frameSamples <= input.length; at += frameSamples) {
      frames.push(input.subarray(at, at + frameSamples));
    }
    const output = new Int16Array(Resampler.outputLength(fromHz, toHz, frameSamples));
    const samples = frames.length * frameSamples;
    const run = (s: Stream) => () => {
      for (const f of frames) s.process(f, output);
    };
    const wasm = new Resampler(fromHz, toHz);
    const reference = new ReferenceResampler(fromHz, toHz);
    // Interleaved best of three: other work on the machine only ever slows a run down.
    let wasmRate = 0;
    let tsRate = 0;
    for (let round = 0; round < ROUNDS; round++) {
      wasmRate = Math.max(wasmRate, rate(run(wasm), ROUND_MS) * samples);
      tsRate = Math.max(tsRate, rate(run(reference), ROUND_MS) * samples);
    }
    wasm.destroy();
    const pair = `${fromHz / 1000} → ${toHz / 1000} kHz${fromHz === toHz ? ' (copy)' : ''}`;
    const taps = reference.design.prototype.length;
    rows.push({
      pair,
      'taps (per phase)': `${taps} (${Math.ceil(taps / reference.design.l)})`,
      'WASM Msamples/s': wasmRate / 1e6,
      'WASM × real time': wasmRate / fromHz,
      'TS Msamples/s': tsRate / 1e6,
      'TS × real time': tsRate / fromHz,
      'WASM / TS': wasmRate / tsRate,
    });
  }
  printTable(
    `Resampler, one stream in ${FRAME_MS} ms frames through the wrapper (input samples; × real time per core)`,
    rows,
  );
}
