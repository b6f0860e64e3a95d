import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { showInput } from './FuzzTarget.ts';
import { type FuzzJob, type FuzzWorkerMessage, PROGRESS_BATCH, PROGRESS_INPUTS, batchSeed } from './fuzzProtocol.ts';
import { FUZZ_TARGETS } from './registry.ts';

/**
 * Runs one fuzz target for `npm run fuzz`: batches of inputs from the
 * target's arbitrary, each batch regenerated from its own seed, every input
 * through `check`. Findings are posted as they happen (the first few of each
 * kind); the run ends at the input count or the deadline.
 */
const job = workerData as FuzzJob;
const target = FUZZ_TARGETS.find((t) => t.name === job.target)!;
const progress = new Int32Array(job.progress);
const post = (m: FuzzWorkerMessage): void => parentPort!.postMessage(m);
/** Findings posted per kind: the rest are counted in the summary only by the absence of a clean run. */
const MAX_REPORTED = 5;
const reported = { violation: 0, threw: 0, slow: 0 };
const report = (kind: keyof typeof reported, detail: string, input: unknown, batch: number, index: number): void => {
  if (reported[kind]++ < MAX_REPORTED) post({ type: 'finding', kind, detail, input: showInput(input), batch, index });
};

const mb = (bytes: number): number => bytes / 2 ** 20;
const start = performance.now();
let done = 0;
let heapPeak = 0;
let heapAfterWarmup = -1;
for (let batch = 0; done < job.inputs && performance.now() - start < job.deadlineMs; batch++) {
  Atomics.store(progress, PROGRESS_BATCH, batch);
  const n = Math.min(job.batchSize, job.inputs - done);
  const inputs = fc.sample(target.inputs, { seed: batchSeed(job.seed, batch), numRuns: n });
  for (let i = 0; i < inputs.length; i++) {
    const t0 = performance.now();
    try {
      const problem = target.check(inputs[i]);
      if (problem !== undefined) report('violation', problem, inputs[i], batch, i);
    } catch (err) {
      report('threw', err instanceof Error ? `${err.name}: ${err.message}` : String(err), inputs[i], batch, i);
    }
    const ms = performance.now() - t0;
    if (ms > job.slowMs) report('slow', `${ms.toFixed(0)} ms`, inputs[i], batch, i);
    Atomics.add(progress, PROGRESS_INPUTS, 1);
  }
  done += inputs.length;
  if (batch % 64 === 0) {
    const used = mb(getHeapStatistics().used_heap_size);
    heapPeak = Math.max(heapPeak, used);
    // After the first 64 batches the JIT and the targets' caches have settled: later growth would be a leak.
    if (batch === 64) heapAfterWarmup = used;
  }
}
const heapUsed = mb(getHeapStatistics().used_heap_size);
post({
  type: 'done',
  inputs: done,
  elapsedMs: performance.now() - start,
  heapUsedMb: heapUsed,
  heapPeakMb: Math.max(heapPeak, heapUsed),
  heapAfterWarmupMb: heapAfterWarmup,
});
