/**
 * G.722 throughput: the WebAssembly kernels on buffers already in WebAssembly
 * memory, the TypeScript wrapper as a leg calls it (20 ms frames, copies in
 * and out included), and the plain TypeScript reference, on the same speech.
 */
import { type CoreExports, dsp, viewOf } from '../src/dsp/wasm.ts';
import * as wasm from '../src/dsp/g722.ts';
import * as reference from '../src/dsp/reference/g722.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { printTable, rate } from './table.ts';

interface G722Exports extends CoreExports {
  g722EncoderCreate(): number;
  g722EncoderDestroy(state: number): void;
  g722Encode(state: number, pcm: number, samples: number, out: number): number;
  g722DecoderCreate(): number;
  g722DecoderDestroy(state: number): void;
  g722Decode(state: number, src: number, bytes: number, out: number): number;
}

const RATE_HZ = 16000;
const FRAME_SAMPLES = 320; // 20 ms

interface Encoder {
  encode(pcm: Int16Array, out: Uint8Array): number;
}
interface Decoder {
  decode(bytes: Uint8Array, out: Int16Array): number;
}

export default function g722Bench(): void {
  const all = speech('synth-m-16k').samples;
  const pcm = all.subarray(0, all.length & ~1);
  const n = pcm.length;
  const rows: Array<Record<string, string | number>> = [];
  const row = (impl: string, op: string, callsPerSecond: number, samplesPerCall: number): void => {
    const samplesPerSecond = callsPerSecond * samplesPerCall;
    rows.push({
      implementation: impl,
      operation: op,
      'Msamples/s': samplesPerSecond / 1e6,
      '× real time (1 core)': samplesPerSecond / RATE_HZ,
    });
  };

  // Kernels on data resident in WebAssembly memory. The coders keep running
  // from call to call: the timing is of the steady state, not of a reset.
  const core = dsp<G722Exports>();
  const pcmPtr = core.alloc(n * 2);
  const codesPtr = core.alloc(n / 2);
  const outPtr = core.alloc(n * 2);
  const view = viewOf(core);
  view.refresh();
  view.i16.set(pcm, pcmPtr >> 1);
  const enc = core.g722EncoderCreate();
  const dec = core.g722DecoderCreate();
  core.g722Encode(enc, pcmPtr, n, codesPtr);
  row('WASM kernel', 'encode', rate(() => core.g722Encode(enc, pcmPtr, n, codesPtr), 600), n);
  row('WASM kernel', 'decode', rate(() => core.g722Decode(dec, codesPtr, n / 2, outPtr), 600), n);
  row(
    'WASM kernel',
    'round trip',
    rate(() => {
      core.g722Encode(enc, pcmPtr, n, codesPtr);
      core.g722Decode(dec, codesPtr, n / 2, outPtr);
    }, 600),
    n,
  );
  core.g722EncoderDestroy(enc);
  core.g722DecoderDestroy(dec);
  core.free(pcmPtr);
  core.free(codesPtr);
  core.free(outPtr);

  const frames: Int16Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= n; at += FRAME_SAMPLES) frames.push(pcm.subarray(at, at + FRAME_SAMPLES));
  const nFramed = frames.length * FRAME_SAMPLES;
  const frameCodes = new Uint8Array(FRAME_SAMPLES / 2);
  const framePcm = new Int16Array(FRAME_SAMPLES);
  const codes = new Uint8Array(n / 2);
  const back = new Int16Array(n);

  const measure = (impl: string, e: Encoder, d: Decoder, framed: boolean): void => {
    if (framed) {
      e.encode(frames[0]!, frameCodes);
      row(impl, 'encode', rate(() => { for (const f of frames) e.encode(f, frameCodes); }), nFramed);
      row(impl, 'decode', rate(() => { for (let i = 0; i < frames.length; i++) d.decode(frameCodes, framePcm); }), nFramed);
      row(impl, 'round trip', rate(() => { for (const f of frames) { e.encode(f, frameCodes); d.decode(frameCodes, framePcm); } }), nFramed);
    } else {
      e.encode(pcm, codes);
      row(impl, 'encode', rate(() => e.encode(pcm, codes)), n);
      row(impl, 'decode', rate(() => d.decode(codes, back)), n);
      row(impl, 'round trip', rate(() => { e.encode(pcm, codes); d.decode(codes, back); }), n);
    }
  };
  const we = new wasm.G722Encoder();
  const wd = new wasm.G722Decoder();
  measure('WASM via wrapper, 20 ms frames', we, wd, true);
  we.destroy();
  wd.destroy();
  measure('TS reference', new reference.G722Encoder(), new reference.G722Decoder(), false);

  printTable(`G.722 64 kbit/s, ${n.toLocaleString('en-US')} samples of speech at 16 kHz (synth-m-16k)`, rows);
}
