/**
 * `npm run fuzz [-- --target NAME[,NAME…]] [--inputs N] [--minutes M] [--seed S] [--hang-ms MS] [--heap-mb MB]`:
 * long fuzz runs over the registry (test/fuzz/registry.ts), one target at a
 * time in its own worker thread, so that
 *
 * - a crash (an uncaught error, running out of its heap) ends that worker, not the run;
 * - a hang is seen from outside: the worker's input count stands still for
 *   `--hang-ms`, it is terminated, and the batch that hung is named (the
 *   batch's seed regenerates it);
 * - memory is bounded: the worker's old generation is capped at `--heap-mb`,
 *   and its heap after warm-up and at the end is reported.
 *
 * Defaults: every target, 10 million inputs each, at most 60 minutes each.
 * Exit code 1 when anything was found.
 */
import { parseArgs } from 'node:util';
import { printTable } from '../../bench/table.ts';
import { startWorker } from '../../src/supervisor/workerEntry.ts';
import { type FuzzJob, type FuzzWorkerMessage, PROGRESS_BATCH, PROGRESS_INPUTS, PROGRESS_SLOTS, batchSeed } from './fuzzProtocol.ts';
import { FUZZ_TARGETS } from './registry.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    inputs: { type: 'string', default: '10000000' },
    minutes: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'hang-ms': { type: 'string', default: '5000' },
    'heap-mb': { type: 'string', default: '512' },
  },
});
const number = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`fuzz: --${name} must be a positive number, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const inputs = Math.floor(number('inputs', values.inputs));
const deadlineMs = number('minutes', values.minutes) * 60_000;
const seed = Math.floor(Number(values.seed)) | 0;
const hangMs = number('hang-ms', values['hang-ms']);
const heapMb = number('heap-mb', values['heap-mb']);
const names = (values.target ?? []).flatMap((t) => t.split(',')).filter((t) => t !== '');
const unknown = names.filter((n) => !FUZZ_TARGETS.some((t) => t.name === n));
if (unknown.length > 0) {
  console.error(`fuzz: unknown target(s) ${unknown.join(', ')}; known: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const targets = names.length > 0 ? FUZZ_TARGETS.filter((t) => names.includes(t.name)) : FUZZ_TARGETS;

interface Outcome {
  inputs: number;
  elapsedMs: number;
  findings: string[];
  heap: string;
}

function runTarget(name: string): Promise<Outcome> {
  const progress = new SharedArrayBuffer(PROGRESS_SLOTS * 4);
  const counters = new Int32Array(progress);
  const job: FuzzJob = { target: name, inputs, deadlineMs, seed, slowMs: Math.min(1000, hangMs / 2), batchSize: 1000, progress };
  const worker = startWorker(import.meta.url, './fuzz.worker', {
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
  });
  const findings: string[] = [];
  const started = performance.now();
  return new Promise((resolve) => {
    let last = -1;
    let lastMoved = performance.now();
    let summary: Extract<FuzzWorkerMessage, { type: 'done' }> | undefined;
    const watchdog = setInterval(() => {
      const now = performance.now();
      const count = Atomics.load(counters, PROGRESS_INPUTS);
      if (count !== last) {
        last = count;
        lastMoved = now;
      } else if (now - lastMoved > hangMs) {
        const batch = Atomics.load(counters, PROGRESS_BATCH);
        findings.push(`hang: no input finished in ${hangMs} ms [batch:${batch}, batch seed:${batchSeed(seed, batch)}, inputs before it:${count}]`);
        void worker.terminate();
      }
    }, 100);
    worker.on('message', (m: FuzzWorkerMessage) => {
      if (m.type === 'finding') findings.push(`${m.kind}: ${m.detail} [batch:${m.batch}, index:${m.index}, input:${m.input}]`);
      else summary = m;
    });
    worker.on('error', (err) => findings.push(`crash: ${err.name}: ${err.message}${'code' in err ? ` (${String(err.code)})` : ''}`));
    worker.on('exit', () => {
      clearInterval(watchdog);
      const heap =
        summary === undefined
          ? '—'
          : `${summary.heapAfterWarmupMb < 0 ? '—' : summary.heapAfterWarmupMb.toFixed(0)} / ${summary.heapUsedMb.toFixed(0)} / ${summary.heapPeakMb.toFixed(0)}`;
      resolve({ inputs: summary?.inputs ?? Atomics.load(counters, PROGRESS_INPUTS), elapsedMs: summary?.elapsedMs ?? performance.now() - started, findings, heap });
    });
  });
}

console.log(`fuzz: seed ${seed}, up to ${inputs.toLocaleString('en-US')} inputs or ${values.minutes} min per target, hang after ${hangMs} ms, heap cap ${heapMb} MB`);
const rows: Array<Record<string, string | number>> = [];
let found = 0;
for (const t of targets) {
  const o = await runTarget(t.name);
  found += o.findings.length;
  for (const f of o.findings) console.log(`  ${t.name}: ${f}`);
  rows.push({
    target: t.name,
    inputs: o.inputs.toLocaleString('en-US'),
    's': (o.elapsedMs / 1000).toFixed(1),
    'inputs/s': Math.round(o.inputs / (o.elapsedMs / 1000)).toLocaleString('en-US'),
    findings: o.findings.length,
    'heap MB (warm / end / peak)': o.heap,
  });
}
const rss = process.memoryUsage();
printTable(`fuzz (seed ${seed}); process RSS at the end ${(rss.rss / 2 ** 20).toFixed(0)} MB`, rows);
process.exit(found > 0 ? 1 : 0);
