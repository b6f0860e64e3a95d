/**
 * `npm run bench -- mixer`: the conference mixer, the level meter and the VAD,
 * WebAssembly (SIMD) against their plain TypeScript references in one run.
 * "× real time" is audio time processed per second of one core's time, for
 * one conference (mixer) or one stream (level, VAD). Mixer frames/s counts
 * input frames: one call of a 32-member conference is 32. "+ copies" adds
 * copying every frame in and every mix-minus out through the wrapper.
 */
import { LevelMeter } from '../src/dsp/level.ts';
import { Mixer } from '../src/dsp/mixer.ts';
import { levelReference } from '../src/dsp/reference/level.ts';
import { MixerReference } from '../src/dsp/reference/mixer.ts';
import { VadReference } from '../src/dsp/reference/vad.ts';
import { Vad } from '../src/dsp/vad.ts';
import { mulberry32 } from '../test/helpers/prng.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { printTable, rate } from './table.ts';

const FRAME_S = 0.02;

function randomSpeechLike(rnd: () => number, n: number): Int16Array {
  // loud enough that the limiter works on most samples of a 32-member sum
  return Int16Array.from({ length: n }, () => Math.round((rnd() * 2 - 1) * 12000));
}

function mixerRows(): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const [members, spf, label] of [
    [32, 960, '32 × 960 (48 kHz)'],
    [8, 160, '8 × 160 (8 kHz)'],
    [3, 320, '3 × 320 (16 kHz)'],
  ] as const) {
    const rnd = mulberry32(members * 1000 + spf);
    const frames = Array.from({ length: members }, () => randomSpeechLike(rnd, spf));
    const outs = Array.from({ length: members }, () => new Int16Array(spf));
    const wasm = new Mixer(members, spf);
    const ref = new MixerReference(members, spf);
    frames.forEach((f, i) => {
      wasm.copyIn(i, f);
      ref.inputs[i]!.set(f);
      wasm.setGain(i, 0.8);
      ref.setGain(i, 0.8);
    });
    const kernel = rate(() => wasm.mixMinusOne(members));
    const withCopies = rate(() => {
      for (let i = 0; i < members; i++) wasm.copyIn(i, frames[i]!);
      wasm.mixMinusOne(members);
      for (let i = 0; i < members; i++) wasm.copyOut(i, outs[i]!);
    });
    const reference = rate(() => ref.mixMinusOne(members));
    wasm.destroy();
    rows.push({
      conference: label,
      'WASM frames/s': kernel * members,
      'TS frames/s': reference * members,
      'WASM/TS': kernel / reference,
      'WASM × real time': kernel * FRAME_S,
      'TS × real time': reference * FRAME_S,
      'WASM Msamples/s': (kernel * members * spf) / 1e6,
      'TS Msamples/s': (reference * members * spf) / 1e6,
      'WASM + copies frames/s': withCopies * members,
    });
  }
  return rows;
}

function streamRows(): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const file of ['synth-m-8k', 'synth-m-16k', 'synth-m-48k']) {
    const { rateHz, samples } = speech(file);
    const spf = rateHz * FRAME_S;
    const frames = Math.floor(samples.length / spf);
    const views = Array.from({ length: frames }, (_, f) => samples.subarray(f * spf, (f + 1) * spf));
    let i = 0;
    const frame = (): Int16Array => {
      i = i + 1 < frames ? i + 1 : 0;
      return views[i]!;
    };

    const meter = new LevelMeter(spf);
    const levelWasm = rate(() => meter.measure(frame()));
    const levelTs = rate(() => levelReference(frame()));
    meter.destroy();
    const vad = new Vad(rateHz);
    const vadRef = new VadReference(rateHz);
    const vadWasm = rate(() => vad.process(frame()));
    const vadTs = rate(() => vadRef.process(frame()));
    vad.destroy();
    const kHz = `${rateHz / 1000} kHz, 20 ms`;
    for (const [kernel, wasm, ts] of [
      ['level', levelWasm, levelTs],
      ['VAD', vadWasm, vadTs],
    ] as const) {
      rows.push({
        kernel: `${kernel} ${kHz}`,
        'WASM × real time': wasm * FRAME_S,
        'TS × real time': ts * FRAME_S,
        'WASM/TS': wasm / ts,
        'WASM Msamples/s': (wasm * spf) / 1e6,
        'TS Msamples/s': (ts * spf) / 1e6,
      });
    }
  }
  return rows;
}

export default function run(): void {
  printTable('Conference mixer: mix-minus for every member + full mix, one pass (input frames per second, one core)', mixerRows());
  printTable('Level meter and VAD: one stream, one core', streamRows());
}
