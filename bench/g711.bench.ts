/**
 * G.711 throughput, side by side per law and operation: the WebAssembly
 * kernel on data already in WebAssembly memory (the whole file in one call,
 * and 20 ms frames, one call each), the TypeScript wrapper as a leg calls it
 * (20 ms frames, copies in and out included, and the whole file), and the
 * plain TypeScript reference, on the same speech. The 20 ms kernel and
 * wrapper figures are taken in alternating rounds, so their ratio holds on a
 * machine whose load changes while it runs. Rates are per CPU-second of this
 * process, so others' work on a shared machine does not count.
 */
import { type CoreExports, dsp, viewOf } from '../src/dsp/wasm.ts';
import * as wasm from '../src/dsp/g711.ts';
import * as reference from '../src/dsp/reference/g711.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { bestRates, cpuRate, printTable } from './table.ts';

interface G711Exports extends CoreExports {
  g711UlawEncode(src: number, n: number, dst: number): number;
  g711UlawDecode(src: number, n: number, dst: number): number;
  g711AlawEncode(src: number, n: number, dst: number): number;
  g711AlawDecode(src: number, n: number, dst: number): number;
}

const RATE_HZ = 8000;
const FRAME_SAMPLES = 160; // 20 ms

type KernelFn = (src: number, n: number, dst: number) => number;
type Encode = (pcm: Int16Array, out: Uint8Array) => number;
type Decode = (codes: Uint8Array, out: Int16Array) => number;

interface Law {
  name: string;
  kEnc: KernelFn;
  kDec: KernelFn;
  wEnc: Encode;
  wDec: Decode;
  rEnc: Encode;
  rDec: Decode;
}

export default function g711Bench(): void {
  const pcm = speech('synth-m-8k').samples;
  const n = pcm.length;
  const frameCount = Math.floor(n / FRAME_SAMPLES);
  const nFramed = frameCount * FRAME_SAMPLES;
  const ms = (callsPerSecond: number, samplesPerCall: number): number => (callsPerSecond * samplesPerCall) / 1e6;

  // Kernels on data resident in WebAssembly memory.
  const core = dsp<G711Exports>();
  const pcmPtr = core.alloc(n * 2);
  const codesPtr = core.alloc(n);
  const outPtr = core.alloc(n * 2);
  const view = viewOf(core);
  view.refresh();
  view.i16.set(pcm, pcmPtr >> 1);

  // Frames for the wrapper rows, cut once so the timed loops allocate nothing.
  const frames: Int16Array[] = [];
  for (let i = 0; i < frameCount; i++) frames.push(pcm.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES));
  const codes = new Uint8Array(n);
  const back = new Int16Array(n);
  const codeFrames: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) codeFrames.push(codes.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES));
  const frameCodes = new Uint8Array(FRAME_SAMPLES);
  const framePcm = new Int16Array(FRAME_SAMPLES);

  const laws: Law[] = [
    { name: 'µ-law', kEnc: core.g711UlawEncode, kDec: core.g711UlawDecode, wEnc: wasm.ulawEncode, wDec: wasm.ulawDecode, rEnc: reference.ulawEncode, rDec: reference.ulawDecode },
    { name: 'A-law', kEnc: core.g711AlawEncode, kDec: core.g711AlawDecode, wEnc: wasm.alawEncode, wDec: wasm.alawDecode, rEnc: reference.alawEncode, rDec: reference.alawDecode },
  ];
  const rows: Array<Record<string, string | number>> = [];
  for (const { name, kEnc, kDec, wEnc, wDec, rEnc, rDec } of laws) {
    kEnc(pcmPtr, n, codesPtr);
    wEnc(pcm, codes);
    const kernelFrames = {
      encode: (): void => { for (let at = 0; at < nFramed; at += FRAME_SAMPLES) kEnc(pcmPtr + 2 * at, FRAME_SAMPLES, codesPtr + at); },
      decode: (): void => { for (let at = 0; at < nFramed; at += FRAME_SAMPLES) kDec(codesPtr + at, FRAME_SAMPLES, outPtr + 2 * at); },
      'round trip': (): void => {
        for (let at = 0; at < nFramed; at += FRAME_SAMPLES) {
          kEnc(pcmPtr + 2 * at, FRAME_SAMPLES, codesPtr + at);
          kDec(codesPtr + at, FRAME_SAMPLES, outPtr + 2 * at);
        }
      },
    };
    const wrapperFrames = {
      encode: (): void => { for (const f of frames) wEnc(f, frameCodes); },
      decode: (): void => { for (const c of codeFrames) wDec(c, framePcm); },
      'round trip': (): void => { for (const f of frames) { wEnc(f, frameCodes); wDec(frameCodes, framePcm); } },
    };
    const kernelWhole = {
      encode: (): void => { kEnc(pcmPtr, n, codesPtr); },
      decode: (): void => { kDec(codesPtr, n, outPtr); },
      'round trip': (): void => { kEnc(pcmPtr, n, codesPtr); kDec(codesPtr, n, outPtr); },
    };
    const wrapperWhole = {
      encode: (): void => { wEnc(pcm, codes); },
      decode: (): void => { wDec(codes, back); },
      'round trip': (): void => { wEnc(pcm, codes); wDec(codes, back); },
    };
    const referenceWhole = {
      encode: (): void => { rEnc(pcm, codes); },
      decode: (): void => { rDec(codes, back); },
      'round trip': (): void => { rEnc(pcm, codes); rDec(codes, back); },
    };
    for (const op of ['encode', 'decode', 'round trip'] as const) {
      const [kernel20, wrapper20] = bestRates([kernelFrames[op], wrapperFrames[op]]);
      const wrapperMs = ms(wrapper20!, nFramed);
      const kernelMs = ms(kernel20!, nFramed);
      rows.push({
        law: name,
        operation: op,
        'kernel, whole file': ms(cpuRate(kernelWhole[op]), n),
        'kernel, 20 ms': kernelMs,
        'wrapper, 20 ms': wrapperMs,
        'wrapper ÷ kernel (20 ms)': wrapperMs / kernelMs,
        'wrapper, whole file': ms(cpuRate(wrapperWhole[op]), n),
        'TS reference': ms(cpuRate(referenceWhole[op]), n),
        '× real time (wrapper, 20 ms, 1 core)': (wrapperMs * 1e6) / RATE_HZ,
      });
    }
  }
  core.free(pcmPtr);
  core.free(codesPtr);
  core.free(outPtr);
  printTable(`G.711, ${n.toLocaleString('en-US')} samples of speech at 8 kHz (synth-m-8k), Msamples per CPU-second`, rows);
}
