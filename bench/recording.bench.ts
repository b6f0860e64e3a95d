/**
 * Recording and the post-call jobs (issue 14):
 *
 * 1. Transcoding speed: each post-call job (Ogg Opus, MP3, the quality
 *    report) on a two-channel recording of speech at each call rate, run on
 *    the piscina pool as the daemon runs it; × real time per core is the
 *    audio's seconds over the CPU seconds the process spent (nothing else
 *    runs in it then).
 * 2. Recording's cost to live calls: tick p99 of N RTP loopback calls
 *    without and with `record: true`, side by side in one run (the writer
 *    thread drains the taps and writes the WAVs meanwhile).
 * 3. Jobs never touch live calls: tick p99 of 100 calls alone, and while
 *    20 recordings are transcoded on the pool (the daemon's default of one
 *    job thread, at the lowest CPU priority), in alternating phases.
 *
 * The calls run on a real supervisor and workers in this process, driven
 * over UDP from its main thread (bench/lib/liveCalls.ts); tick percentiles
 * are the workers' tick-time histograms over the measured window
 * (interpolated within the heartbeat's buckets, so an upper bound).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { agentKind } from '../src/actors/agent/kind.ts';
import { jitterKind } from '../src/actors/jitter/kind.ts';
import { rtpKind } from '../src/actors/rtp/kind.ts';
import { resampleWhole } from '../src/dsp/resampler.ts';
import { rtpTransport } from '../src/legs/rtp/rtpTransport.ts';
import { PostCallJobs, queuedJob } from '../src/recording/PostCallJobs.ts';
import { Recorder } from '../src/recording/Recorder.ts';
import type { JobKind } from '../src/recording/RecordingInfo.ts';
import { Supervisor } from '../src/supervisor/Supervisor.ts';
import { readWav, toMono, writeWav } from '../src/wire/wav.ts';
import { startLiveCalls, tickFigures, type TickWindow } from './lib/liveCalls.ts';
import { printTable } from './table.ts';

const WARM_MS = 1000;
/** A measured run of calls, and how many of each kind are taken in turn. */
const RUN_MS = 3000;
const ROUNDS = 2;
/** The recordings the jobs work on beside live calls, and how long each phase (alone, beside) lasts. */
const BESIDE_S = 10;
const PHASE_MS = 2000;
const PORT_MIN = 28_000;
const TRANSCODE_S = 30;
const JOB_KINDS: readonly JobKind[] = ['opus', 'mp3', 'report'];
const SPEECH = fileURLToPath(new URL('../test/fixtures/data/speech/synth-f-16k.wav', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (v: number | null, digits = 2): string => (v === null ? '–' : v.toFixed(digits));

/** `seconds` of two-channel speech at `rateHz`: the caller left, the agent right (the same voice half a second on). */
function recordingWav(rateHz: number, seconds: number): Uint8Array {
  const src = readWav(new Uint8Array(readFileSync(SPEECH)));
  const voice = resampleWhole(toMono(src), src.rateHz, rateHz);
  const n = rateHz * seconds;
  const samples = new Int16Array(2 * n);
  for (let i = 0; i < n; i++) {
    samples[2 * i] = voice[i % voice.length]!;
    samples[2 * i + 1] = voice[(i + rateHz / 2) % voice.length]!;
  }
  return writeWav({ rateHz, channels: 2, samples });
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function transcoding(dir: string): Promise<void> {
  const jobs = new PostCallJobs({ threads: 1, queue: 10 });
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const rateHz of [8000, 16000, 48000]) {
      const wavPath = join(dir, `speech-${rateHz}.wav`);
      writeFileSync(wavPath, recordingWav(rateHz, TRANSCODE_S));
      for (const kind of JOB_KINDS) {
        // The best of two runs: the first also starts the thread and loads the encoders (and the PLCMOS model).
        let best = Infinity;
        let out = '';
        for (let run = 0; run < 2; run++) {
          const c0 = cpuMs();
          const result = await jobs.run({ kind, wavPath, ...(kind === 'report' ? {} : { outPath: join(dir, `out.${kind}`) }) }, queuedJob(), () => {});
          best = Math.min(best, cpuMs() - c0);
          if (result === undefined) throw new Error(`${kind} job failed at ${rateHz} Hz`);
          out = result.kind === 'report' ? (result.report.plcmos !== undefined ? 'with PLCMOS' : 'no PLCMOS') : `${((8 * result.bytes) / TRANSCODE_S / 1000).toFixed(0)} kbit/s`;
        }
        rows.push({ job: kind, 'call rate Hz': rateHz, 'CPU ms': best, '× real time per core': (TRANSCODE_S * 1000) / best, output: out });
      }
    }
  } finally {
    await jobs.close();
  }
  printTable(`Post-call jobs on a ${TRANSCODE_S} s two-channel recording (one pool thread; process CPU, best of 2)`, rows);
}

/** Calls on for a warm-up, then one measured window. */
async function measuredRun(sup: Supervisor, calls: number, record: boolean): Promise<TickWindow> {
  const live = await startLiveCalls(sup, calls, record);
  try {
    await sleep(WARM_MS);
    live.window();
    await sleep(RUN_MS);
    return live.window();
  } finally {
    await live.close();
  }
}

async function recordingCost(sup: Supervisor, recorder: Recorder): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  for (const calls of [50, 100]) {
    const runs = { no: [] as TickWindow[], yes: [] as TickWindow[] };
    const frames0 = recorder.counters.frames;
    const dropped0 = recorder.counters.droppedFrames;
    // Without and with in turn, so the machine's other load falls on both.
    for (let round = 0; round < ROUNDS; round++) {
      runs.no.push(await measuredRun(sup, calls, false));
      runs.yes.push(await measuredRun(sup, calls, true));
    }
    // The recordings' last figures come with their close.
    await sleep(300);
    for (const [recording, windows] of Object.entries(runs)) {
      const f = tickFigures(windows);
      rows.push({
        calls,
        recording,
        'tick p99 ms': fmt(f.p99Ms),
        'max tick ms': fmt(f.maxMs),
        'returned %': fmt(f.returnedPct, 1),
        'frames recorded': recording === 'yes' ? recorder.counters.frames - frames0 : 0,
        'recording frames dropped': recording === 'yes' ? recorder.counters.droppedFrames - dropped0 : 0,
      });
    }
  }
  printTable(`Live RTP loopback calls without and with recording (${availableParallelism()} cores; ${ROUNDS} runs of ${RUN_MS / 1000} s each, in turn)`, rows);
}

async function jobsBesideCalls(sup: Supervisor, dir: string): Promise<void> {
  const RECORDINGS = 20;
  const wavPath = join(dir, 'beside.wav');
  writeFileSync(wavPath, recordingWav(8000, BESIDE_S));
  const todo = Array.from({ length: RECORDINGS }, (_, r) => JOB_KINDS.map((kind) => ({ kind, wavPath, ...(kind === 'report' ? {} : { outPath: join(dir, `beside-${r}.${kind}`) }) }))).flat();
  const jobs = new PostCallJobs({ threads: 1, queue: todo.length });
  // The pool's thread started and its encoders loaded (from source, tsx compiles the job's modules first).
  await jobs.run({ kind: 'opus', wavPath, outPath: join(dir, 'warm.opus') }, queuedJob(), () => {});
  const live = await startLiveCalls(sup, 100, false);
  const alone: TickWindow[] = [];
  const beside: TickWindow[] = [];
  let audioS = 0;
  let busyMs = 0;
  try {
    await sleep(WARM_MS);
    // Phases in turn: calls alone, then calls while the pool works through the jobs (one after another, as queued).
    while (todo.length > 0) {
      live.window();
      await sleep(PHASE_MS);
      alone.push(live.window());
      const t0 = performance.now();
      while (todo.length > 0 && performance.now() - t0 < PHASE_MS) {
        const task = todo.shift()!;
        if ((await jobs.run(task, queuedJob(), () => {})) === undefined) throw new Error(`${task.kind} job failed`);
        if (task.kind !== 'report') audioS += BESIDE_S;
      }
      busyMs += performance.now() - t0;
      beside.push(live.window());
    }
  } finally {
    await live.close();
    await jobs.close();
  }
  const rows = [
    { condition: '100 calls alone', ...tickFigures(alone) },
    { condition: `100 calls + ${RECORDINGS} recordings transcoding`, ...tickFigures(beside) },
  ].map((r) => ({ condition: r.condition, 'tick p99 ms': fmt(r.p99Ms), 'max tick ms': fmt(r.maxMs), 'returned %': fmt(r.returnedPct, 1), ticks: r.ticks }));
  printTable(
    `Post-call jobs beside live calls: ${RECORDINGS} × ${BESIDE_S} s recordings × (Opus, MP3, report) on the default pool (1 thread, nice 19 and SCHED_IDLE), ` +
      `in ${alone.length} phases of ${PHASE_MS / 1000} s each way; transcoded ${(audioS / (busyMs / 1000)).toFixed(1)} × real time meanwhile`,
    rows,
  );
}

export default async function recordingBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recording-bench-'));
  const log = pino({ level: 'warn' });
  try {
    await transcoding(dir);
    // Recordings without post-call jobs: part 2 measures the writing alone.
    const recorder = new Recorder({ dir: join(dir, 'recordings'), retentionDays: 1, maxActive: 1000, jobs: [], jobThreads: 1, jobQueue: 10, log });
    const sup = new Supervisor({
      poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
      logLevel: 'warn',
      log,
      kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind },
      transports: [rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 2 * 300 })],
      recorder,
    });
    await sup.start();
    try {
      await recordingCost(sup, recorder);
      await jobsBesideCalls(sup, dir);
    } finally {
      await sup.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
