/**
 * Messages between `npm run fuzz` (test/fuzz/run.ts) and its worker
 * (test/fuzz/fuzz.worker.ts), which runs one target. Progress crosses in a
 * SharedArrayBuffer rather than messages, so the watchdog sees a worker that
 * is stuck inside one input: the count stops moving.
 */

/** Int32 slots of the progress buffer. */
export const PROGRESS_INPUTS = 0;
/** Which batch is running: with the run's seed, it regenerates the batch, so a hang is replayable. */
export const PROGRESS_BATCH = 1;
export const PROGRESS_SLOTS = 2;

export interface FuzzJob {
  target: string;
  inputs: number;
  deadlineMs: number;
  seed: number;
  /** An input that takes longer than this is a finding (a hang the watchdog would also catch, only later). */
  slowMs: number;
  batchSize: number;
  progress: SharedArrayBuffer;
}

export type FuzzWorkerMessage =
  | { type: 'finding'; kind: 'violation' | 'threw' | 'slow'; detail: string; input: string; batch: number; index: number }
  | { type: 'done'; inputs: number; elapsedMs: number; heapUsedMb: number; heapPeakMb: number; heapAfterWarmupMb: number };

/** Inputs in the batch generated with this seed: batch `b` of a run seeded `s` uses `s + b`. */
export const batchSeed = (seed: number, batch: number): number => (seed + batch) | 0;
