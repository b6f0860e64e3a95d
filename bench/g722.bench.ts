/**
 * G.722 throughput, side by side per operation: the WebAssembly kernel on
 * data already in WebAssembly memory (the whole file in one call, and 20 ms
 * frames, one call each), the TypeScript wrapper as a leg calls it (20 ms
 * frames, copies in and out included), and the plain TypeScript reference,
 * on the same speech. The coders keep running from call to call: the timing
 * is of the steady state, not of a reset. The 20 ms kernel and wrapper
 * figures are taken in alternating rounds, so their ratio holds on a machine
 * whose load changes while it runs. Rates are per CPU-second of this
 * process, so others' work on a shared machine does not count.
 */
import { type CoreExports, dsp, viewOf } from '../src/dsp/wasm.ts';
import * as wasm from '../src/dsp/g722.ts';
import * as reference from '../src/dsp/reference/g722.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { bestRates, cpuRate, printTable } from './table.ts';

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
const FRAME_BYTES = FRAME_SAMPLES / 2;

export default function g722Bench(): void {
  const all = speech('synth-m-16k').samples;
  const pcm = all.subarray(0, all.length & ~1);
  const n = pcm.length;
  const frameCount = Math.floor(n / FRAME_SAMPLES);
  const nFramed = frameCount * FRAME_SAMPLES;
  const ms = (callsPerSecond: number, samplesPerCall: number): number => (callsPerSecond * samplesPerCall) / 1e6;

  // Kernels on data resident in WebAssembly memory.
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

  // The wrapper on frames cut once, so the timed loops allocate nothing.
  const we = new wasm.G722Encoder();
  const wd = new wasm.G722Decoder();
  const re = new reference.G722Encoder();
  const rd = new reference.G722Decoder();
  const frames: Int16Array[] = [];
  for (let i = 0; i < frameCount; i++) frames.push(pcm.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES));
  const codes = new Uint8Array(n / 2);
  we.encode(pcm, codes);
  const codeFrames: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) codeFrames.push(codes.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES));
  const frameCodes = new Uint8Array(FRAME_BYTES);
  const framePcm = new Int16Array(FRAME_SAMPLES);
  const back = new Int16Array(n);

  const kernelFrames = {
    encode: (): void => { for (let at = 0; at < nFramed; at += FRAME_SAMPLES) core.g722Encode(enc, pcmPtr + 2 * at, FRAME_SAMPLES, codesPtr + at / 2); },
    decode: (): void => { for (let at = 0; at < nFramed; at += FRAME_SAMPLES) core.g722Decode(dec, codesPtr + at / 2, FRAME_BYTES, outPtr + 2 * at); },
    'round trip': (): void => {
      for (let at = 0; at < nFramed; at += FRAME_SAMPLES) {
        core.g722Encode(enc, pcmPtr + 2 * at, FRAME_SAMPLES, codesPtr + at / 2);
        core.g722Decode(dec, codesPtr + at / 2, FRAME_BYTES, outPtr + 2 * at);
      }
    },
  };
  const wrapperFrames = {
    encode: (): void => { for (const f of frames) we.encode(f, frameCodes); },
    decode: (): void => { for (const c of codeFrames) wd.decode(c, framePcm); },
    'round trip': (): void => { for (const f of frames) { we.encode(f, frameCodes); wd.decode(frameCodes, framePcm); } },
  };
  const kernelWhole = {
    encode: (): void => { core.g722Encode(enc, pcmPtr, n, codesPtr); },
    decode: (): void => { core.g722Decode(dec, codesPtr, n / 2, outPtr); },
    'round trip': (): void => { core.g722Encode(enc, pcmPtr, n, codesPtr); core.g722Decode(dec, codesPtr, n / 2, outPtr); },
  };
  const referenceWhole = {
    encode: (): void => { re.encode(pcm, codes); },
    decode: (): void => { rd.decode(codes, back); },
    'round trip': (): void => { re.encode(pcm, codes); rd.decode(codes, back); },
  };

  const rows: Array<Record<string, string | number>> = [];
  for (const op of ['encode', 'decode', 'round trip'] as const) {
    const [kernel20, wrapper20] = bestRates([kernelFrames[op], wrapperFrames[op]]);
    const wrapperMs = ms(wrapper20!, nFramed);
    const kernelMs = ms(kernel20!, nFramed);
    rows.push({
      operation: op,
      'kernel, whole file': ms(cpuRate(kernelWhole[op], 600), n),
      'kernel, 20 ms': kernelMs,
      'wrapper, 20 ms': wrapperMs,
      'wrapper ÷ kernel (20 ms)': wrapperMs / kernelMs,
      'TS reference': ms(cpuRate(referenceWhole[op]), n),
      '× real time (wrapper, 20 ms, 1 core)': (wrapperMs * 1e6) / RATE_HZ,
    });
  }
  we.destroy();
  wd.destroy();
  core.g722EncoderDestroy(enc);
  core.g722DecoderDestroy(dec);
  core.free(pcmPtr);
  core.free(codesPtr);
  core.free(outPtr);

  printTable(`G.722 64 kbit/s, ${n.toLocaleString('en-US')} samples of speech at 16 kHz (synth-m-16k), Msamples per CPU-second`, rows);
}
