import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { JobKind, JobState } from './RecordingInfo.ts';
import type { PostCallResult, PostCallTask } from './postCallJobs.worker.ts';

/** A failed job runs once more (a transient error: a file briefly busy, a thread lost); then it is reported failed. */
export const JOB_ATTEMPTS = 2;
/** An idle job thread exits after this: a daemon with no recent call holds none. */
const IDLE_THREAD_MS = 30_000;

export interface PostCallJobsOptions {
  /** Job threads at most (config `recording.jobThreads`). */
  threads: number;
  /** Jobs waiting at most beyond those running; more are refused and reported failed (`recording.jobQueue`). */
  queue: number;
}

/**
 * The post-call job pool (piscina): transcoding and the quality report of a
 * finished recording, on threads of their own at the lowest CPU priority
 * (postCallJobs.worker.ts), bounded in threads and queue, so a burst of
 * ended calls waits its turn instead of taking cores from live ones.
 */
export class PostCallJobs {
  readonly #pool: Piscina<PostCallTask, PostCallResult>;
  #running = 0;

  constructor(opts: PostCallJobsOptions) {
    this.#pool = new Piscina({
      filename: jobEntry(),
      minThreads: 0,
      maxThreads: opts.threads,
      maxQueue: opts.queue,
      idleTimeout: IDLE_THREAD_MS,
    });
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.#pool.queueSize;
  }

  get running(): number {
    return this.#running;
  }

  /**
   * Runs a job, once more if it fails; `state` follows it (attempts, error,
   * seconds). Resolves with the result, or undefined once both attempts failed.
   */
  async run(task: PostCallTask, state: JobState, onChange: () => void): Promise<PostCallResult | undefined> {
    for (let attempt = 1; attempt <= JOB_ATTEMPTS; attempt++) {
      state.attempts = attempt;
      state.state = 'running';
      onChange();
      const t0 = performance.now();
      this.#running++;
      try {
        const result = await this.#pool.run(task);
        state.state = 'done';
        delete state.error;
        return result;
      } catch (err) {
        state.error = (err as Error).message.split('\n')[0]!.slice(0, 300);
        state.state = 'failed';
      } finally {
        this.#running--;
        state.seconds = Math.round(performance.now() - t0) / 1000;
        onChange();
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** A fresh job state. */
export function queuedJob(): JobState {
  return { state: 'queued', attempts: 0 };
}

/**
 * The job module piscina loads: the built `.js` beside this file, or from
 * source (tests, tsx) a bootstrap that registers tsx in the job thread first,
 * as src/supervisor/workerEntry.ts does for the actors' workers.
 */
function jobEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './postCallJobs.source.mjs' : './postCallJobs.worker.js', import.meta.url));
}

export type { JobKind };
