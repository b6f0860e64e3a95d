/**
 * `npm run bench -- plc`: the concealer's and the time stretcher's throughput
 * (WebAssembly beside the plain TypeScript reference), and concealment
 * quality by PLCMOS v2 on the PLCMOS example's real speech (clean.wav, 16 kHz,
 * 20 ms packets) under 10% uniform and 10% Gilbert-Elliott loss (mean burst
 * 3), loss applied to the frames directly, averaged over seeded traces.
 * Goals from the jitter buffer issue: ≥ 4.0 uniform, ≥ 3.8 bursty. The
 * burst-aware rows announce each burst with concealBefore(next, out, k) when
 * the frame after it is within reach (60 ms: what a jitter buffer at a 60 ms
 * target holds; or any distance).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Concealer } from '../src/dsp/plc.ts';
import { G711AppendixI } from '../src/dsp/reference/g711AppendixI.ts';
import { ReferenceConcealer } from '../src/dsp/reference/plc.ts';
import { ReferenceTimeStretcher } from '../src/dsp/reference/timeStretch.ts';
import { TimeStretcher } from '../src/dsp/timeStretch.ts';
import { readWav, toMono } from '../src/wire/wav.ts';
import { speech } from '../test/helpers/fixtures.ts';
import { burstyLoss, lostFraction, repeatLast, uniformLoss, zeroFill } from './lib/baselines.ts';
import { PlcMos } from './lib/plcmos.ts';
import { printTable, rate } from './table.ts';

const FRAME_MS = 20;
const SEEDS = [1, 2, 3, 4, 5];

interface FrameConcealer {
  readonly samplesPerFrame: number;
  readonly delaySamples: number;
  good(frame: Int16Array, out: Int16Array): void;
  conceal(out: Int16Array): void;
  concealBefore?(next: Int16Array, out: Int16Array, framesUntilNext?: number): void;
}

/**
 * Plays `x` through `c` with frame f lost when lost[f]. `lookAhead` frames:
 * 0 conceals from the past alone; 1 interpolates a lost frame whose successor
 * arrived; more announces a burst whose next frame is at most that many frames
 * ahead (as a jitter buffer that deep would hold it), with its count.
 */
function conceal(c: FrameConcealer, x: Int16Array, lost: readonly boolean[], lookAhead: number): Int16Array {
  const n = c.samplesPerFrame;
  const frames = Math.floor(x.length / n);
  const y = new Int16Array(frames * n + c.delaySamples);
  const out = new Int16Array(n);
  for (let f = 0; f < frames; f++) {
    let k = 0;
    while (f + k < frames && lost[f + k]) k++;
    const next = k > 0 && f + k < frames && k <= lookAhead ? x.subarray((f + k) * n, (f + k + 1) * n) : null;
    if (k === 0) c.good(x.subarray(f * n, (f + 1) * n), out);
    else if (next !== null && c.concealBefore !== undefined) c.concealBefore(next, out, k);
    else c.conceal(out);
    y.set(out, f * n);
  }
  // Drop the concealer's delay so the output lines up with the input.
  return y.subarray(c.delaySamples, c.delaySamples + frames * n);
}

type Row = Record<string, string | number>;

function throughputRows(): { plc: Row[]; stretch: Row[] } {
  const rows: Row[] = [];
  const stretchRows: Row[] = [];
  for (const [name, rateHz] of [['synth-m-8k', 8000], ['synth-f-16k', 16000], ['synth-m-48k', 48000]] as const) {
    const x = speech(name).samples;
    const n = (rateHz / 1000) * FRAME_MS;
    const next = x.subarray(n * 30, n * 31);
    const out = new Int16Array(n);
    const xRealTime = (callsPerSecond: number): number => (callsPerSecond * FRAME_MS) / 1000;
    // Each measured call: one good frame then one lost frame, so every loss starts an erasure (the costly path).
    const plcRate = (c: FrameConcealer, before: boolean): number => {
      let f = 0;
      const r = rate(() => {
        const at = (f++ % 100) * n;
        c.good(x.subarray(at, at + n), out);
        if (before && c.concealBefore !== undefined) c.concealBefore(next, out);
        else c.conceal(out);
      });
      return xRealTime(r * 2);
    };
    // One good frame then a 3-frame burst planned whole: forward, spliced, backward.
    const burstRate = (c: FrameConcealer): number => {
      let f = 0;
      const r = rate(() => {
        const at = (f++ % 100) * n;
        c.good(x.subarray(at, at + n), out);
        for (let k = 3; k >= 1; k--) c.concealBefore!(next, out, k);
      });
      return xRealTime(r * 4);
    };
    const wasm = new Concealer(rateHz);
    const wasmApp = new Concealer(rateHz, { mode: 'appendix-i' });
    rows.push({
      rate: `${rateHz / 1000} kHz`,
      'conceal WASM': plcRate(wasm, false),
      'conceal TS': plcRate(new ReferenceConcealer(rateHz), false),
      'concealBefore WASM': plcRate(wasm, true),
      'concealBefore TS': plcRate(new ReferenceConcealer(rateHz), true),
      '3-frame burst WASM': burstRate(wasm),
      '3-frame burst TS': burstRate(new ReferenceConcealer(rateHz)),
      'appendix-i WASM': plcRate(wasmApp, false),
      'appendix-i plain TS': plcRate(new G711AppendixI(rateHz), false),
    });
    wasm.destroy();
    wasmApp.destroy();

    const block = (rateHz / 1000) * 30;
    const ts = new TimeStretcher(rateHz);
    const ref = new ReferenceTimeStretcher(rateHz);
    const sout = new Int16Array(block + ts.maxPeriodSamples);
    const stretchRate = (s: { accelerate: typeof ts.accelerate; expand: typeof ts.expand }, dir: -1 | 1): number => {
      let f = 0;
      return xRealTime(
        rate(() => {
          const at = (f++ % 100) * n;
          const input = x.subarray(at, at + block);
          if (dir < 0) s.accelerate(input, block, sout);
          else s.expand(input, block, sout);
        }),
      );
    };
    stretchRows.push({
      rate: `${rateHz / 1000} kHz`,
      'accelerate WASM': stretchRate(ts, -1),
      'accelerate TS': stretchRate(ref, -1),
      'expand WASM': stretchRate(ts, 1),
      'expand TS': stretchRate(ref, 1),
    });
    ts.destroy();
  }
  return { plc: rows, stretch: stretchRows };
}

async function qualityRows(): Promise<Array<Record<string, string | number>>> {
  const path = fileURLToPath(new URL('../test/fixtures/plcmos/clean.wav', import.meta.url));
  const clean = toMono(readWav(new Uint8Array(readFileSync(path))));
  const frames = Math.floor(clean.length / 320);
  const pm = await PlcMos.load();
  const rows: Array<Record<string, string | number>> = [];
  try {
    const methods: Array<[string, (lost: boolean[]) => Int16Array]> = [
      ['zero-fill', (lost) => zeroFill(clean, lost)],
      ['repeat×0.9', (lost) => repeatLast(clean, lost, 0.9)],
      ['G.711 Appendix I (plain TS)', (lost) => conceal(new G711AppendixI(16000), clean, lost, 0)],
      ['enhanced, conceal() only', (lost) => withConcealer((c) => conceal(c, clean, lost, 0))],
      ['enhanced + concealBefore(next), last frame of a burst', (lost) => withConcealer((c) => conceal(c, clean, lost, 1))],
      ['enhanced, bursts planned whole, next ≤ 60 ms ahead', (lost) => withConcealer((c) => conceal(c, clean, lost, 3))],
      ['enhanced, bursts planned whole, any length', (lost) => withConcealer((c) => conceal(c, clean, lost, Infinity))],
    ];
    const models: Array<[string, (seed: number) => boolean[]]> = [
      ['10% uniform', (seed) => uniformLoss(frames, 0.1, seed)],
      ['10% Gilbert-Elliott', (seed) => burstyLoss(frames, seed)],
    ];
    const lossRow: Record<string, string | number> = { method: 'frames lost (mean of seeds)' };
    for (const [model, lossOf] of models) {
      lossRow[model] = `${(100 * SEEDS.reduce((s, seed) => s + lostFraction(lossOf(seed)), 0) / SEEDS.length).toFixed(1)}%`;
    }
    rows.push({ method: 'no loss', '10% uniform': await pm.score(clean), '10% Gilbert-Elliott': await pm.score(clean) });
    for (const [method, run] of methods) {
      const row: Record<string, string | number> = { method };
      for (const [model, lossOf] of models) {
        let sum = 0;
        for (const seed of SEEDS) sum += await pm.score(run(lossOf(seed)));
        row[model] = sum / SEEDS.length;
      }
      rows.push(row);
    }
    rows.push(lossRow);
  } finally {
    await pm.close();
  }
  return rows;
}

function withConcealer<T>(fn: (c: Concealer) => T): T {
  const c = new Concealer(16000);
  try {
    return fn(c);
  } finally {
    c.destroy();
  }
}

export default async function plcBench(): Promise<void> {
  const { plc, stretch } = throughputRows();
  printTable('PLC throughput (× real time, one stream, one core; half the frames lost, each loss a new erasure)', plc);
  printTable('Time stretch throughput (× real time, 30 ms blocks of speech)', stretch);
  printTable(
    `PLC quality: PLCMOS v2 of clean.wav, 20 ms packets, mean of ${SEEDS.length} seeded traces (goals 4.0 / 3.8)`,
    await qualityRows(),
  );
}
