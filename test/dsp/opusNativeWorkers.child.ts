/**
 * Run by opusNativeWorkers.test.ts in a child process (`node --import tsx`),
 * because what it checks is that the process survives: worker threads holding
 * native Opus encoders end in every way a worker can, and two such workers
 * encoding at once produce the packets one thread does. Prints one JSON line.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../src/supervisor/workerEntry.ts';
import { nativePackets, type NativeWorkerJob, type WorkerEnd } from './opusNativeJob.ts';

interface Outcome {
  end: WorkerEnd;
  code: number;
  error: string | null;
  reason: string;
  packets: Uint8Array[];
}

function run(job: NativeWorkerJob): Promise<Outcome> {
  const worker: Worker = startWorker(import.meta.url, './opusNative.worker', {
    workerData: job,
    ...(job.end === 'heap' ? { resourceLimits: { maxOldGenerationSizeMb: 48 } } : {}),
  });
  let reason = '';
  let packets: Uint8Array[] = [];
  let error: string | null = null;
  return new Promise((resolve) => {
    worker.on('message', (m: { reason: string; packets: Uint8Array[] }) => {
      reason = m.reason;
      packets = m.packets;
      if (job.end === 'terminate') void worker.terminate();
    });
    worker.on('error', (err: Error & { code?: string }) => (error = err.code ?? err.message));
    worker.on('exit', (code) => resolve({ end: job.end, code, error, reason, packets }));
  });
}

const differing = (a: Uint8Array[], b: Uint8Array[]): number =>
  a.reduce((bad, p, i) => (b[i] !== undefined && Buffer.compare(p, b[i]!) === 0 ? bad : bad + 1), 0);

const FRAMES = 1000;
const ends: WorkerEnd[] = ['return', 'throw', 'exit', 'terminate', 'heap'];
const exits = (await Promise.all(ends.map((end) => run({ end, offset: 0, frames: 2 })))).map(
  ({ end, code, error, reason, packets }) => ({ end, code, error, reason, packets: packets.length }),
);
// Two workers at once, on different audio, each against this thread's encoding of the same frames.
const jobs = [0, 1].map((k): NativeWorkerJob => ({ end: 'return', offset: k * 7919, frames: FRAMES }));
const together = await Promise.all(jobs.map(run));
const concurrent = together.map((o, k) => ({
  frames: o.packets.length,
  differing: differing(nativePackets(jobs[k]!.offset, FRAMES), o.packets),
}));
console.log(JSON.stringify({ exits, concurrent }));
