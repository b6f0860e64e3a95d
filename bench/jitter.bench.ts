/**
 * The jitter buffer and PLC evaluation (`npm run bench -- jitter`): real
 * speech (clean.wav, 16 kHz, looped to TRACE_PACKETS 20 ms packets) goes
 * sender → seeded network trace (bench/lib/network.ts) → JitterBuffer in
 * simulated time (one pull every 20 ms) → output, for every network model,
 * as L16 and as Opus. Per model: late loss (packets that arrived after their
 * playout, of those that arrived), mean and p95 playout delay (each played
 * packet's playout time − its media time − the trace's least one-way delay,
 * the oracle's yardstick), the ratio of the mean to the oracle (the smallest
 * fixed delay with ≤ 1% late loss, bench/lib/oracle.ts), the concealed share
 * of the output, and PLCMOS v2 of the output.
 *
 * Baselines in the same run: a fixed 60 ms buffer (this buffer with
 * min = max = start = 60 ms, all models); and, on the loss patterns of the
 * 10% uniform and 10% bursty traces, zero-fill, repeat×0.9 and plain ITU-T
 * G.711 Appendix I applied frame by frame.
 *
 * The quality goals are judged apart, like for like with bench/plc.bench.ts:
 * clean.wav as it is (10 s, not looped: the loop's seams and a single 30 s
 * trace move PLCMOS by ±0.3), the same seeded loss patterns, mean of
 * QUALITY_SEEDS, no jitter; the concealer alone (every burst planned with
 * the packet after it, when that is at most 60 ms ahead) beside the jitter
 * buffer.
 *
 * A last table runs the same comparison on the rest of the speech set
 * (bench/lib/speech.ts: two synthetic voices and a real one recorded at
 * 48 kHz), fewer seeds.
 *
 * The concealed share counts every concealed frame, the frames that waited
 * for a late packet (which then played) included; "lost + late" is what it
 * would be if only packets that never played were concealed.
 *
 * First, the memory one stream's buffer holds, for PCMU and Opus at their
 * default rates (bench/lib/jitterMemory.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../src/wire/wav.ts';
import { createJitterBuffer } from '../src/actors/jitter/JitterActor.ts';
import { FrameKind } from '../src/actors/jitter/JitterBuffer.ts';
import type { JitterCodec } from '../src/actors/jitter/PacketDecoder.ts';
import { OpusEncoder } from '../src/dsp/opus.ts';
import { Concealer } from '../src/dsp/plc.ts';
import { G711AppendixI } from '../src/dsp/reference/g711AppendixI.ts';
import { BASE_DELAY_MS, NETWORK_MODELS, arrivalOrder, lossPattern, type PacketTrace } from './lib/network.ts';
import { baseDelayMs, oracleDelay } from './lib/oracle.ts';
import { repeatLast, zeroFill } from './lib/baselines.ts';
import { PlcMos } from './lib/plcmos.ts';
import { loadEvalSpeech } from './lib/speech.ts';
import { jitterMemoryPerStream } from './lib/jitterMemory.ts';
import { printTable } from './table.ts';

const RATE_HZ = 16000;
const SPF = 320;
/** 30 s: long enough for the spike model (one spike every ~10 s) and for the delay estimate to settle. */
const TRACE_PACKETS = 1500;
const SEED = 1;
/** Pulls happen at 20·k + PULL_PHASE_MS, not in step with the sender's clock. */
const PULL_PHASE_MS = 7;
const QUALITY_SEEDS = [1, 2, 3, 4, 5];
const SPEECH_SET_SEEDS = [1, 2, 3];
/** The concealer-alone row plans bursts whose next packet is this many frames ahead at most (60 ms of buffer). */
const LOOK_AHEAD_FRAMES = 3;

export interface Limits {
  minDelayMs: number;
  maxDelayMs: number;
  startDelayMs: number;
}
export const ADAPTIVE: Limits = { minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 };
export const FIXED_60: Limits = { minDelayMs: 60, maxDelayMs: 60, startDelayMs: 60 };

export interface SimResult {
  output: Int16Array;
  lateRate: number;
  meanDelayMs: number;
  p95DelayMs: number;
  concealRate: number;
  /** Frames of each FrameKind over the stream's span. */
  kindCounts: number[];
}

export function loadClean(): Int16Array {
  const path = fileURLToPath(new URL('../test/fixtures/plcmos/clean.wav', import.meta.url));
  const wav = readWav(new Uint8Array(readFileSync(path)));
  if (wav.rateHz !== RATE_HZ || wav.channels !== 1) throw new Error(`clean.wav: expected 16 kHz mono [rate:${wav.rateHz}, channels:${wav.channels}]`);
  return wav.samples;
}

export function loadSpeech(): Int16Array {
  const src = loadClean();
  const out = new Int16Array(TRACE_PACKETS * SPF);
  for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
  return out;
}

export function l16Payloads(speech: Int16Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < Math.floor(speech.length / SPF); p++) {
    const b = new Uint8Array(2 * SPF);
    for (let i = 0; i < SPF; i++) {
      const v = speech[p * SPF + i]!;
      b[2 * i] = (v >> 8) & 0xff;
      b[2 * i + 1] = v & 0xff;
    }
    out.push(b);
  }
  return out;
}

function opusPayloads(speech: Int16Array): Uint8Array[] {
  // In-band FEC on, tuned for 10% loss, as a sender that reads RTCP loss reports would be.
  const enc = new OpusEncoder({ rateHz: RATE_HZ, bitrateBps: 32000, fec: true, packetLossPct: 10 });
  const buf = new Uint8Array(1500);
  const out: Uint8Array[] = [];
  for (let p = 0; p < TRACE_PACKETS; p++) {
    const n = enc.encode(speech.subarray(p * SPF, (p + 1) * SPF), buf);
    out.push(buf.slice(0, Math.max(n, 1)));
  }
  enc.destroy();
  return out;
}

/** Runs one trace through a JitterBuffer in simulated time. */
export function simulate(trace: readonly PacketTrace[], payloads: readonly Uint8Array[], codec: JitterCodec, limits: Limits): SimResult {
  const jb = createJitterBuffer({ codec, rateHz: RATE_HZ, ...limits });
  const tsPerPacket = codec === 'opus' ? 960 : SPF;
  const arrivals = arrivalOrder(trace);
  const t0 = baseDelayMs(trace);
  const endMs = arrivals[arrivals.length - 1]!.arrivalMs! + 500;
  const frames: Int16Array[] = [];
  const kinds: number[] = [];
  const delays: number[] = [];
  const out = new Int16Array(SPF);
  let k = 0;
  let lastSeq = -1;
  for (let t = PULL_PHASE_MS; t < endMs; t += 20) {
    while (k < arrivals.length && arrivals[k]!.arrivalMs! <= t) {
      const a = arrivals[k++]!;
      const p = payloads[a.seq]!;
      jb.insert(a.seq, a.seq * tsPerPacket, a.arrivalMs!, p, p.length, a.seq === 0, 0x5eed);
    }
    const kind = jb.pull(out, t);
    frames.push(out.slice());
    kinds.push(kind);
    const seq = jb.lastPlayedSeq;
    if (seq !== lastSeq && seq >= 0) {
      lastSeq = seq;
      delays.push(jb.lastPlayoutMs - trace[seq]!.timestampMs - t0);
    }
  }
  // The stream's span: from the first to the last decoded frame.
  const played = (x: number) => x === FrameKind.NORMAL || x === FrameKind.ACCELERATED || x === FrameKind.EXPANDED;
  const first = kinds.findIndex(played);
  let last = kinds.length - 1;
  while (last > first && !played(kinds[last]!)) last--;
  const span = kinds.slice(first, last + 1);
  const output = new Int16Array(span.length * SPF);
  for (let f = first; f <= last; f++) output.set(frames[f]!, (f - first) * SPF);
  const sorted = [...delays].sort((a, b) => a - b);
  const st = jb.stats;
  jb.destroy();
  return {
    output,
    lateRate: st.packetsLate / arrivals.length,
    meanDelayMs: delays.reduce((a, b) => a + b, 0) / Math.max(1, delays.length),
    p95DelayMs: sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] ?? 0,
    concealRate: span.filter((x) => x === FrameKind.CONCEALED).length / Math.max(1, span.length),
    kindCounts: Object.values(FrameKind).map((k) => span.filter((x) => x === k).length),
  };
}

/** Plain G.711 Appendix I on a loss pattern, frame by frame (output delayed 3.75 ms, as the method is). */
function appendixI(signal: Int16Array, lost: readonly boolean[]): Int16Array {
  const plc = new G711AppendixI(RATE_HZ);
  const out = new Int16Array(signal.length);
  const o = new Int16Array(SPF);
  for (let f = 0; f * SPF < signal.length; f++) {
    if (lost[f]) plc.conceal(o);
    else plc.good(signal.subarray(f * SPF, (f + 1) * SPF), o);
    out.set(o.subarray(0, Math.min(SPF, signal.length - f * SPF)), f * SPF);
  }
  return out;
}

/** A loss pattern as a trace with no jitter: every packet that is not lost takes BASE_DELAY_MS. */
export function lossTrace(lost: readonly boolean[]): PacketTrace[] {
  return lost.map((l, seq) => ({ seq, timestampMs: 20 * seq, sendMs: 20 * seq, arrivalMs: l ? null : 20 * seq + BASE_DELAY_MS, lost: l }));
}

/** The concealer alone on a loss pattern, bursts planned when the packet after them is within LOOK_AHEAD_FRAMES (as plc.bench.ts). */
function concealerAlone(signal: Int16Array, lost: readonly boolean[]): Int16Array {
  const c = new Concealer(RATE_HZ);
  const frames = Math.floor(signal.length / SPF);
  const y = new Int16Array(frames * SPF + c.delaySamples);
  const out = new Int16Array(SPF);
  for (let f = 0; f < frames; f++) {
    let k = 0;
    while (f + k < frames && lost[f + k]) k++;
    if (k === 0) c.good(signal.subarray(f * SPF, (f + 1) * SPF), out);
    else if (f + k < frames && k <= LOOK_AHEAD_FRAMES) c.concealBefore(signal.subarray((f + k) * SPF, (f + k + 1) * SPF), out, k);
    else c.conceal(out);
    y.set(out, f * SPF);
  }
  c.destroy();
  return y.subarray(c.delaySamples, c.delaySamples + frames * SPF);
}

/** Mean PLCMOS over QUALITY_SEEDS of `run` on clean.wav with 10% uniform and 10% Gilbert-Elliott loss. */
async function qualityRow(mos: PlcMos, frames: number, run: (lost: boolean[]) => Int16Array): Promise<[number, number]> {
  const means: number[] = [];
  for (const model of ['loss-10', 'gilbert-elliott']) {
    let sum = 0;
    for (const seed of QUALITY_SEEDS) sum += await mos.score(run(lossPattern(NETWORK_MODELS[model]!(frames, seed))));
    means.push(sum / QUALITY_SEEDS.length);
  }
  return [means[0]!, means[1]!];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export default async function jitterBench(): Promise<void> {
  printTable(
    'Memory per jitter actor: one stream at the codec’s default rate (300 buffers, 200 packets through each, in a fresh process)',
    (['PCMU', 'opus'] as const).map((codec) => {
      const m = jitterMemoryPerStream(codec);
      const kb = (x: number) => x.toFixed(1);
      return { codec, 'payload bytes': m.payloadBytes, 'RSS KB': kb(m.rssKb), 'JS heap KB': kb(m.heapKb), 'off-heap KB (typed arrays, WebAssembly)': kb(m.offHeapKb) };
    }),
  );
  const speech = loadSpeech();
  const mos = await PlcMos.load();
  const payloads: Record<'L16' | 'opus', Uint8Array[]> = { L16: l16Payloads(speech), opus: opusPayloads(speech) };
  // JITTER_BENCH_MODELS=loss-10,gilbert-elliott runs a subset (while tuning).
  const only = process.env['JITTER_BENCH_MODELS']?.split(',');
  const traces = Object.entries(NETWORK_MODELS)
    .filter(([name]) => only === undefined || only.includes(name) || name === 'loss-10' || name === 'gilbert-elliott')
    .map(([name, model]) => ({ name, trace: model(TRACE_PACKETS, SEED) }));
  const goals: string[] = [];
  const scores = new Map<string, number>();

  for (const [label, codec, limits] of [
    ['L16 16 kHz, adaptive', 'L16', ADAPTIVE],
    ['Opus 16 kHz (own PLC + FEC), adaptive', 'opus', ADAPTIVE],
    ['L16 16 kHz, fixed 60 ms buffer (baseline)', 'L16', FIXED_60],
  ] as const) {
    const rows: Array<Record<string, string | number>> = [];
    for (const { name, trace } of traces) {
      const r = simulate(trace, payloads[codec], codec, limits);
      const oracle = oracleDelay(trace);
      const score = await mos.score(r.output);
      scores.set(`${label}/${name}`, score);
      const ratio = oracle.delayMs > 0 ? r.meanDelayMs / oracle.delayMs : NaN;
      rows.push({
        network: name,
        'lost in network': pct(trace.filter((p) => p.lost).length / trace.length),
        'late loss': pct(r.lateRate),
        'mean delay ms': r.meanDelayMs,
        'p95 delay ms': r.p95DelayMs,
        'oracle ms': oracle.delayMs,
        'mean/oracle': Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a (oracle 0)',
        'lost + late': pct(trace.filter((p) => p.lost).length / trace.length + r.lateRate),
        concealed: pct(r.concealRate),
        PLCMOS: score.toFixed(2),
      });
      if (limits === ADAPTIVE && codec === 'L16') {
        const verdict =
          oracle.delayMs < ADAPTIVE.minDelayMs
            ? `n/a (the oracle is below the ${ADAPTIVE.minDelayMs} ms minimum delay)`
            : ratio <= 1.2 && r.lateRate <= 0.01
              ? 'met'
              : 'NOT met';
        goals.push(`${name}: mean ${r.meanDelayMs.toFixed(1)} ms, oracle ${oracle.delayMs.toFixed(1)} ms, ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'}, late ${pct(r.lateRate)} → ${verdict}`);
      }
    }
    printTable(`Jitter buffer: ${label} (clean.wav looped to ${TRACE_PACKETS} packets, seed ${SEED}; delays above the least one-way delay)`, rows);
  }

  const baseRows: Array<Record<string, string | number>> = [];
  for (const name of ['loss-10', 'gilbert-elliott']) {
    const trace = traces.find((t) => t.name === name)!.trace;
    const lost = lossPattern(trace);
    baseRows.push({ network: name, concealment: 'zero-fill', PLCMOS: (await mos.score(zeroFill(speech, lost))).toFixed(2) });
    baseRows.push({ network: name, concealment: 'repeat×0.9', PLCMOS: (await mos.score(repeatLast(speech, lost, 0.9))).toFixed(2) });
    baseRows.push({ network: name, concealment: 'G.711 Appendix I', PLCMOS: (await mos.score(appendixI(speech, lost))).toFixed(2) });
    baseRows.push({ network: name, concealment: 'fixed 60 ms buffer', PLCMOS: scores.get(`L16 16 kHz, fixed 60 ms buffer (baseline)/${name}`)!.toFixed(2) });
    baseRows.push({ network: name, concealment: 'Opus PLC + FEC (adaptive)', PLCMOS: scores.get(`Opus 16 kHz (own PLC + FEC), adaptive/${name}`)!.toFixed(2) });
    baseRows.push({ network: name, concealment: 'JitterBuffer + Concealer (adaptive)', PLCMOS: scores.get(`L16 16 kHz, adaptive/${name}`)!.toFixed(2) });
  }
  printTable('Concealment baselines on the same loss patterns (PLCMOS v2, clean.wav looped, 30 s)', baseRows);

  const clean = loadClean();
  const cleanFrames = Math.floor(clean.length / SPF);
  const cleanPayloads = l16Payloads(clean);
  const viaBuffer = (limits: Limits) => (lost: boolean[]) => simulate(lossTrace(lost), cleanPayloads, 'L16', limits).output;
  const quality: Array<[string, (lost: boolean[]) => Int16Array]> = [
    ['zero-fill', (lost) => zeroFill(clean, lost)],
    ['repeat×0.9', (lost) => repeatLast(clean, lost, 0.9)],
    ['G.711 Appendix I', (lost) => appendixI(clean, lost)],
    [`Concealer alone, bursts planned (next ≤ ${20 * LOOK_AHEAD_FRAMES} ms ahead)`, (lost) => concealerAlone(clean, lost)],
    ['JitterBuffer + Concealer, fixed 60 ms', viaBuffer(FIXED_60)],
    ['JitterBuffer + Concealer, adaptive', viaBuffer(ADAPTIVE)],
  ];
  const qualityRows: Array<Record<string, string | number>> = [];
  let goal: [number, number] = [0, 0];
  for (const [method, run] of quality) {
    const [uni, ge] = await qualityRow(mos, cleanFrames, run);
    qualityRows.push({ method, '10% uniform': uni.toFixed(2), '10% Gilbert-Elliott': ge.toFixed(2) });
    if (method === 'JitterBuffer + Concealer, adaptive') goal = [uni, ge];
  }
  printTable(`PLCMOS v2, like for like: clean.wav (10 s), loss before the buffer, no jitter, mean of ${QUALITY_SEEDS.length} seeds`, qualityRows);

  // The rest of the speech set (bench/lib/speech.ts): the same comparison, fewer seeds.
  const setRows: Array<Record<string, string | number>> = [];
  for (const clip of loadEvalSpeech().filter((c) => c.name !== 'clean')) {
    const x = clip.samples16k;
    const frames = Math.floor(x.length / SPF);
    const clipPayloads = l16Payloads(x);
    const methods: Array<[string, (lost: boolean[]) => Int16Array]> = [
      ['G.711 Appendix I', (lost) => appendixI(x, lost)],
      ['JitterBuffer + Concealer, adaptive', (lost) => simulate(lossTrace(lost), clipPayloads, 'L16', ADAPTIVE).output],
    ];
    for (const [method, run] of methods) {
      const row: Record<string, string | number> = { speech: clip.name, method };
      for (const [label, model] of [['10% uniform', 'loss-10'], ['10% Gilbert-Elliott', 'gilbert-elliott']] as const) {
        let sum = 0;
        for (const seed of SPEECH_SET_SEEDS) sum += await mos.score(run(lossPattern(NETWORK_MODELS[model]!(frames, seed))));
        row[label] = (sum / SPEECH_SET_SEEDS.length).toFixed(2);
      }
      setRows.push(row);
    }
  }
  printTable(`PLCMOS v2 on the rest of the speech set (16 kHz), loss before the buffer, no jitter, mean of ${SPEECH_SET_SEEDS.length} seeds`, setRows);
  await mos.close();

  const [uni, bursty] = goal;
  console.log('\nGoals:');
  console.log(`- PLCMOS ≥ 4.0 at 10% uniform loss: ${uni.toFixed(2)} → ${uni >= 4 ? 'met' : 'NOT met'}`);
  console.log(`- PLCMOS ≥ 3.8 at 10% bursty loss: ${bursty.toFixed(2)} → ${bursty >= 3.8 ? 'met' : 'NOT met'}`);
  console.log('- mean delay ≤ 1.2× oracle at ≤ 1% late loss, per model:');
  for (const g of goals) console.log(`  - ${g}`);
}
