/**
 * G.711 throughput: the WebAssembly kernels on buffers already in WebAssembly
 * memory, the TypeScript wrapper as a leg calls it (20 ms frames, copies in
 * and out included), and the plain TypeScript reference, on the same speech.
 */
import { type CoreExports, dsp, viewOf } from '../src/dsp/wasm.ts';
import * as wasm from '../src/dsp/g711.ts';
import * as reference from '../src/dsp/reference/g711.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { printTable, rate } from './table.ts';

interface G711Exports extends CoreExports {
  g711UlawEncode(src: number, n: number, dst: number): number;
  g711UlawDecode(src: number, n: number, dst: number): number;
  g711AlawEncode(src: number, n: number, dst: number): number;
  g711AlawDecode(src: number, n: number, dst: number): number;
}

const RATE_HZ = 8000;
const FRAME_SAMPLES = 160; // 20 ms

type Codec = (pcm: Int16Array, out: Uint8Array) => number;
type Decoder = (codes: Uint8Array, out: Int16Array) => number;

export default function g711Bench(): void {
  const pcm = speech('synth-m-8k').samples;
  const n = pcm.length;
  const rows: Array<Record<string, string | number>> = [];
  const row = (law: string, impl: string, op: string, callsPerSecond: number, samplesPerCall: number): void => {
    const samplesPerSecond = callsPerSecond * samplesPerCall;
    rows.push({
      law,
      implementation: impl,
      operation: op,
      'Msamples/s': samplesPerSecond / 1e6,
      '× real time (1 core)': samplesPerSecond / RATE_HZ,
    });
  };

  // Kernels on data resident in WebAssembly memory.
  const core = dsp<G711Exports>();
  const pcmPtr = core.alloc(n * 2);
  const codesPtr = core.alloc(n);
  const outPtr = core.alloc(n * 2);
  const view = viewOf(core);
  view.refresh();
  view.i16.set(pcm, pcmPtr >> 1);

  // Frames for the wrapper rows, cut once so the timed loop allocates nothing.
  const frames: Int16Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= n; at += FRAME_SAMPLES) frames.push(pcm.subarray(at, at + FRAME_SAMPLES));
  const frameCodes = new Uint8Array(FRAME_SAMPLES);
  const framePcm = new Int16Array(FRAME_SAMPLES);
  const codes = new Uint8Array(n);
  const back = new Int16Array(n);

  const laws: Array<[string, (s: number, k: number, d: number) => number, (s: number, k: number, d: number) => number, Codec, Decoder, Codec, Decoder]> = [
    ['µ-law', core.g711UlawEncode, core.g711UlawDecode, wasm.ulawEncode, wasm.ulawDecode, reference.ulawEncode, reference.ulawDecode],
    ['A-law', core.g711AlawEncode, core.g711AlawDecode, wasm.alawEncode, wasm.alawDecode, reference.alawEncode, reference.alawDecode],
  ];
  for (const [law, kEnc, kDec, wEnc, wDec, rEnc, rDec] of laws) {
    kEnc(pcmPtr, n, codesPtr);
    row(law, 'WASM kernel', 'encode', rate(() => kEnc(pcmPtr, n, codesPtr)), n);
    row(law, 'WASM kernel', 'decode', rate(() => kDec(codesPtr, n, outPtr)), n);
    row(law, 'WASM kernel', 'round trip', rate(() => { kEnc(pcmPtr, n, codesPtr); kDec(codesPtr, n, outPtr); }), n);

    const perFrames = (fn: (f: Int16Array) => void) => () => { for (const f of frames) fn(f); };
    const nFramed = frames.length * FRAME_SAMPLES;
    wEnc(frames[0]!, frameCodes);
    row(law, 'WASM via wrapper, 20 ms frames', 'encode', rate(perFrames((f) => wEnc(f, frameCodes))), nFramed);
    row(law, 'WASM via wrapper, 20 ms frames', 'decode', rate(perFrames(() => wDec(frameCodes, framePcm))), nFramed);
    row(law, 'WASM via wrapper, 20 ms frames', 'round trip', rate(perFrames((f) => { wEnc(f, frameCodes); wDec(frameCodes, framePcm); })), nFramed);
    row(law, 'WASM via wrapper, whole file', 'round trip', rate(() => { wEnc(pcm, codes); wDec(codes, back); }), n);

    row(law, 'TS reference', 'encode', rate(() => rEnc(pcm, codes)), n);
    rEnc(pcm, codes);
    row(law, 'TS reference', 'decode', rate(() => rDec(codes, back)), n);
    row(law, 'TS reference', 'round trip', rate(() => { rEnc(pcm, codes); rDec(codes, back); }), n);
  }
  core.free(pcmPtr);
  core.free(codesPtr);
  core.free(outPtr);
  printTable(`G.711, ${n.toLocaleString('en-US')} samples of speech at 8 kHz (synth-m-8k)`, rows);
}
