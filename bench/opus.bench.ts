/**
 * Opus encode and decode speed, one stream on one core: the native addon and
 * the WebAssembly build of the same libopus side by side, at the engine's
 * 20 ms frame on 48 and 16 kHz speech. "× real time" is seconds of audio
 * coded per second of one core's time. Then a call's codec cost (one frame
 * encoded and one decoded per 20 ms) per backend, and the codec-bound limit:
 * the calls per core native libopus alone allows.
 */
import { OpusDecoder, OpusEncoder, loadNativeOpus, opusEncoderBackend, type OpusBackend } from '../src/dsp/opus.ts';
import { opusWasm } from '../src/dsp/opusWasm.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { availableParallelism } from 'node:os';
import { bestRates, printTable, rate } from './table.ts';

const SECONDS = 8;
const BITRATE_BPS: Record<number, number> = { 48000: 32000, 16000: 24000 };

function frames(samples: Int16Array, frameSamples: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let at = 0; at + frameSamples <= samples.length; at += frameSamples) {
    out.push(samples.subarray(at, at + frameSamples));
  }
  return out;
}

export default async function opusBench(): Promise<void> {
  const choice = opusEncoderBackend();
  const native = loadNativeOpus();
  console.log(`encoder backend chosen: ${choice.backend} (${choice.reason})`);
  console.log('decoder backend: wasm, direct binding (concealment and FEC decode need opus_decode itself)');
  console.log(`WebAssembly libopus build: ${opusWasm().build}; native addon: ${native.reason}`);

  const rows: Array<Record<string, string | number>> = [];
  const backends: OpusBackend[] = native.binding === undefined ? ['wasm'] : ['native', 'wasm'];
  for (const rateHz of [48000, 16000]) {
    const name = rateHz === 48000 ? 'synth-m-48k' : 'synth-m-16k';
    const pcm = speech(name).samples.subarray(0, SECONDS * rateHz);
    const frameSamples = rateHz / 50;
    const input = frames(pcm, frameSamples);
    const out = new Uint8Array(1500);
    for (const complexity of [5, 10]) {
      for (const backend of backends) {
        const enc = new OpusEncoder({ rateHz, bitrateBps: BITRATE_BPS[rateHz]!, complexity, backend });
        // A whole pass first: WebAssembly starts in the baseline compiler and tiers up while it runs.
        for (const f of input) enc.encode(f, out);
        let i = 0;
        const perSec = rate(() => {
          enc.encode(input[i]!, out);
          i = i + 1 === input.length ? 0 : i + 1;
        }, 1500);
        enc.destroy();
        rows.push(row('encode', backend, rateHz, complexity, perSec, frameSamples));
      }
    }

    // Packets from the complexity-10 encoder; the decoder's cost barely depends on it.
    const enc = new OpusEncoder({ rateHz, bitrateBps: BITRATE_BPS[rateHz]!, complexity: 10 });
    const packets = input.map((f) => out.slice(0, enc.encode(f, out)));
    enc.destroy();
    const pcmOut = new Int16Array(5760);
    for (const backend of backends) {
      let decodeOne: () => void;
      let i = 0;
      const next = (): Uint8Array => {
        const p = packets[i]!;
        i = i + 1 === packets.length ? 0 : i + 1;
        return p;
      };
      if (backend === 'wasm') {
        const dec = new OpusDecoder({ rateHz });
        decodeOne = () => void dec.decode(next(), pcmOut);
      } else {
        const dec = new native.binding!.Decoder({ channels: 1, sample_rate: rateHz });
        decodeOne = () => void dec.decode(next());
      }
      for (let k = 0; k < packets.length; k++) decodeOne();
      rows.push(row('decode', backend, rateHz, undefined, rate(decodeOne, 1000), frameSamples));
    }
  }
  printTable(
    `Opus, one mono stream, 20 ms frames (${SECONDS} s of synthetic male speech; 48 kHz at 32 kbit/s, 16 kHz at 24 kbit/s)`,
    rows,
  );
  if (native.binding !== undefined) codecBound(native.binding);
}

/** libopus's default complexity, which the engine's Opus leg keeps. */
const ENGINE_COMPLEXITY = 9;

/**
 * Encode + decode of one call's 20 ms frame (one each way), native and
 * WebAssembly measured in alternating rounds in CPU time, and the calls per
 * core the codec alone allows: the codec-bound limit capacity runs are held to.
 */
export function codecBound(binding: NonNullable<ReturnType<typeof loadNativeOpus>['binding']>): number {
  const rows: Array<Record<string, string | number>> = [];
  let limit48 = 0;
  for (const rateHz of [48000, 16000]) {
    const frameSamples = rateHz / 50;
    const name = rateHz === 48000 ? 'synth-m-48k' : 'synth-m-16k';
    const input = frames(speech(name).samples.subarray(0, SECONDS * rateHz), frameSamples);
    const out = new Uint8Array(1500);
    const pcmOut = new Int16Array(5760);
    const opts = { rateHz, bitrateBps: BITRATE_BPS[rateHz]!, complexity: ENGINE_COMPLEXITY };
    const encN = new OpusEncoder({ ...opts, backend: 'native' });
    const encW = new OpusEncoder({ ...opts, backend: 'wasm' });
    const packets = input.map((f) => out.slice(0, encN.encode(f, out)));
    const decN = new binding.Decoder({ channels: 1, sample_rate: rateHz });
    const decW = new OpusDecoder({ rateHz });
    const cycle = <T>(items: T[], fn: (item: T) => void): (() => void) => {
      let i = 0;
      return () => {
        fn(items[i]!);
        i = i + 1 === items.length ? 0 : i + 1;
      };
    };
    const fns = [
      cycle(input, (f) => void encN.encode(f, out)),
      cycle(input, (f) => void encW.encode(f, out)),
      cycle(packets, (p) => void decN.decode(p)),
      cycle(packets, (p) => void decW.decode(p, pcmOut)),
    ];
    for (const fn of fns) for (let k = 0; k < input.length; k++) fn(); // tier up
    const us = bestRates(fns, 8, 150).map((perSec) => 1e6 / perSec);
    const [encNus, encWus, decNus, decWus] = us as [number, number, number, number];
    encN.destroy();
    encW.destroy();
    decW.destroy();
    const add = (encoder: OpusBackend, decoder: OpusBackend, enc: number, dec: number): number => {
      const callsPerCore = (OPUS_FRAME_US / (enc + dec)) | 0;
      rows.push({
        'rate kHz': String(rateHz / 1000),
        encoder,
        decoder,
        'encode µs/frame': enc,
        'decode µs/frame': dec,
        'encode + decode µs': enc + dec,
        'calls per core': callsPerCore,
      });
      return callsPerCore;
    };
    const limit = add('native', 'native', encNus, decNus);
    add('wasm', 'wasm', encWus, decWus);
    // The engine's pairing: concealment and FEC decode need the WebAssembly binding.
    add('native', 'wasm', encNus, decWus);
    if (rateHz === 48000) limit48 = limit;
  }
  printTable(
    `Opus codec cost per call: one 20 ms frame encoded and one decoded (complexity ${ENGINE_COMPLEXITY}, CPU time, best of 8 alternating rounds)`,
    rows,
  );
  const cores = availableParallelism();
  console.log(
    `\ncodec-bound limit (native libopus encode + decode alone, 48 kHz): ${limit48} calls per core, ${limit48 * cores} on this machine's ${cores} cores`,
  );
  return limit48;
}

const OPUS_FRAME_US = 20_000;

function row(
  op: string,
  backend: OpusBackend,
  rateHz: number,
  complexity: number | undefined,
  framesPerSec: number,
  frameSamples: number,
): Record<string, string | number> {
  return {
    operation: op,
    backend,
    'rate kHz': String(rateHz / 1000),
    complexity: complexity === undefined ? '—' : String(complexity),
    '× real time per core': framesPerSec * 0.02,
    'Msamples/s': (framesPerSec * frameSamples) / 1e6,
  };
}
