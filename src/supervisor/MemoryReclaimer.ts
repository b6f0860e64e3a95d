import type { Logger } from 'pino';
import { collectGarbage } from '../collectGarbage.ts';
import type { WorkerSlot } from './WorkerSlot.ts';

/** Actors gone since the last collection before one is worth it (16 calls of three actors). */
export const RECLAIM_AFTER_ACTORS = 48;
/** Quiet time after the last actor went: a hang-up burst is over before the collection pauses anyone. */
export const RECLAIM_DELAY_MS = 2_000;
/** Collections at most this often: each one pauses every thread for a few ms. */
export const RECLAIM_MIN_INTERVAL_MS = 5_000;

/**
 * Gives back the memory of ended calls. Their rings are SharedArrayBuffers
 * referenced from the supervisor's thread and from the worker that ran each
 * actor; V8 frees them only when both collect, and idle threads do not.
 * After a burst of ended actors (or the last call), once things are quiet,
 * this thread and every ready worker run a full collection.
 */
export class MemoryReclaimer {
  readonly #slots: () => readonly WorkerSlot[];
  readonly #log: Logger;
  #gone = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = -Infinity;
  #running = false;

  constructor(slots: () => readonly WorkerSlot[], log: Logger) {
    this.#slots = slots;
    this.#log = log;
  }

  /** An actor went; `idle`: no call is left (collect even after a few). */
  actorGone(idle: boolean): void {
    this.#gone++;
    if (this.#gone < RECLAIM_AFTER_ACTORS && !idle) return;
    clearTimeout(this.#timer);
    const wait = Math.max(RECLAIM_DELAY_MS, this.#lastAt + RECLAIM_MIN_INTERVAL_MS - performance.now());
    this.#timer = setTimeout(() => void this.reclaim(), wait);
    this.#timer.unref();
  }

  /** Collects on this thread and every ready worker now. */
  async reclaim(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const actors = this.#gone;
    this.#gone = 0;
    this.#lastAt = performance.now();
    try {
      collectGarbage();
      await Promise.all(
        this.#slots()
          .filter((s) => s.state === 'ready')
          .map((s) => s.request('collect').catch(() => undefined)),
      );
      this.#log.info({ actors, ms: Math.round(performance.now() - this.#lastAt) }, 'memory of ended actors reclaimed');
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
