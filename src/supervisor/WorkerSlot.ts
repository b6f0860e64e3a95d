import type { MessagePort, Worker } from 'node:worker_threads';
import type * as Comlink from 'comlink';
import { createActor, type Actor } from 'xstate';
import type { Logger } from 'pino';
import type { WorkerControl, WorkerEvent } from '../protocol.ts';
import { createHeartbeatBlock, HeartbeatReader } from '../frames/heartbeat.ts';
import { threadSchedule } from '../frames/osThread.ts';
import type { StandbyThreads } from './StandbyThreads.ts';
import { workerMachine, type WorkerMachineEvent } from './workerMachine.ts';
import type { WorkerState } from './Runtime.ts';

/** A control request not answered in this time is failed (the worker is busy or gone). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** A ready worker whose heartbeat and progress have not moved for this long is hung (a busy loop). */
export const HEARTBEAT_STALE_MS = 500;
/** A heartbeat still this long starts the starvation account: the thread's CPU time is read from here on. */
export const STARVATION_WATCH_MS = 100;
/** Starvation is logged at most this often per worker. */
const STARVED_LOG_MS = 10_000;
/** A worker whose ticks take this share of the frame (smoothed) is overloaded: it gets no new actors. */
export const OVERLOAD_LOAD = 0.85;
/** Heap in use beyond this share of the worker's cap: no new actors there … */
export const HEAP_SHED_FRACTION = 0.7;
/** … and beyond this one the worker is replaced before V8 runs out (its actors come back on a fresh heap). */
export const HEAP_REPLACE_FRACTION = 0.85;

export interface SlotOptions {
  id: string;
  kind: string;
  /** Where the slot's threads come from (loaded spares of its kind). */
  threads: StandbyThreads;
  log: Logger;
  now(): number;
  restartIntensity?: { maxRestarts: number; windowMs: number; coolDownMs?: number };
  /** The worker's V8 old-space cap, MB (resourceLimits): the heap checks are fractions of it. */
  heapCapMb?: number;
  /** Called after (re)start, before the worker counts as ready: re-create its actors. */
  onStarted(slot: WorkerSlot): Promise<void>;
  onEvent(slot: WorkerSlot, e: WorkerEvent): void;
  onStateChange(slot: WorkerSlot, state: WorkerState, previous: WorkerState): void;
}

/**
 * One worker position in a pool (`media-0`): the XState machine that keeps a
 * thread alive there, the thread's control channel and its heartbeat.
 */
export class WorkerSlot {
  readonly id: string;
  readonly kind: string;
  readonly #opts: SlotOptions;
  readonly #machine: Actor<typeof workerMachine>;
  #worker: Worker | undefined;
  #control: Comlink.Remote<WorkerControl> | undefined;
  #heartbeat: HeartbeatReader | undefined;
  /** The thread's CPU time when this heartbeat stall began (undefined: no stall). */
  #ranMark: number | undefined;
  #lastCheckMs = 0;
  #starvedMs = 0;
  #starvedLoggedAt = -Infinity;
  #generation = 0;
  /** Rejects pending requests when the current thread dies. */
  readonly #dead = new Set<(err: Error) => void>();
  #state: WorkerState = 'starting';
  #lastReadyAt = -1;
  readonly #readyWaiters: Array<() => void> = [];

  constructor(opts: SlotOptions) {
    this.id = opts.id;
    this.kind = opts.kind;
    this.#opts = opts;
    this.#machine = createActor(workerMachine, {
      input: {
        spawn: (send) => this.#spawn(send),
        now: opts.now,
        ...(opts.restartIntensity !== undefined
          ? {
              maxRestarts: opts.restartIntensity.maxRestarts,
              restartWindowMs: opts.restartIntensity.windowMs,
              ...(opts.restartIntensity.coolDownMs !== undefined ? { coolDownMs: opts.restartIntensity.coolDownMs } : {}),
            }
          : {}),
      },
    });
    this.#machine.subscribe((snap) => {
      const v = snap.value;
      const state: WorkerState = typeof v === 'string' ? (v as WorkerState) : (v.alive as WorkerState);
      if (state !== this.#state) {
        const prev = this.#state;
        this.#state = state;
        if (state === 'ready') {
          this.#lastReadyAt = opts.now();
          for (const w of this.#readyWaiters.splice(0)) w();
        }
        opts.onStateChange(this, state, prev);
      }
    });
  }

  start(): void {
    this.#machine.start();
  }

  get state(): WorkerState {
    return this.#state;
  }
  get stopped(): boolean {
    return this.#machine.getSnapshot().status === 'done';
  }
  get restarts(): number {
    return this.#machine.getSnapshot().context.restarts;
  }
  get lastError(): string | undefined {
    return this.#machine.getSnapshot().context.lastError;
  }
  get heartbeat(): HeartbeatReader | undefined {
    return this.#heartbeat;
  }
  get threadId(): number {
    return this.#worker?.threadId ?? -1;
  }
  /** Resolves when the worker is next (or already) ready. */
  whenReady(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /**
   * The watchdog's check, called every few tens of ms. `excuseMs`: how late
   * the watchdog itself ran (the process starved of CPU), not held against
   * the worker.
   */
  check(nowMs: number, excuseMs = 0): void {
    const hb = this.#heartbeat;
    if (this.#state !== 'ready' || hb === undefined) return;
    if (excuseMs > 0) hb.excuse(excuseMs);
    const age = hb.sample(nowMs);
    const starved = this.#starved(hb, age, nowMs);
    this.#lastCheckMs = nowMs;
    if (age > HEARTBEAT_STALE_MS && !starved) {
      this.#opts.log.error({ worker: this.id, heartbeatAgeMs: age }, 'worker heartbeat stale: terminating it');
      this.#machine.send({ type: 'CRASHED', cause: `heartbeat stale for ${Math.round(age)} ms (hung)` });
      return;
    }
    const cap = this.#opts.heapCapMb;
    if (cap !== undefined && hb.heapMb > cap * HEAP_REPLACE_FRACTION) {
      this.#opts.log.error({ worker: this.id, heapMb: hb.heapMb, capMb: cap }, 'worker heap near its cap: replacing it before it runs out');
      this.#machine.send({ type: 'CRASHED', cause: `out of memory: heap at ${hb.heapMb} of ${cap} MB` });
    }
  }

  /**
   * Whether a stalled heartbeat is the machine's doing: the worker's thread is
   * runnable but has had little CPU since the stall began (more runnable
   * threads than cores). Such a worker is kept — a restart on a starved
   * machine is itself slow and cuts every call on the thread — and the time is
   * counted. A hang is a thread that sleeps through its ticks, or one that has
   * run a whole stale period's worth of CPU without progress (a busy loop,
   * even on a contended machine). False where the kernel does not say.
   */
  #starved(hb: HeartbeatReader, age: number, nowMs: number): boolean {
    if (age < STARVATION_WATCH_MS) {
      this.#ranMark = undefined;
      return false;
    }
    const sched = threadSchedule(hb.osThreadId);
    if (sched === undefined) return false;
    if (this.#ranMark === undefined) this.#ranMark = sched.ranMs;
    if (age <= HEARTBEAT_STALE_MS) return false;
    const ran = sched.ranMs - this.#ranMark;
    const starved = sched.runnable && ran < HEARTBEAT_STALE_MS && ran < age / 2;
    if (!starved) return false;
    this.#starvedMs += Math.max(0, nowMs - this.#lastCheckMs);
    if (nowMs - this.#starvedLoggedAt >= STARVED_LOG_MS) {
      this.#starvedLoggedAt = nowMs;
      this.#opts.log.warn(
        { worker: this.id, heartbeatAgeMs: Math.round(age), ranMs: Math.round(ran), starvedMsTotal: Math.round(this.#starvedMs) },
        'worker starved of CPU (runnable, waiting for a core): not restarted',
      );
    }
    return true;
  }
  /** Time this worker's heartbeat stood still past the stale limit while its thread waited for a CPU, ms. */
  get starvedMs(): number {
    return this.#starvedMs;
  }

  /** Why this worker should get no new actors (its ticks fill the frame, its heap is nearly full), or undefined. */
  overloaded(): string | undefined {
    const hb = this.#heartbeat;
    if (this.#state !== 'ready' || hb === undefined) return undefined;
    if (hb.load > OVERLOAD_LOAD) return `worker ${this.id} is overloaded (ticks take ${Math.round(hb.load * 100)}% of the frame)`;
    const cap = this.#opts.heapCapMb;
    if (cap !== undefined && hb.heapMb > cap * HEAP_SHED_FRACTION) return `worker ${this.id} is short of memory (heap ${hb.heapMb} of ${cap} MB)`;
    return undefined;
  }

  heartbeatAgeMs(nowMs: number): number {
    const hb = this.#heartbeat;
    return hb === undefined ? -1 : hb.sample(nowMs);
  }

  /**
   * Calls a method of the worker's control API. Comlink correlates the reply
   * and rethrows the worker's error with its name, message and stack; what it
   * lacks is added here: a timeout, and failing the call at once when the
   * thread dies (comlink would wait for a reply that never comes).
   */
  async request<M extends keyof WorkerControl>(
    method: M,
    ...args: Parameters<WorkerControl[M]>
  ): Promise<Awaited<ReturnType<WorkerControl[M]>>> {
    const control = this.#control;
    if (control === undefined) throw new Error(`worker not running [worker:${this.id}, state:${this.#state}]`);
    // Comlink.Remote<T>'s mapped type loses the link between a method's name and its signature.
    const call = control[method] as unknown as (...a: Parameters<WorkerControl[M]>) => ReturnType<WorkerControl[M]>;
    let timer: NodeJS.Timeout | undefined;
    let onDead: ((err: Error) => void) | undefined;
    try {
      return await Promise.race([
        call(...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`request timed out [worker:${this.id}, method:${method}]`)), REQUEST_TIMEOUT_MS);
          onDead = reject;
          this.#dead.add(reject);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onDead !== undefined) this.#dead.delete(onDead);
    }
  }

  /** Terminates the current thread from outside (fault injection): the machine sees it exit. */
  async terminateThread(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Stops the slot for good (daemon stop); idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const w = this.#worker;
    if (w !== undefined && this.#state === 'ready') {
      await this.request('shutdown').catch(() => undefined);
    }
    this.#machine.send({ type: 'STOP' });
    if (w !== undefined) await w.terminate().catch(() => undefined);
  }

  #spawn(send: (e: WorkerMachineEvent) => void): { stop(): void } {
    const generation = ++this.#generation;
    let ended = false;
    let worker: Worker | undefined;
    let events: MessagePort | undefined;
    const current = (): boolean => generation === this.#generation && !this.stopped;
    /** Ends this thread's life once: fails its pending requests; tells the machine if it did not know. */
    const end = (cause: string, notify: boolean): void => {
      if (ended) return;
      ended = true;
      events?.close();
      const err = new Error(`worker died [worker:${this.id}]: ${cause}`);
      for (const reject of this.#dead) reject(err);
      this.#dead.clear();
      if (notify && current()) send({ type: 'CRASHED', cause });
    };
    const died = (cause: string): void => end(cause, true);

    this.#opts.threads
      .take()
      .then(async (thread) => {
        if (ended || !current()) {
          void thread.worker.terminate();
          return;
        }
        worker = thread.worker;
        events = thread.events;
        this.#worker = worker;
        this.#control = thread.control;
        worker.on('error', (err: Error & { code?: string }) => {
          const cause =
            err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory: ${err.message}` : `threw: ${err.message}`;
          if (!ended) this.#opts.log.error({ worker: this.id, err }, 'worker crashed');
          died(cause);
        });
        worker.on('exit', (code) => {
          if (!ended) this.#opts.log.error({ worker: this.id, code }, 'worker exited');
          died(`exited with code ${code}`);
        });
        events.on('message', (e: WorkerEvent) => {
          if (current() && !ended) this.#opts.onEvent(this, e);
        });
        const heartbeatBlock = createHeartbeatBlock();
        this.#heartbeat = new HeartbeatReader(heartbeatBlock);
        this.#ranMark = undefined;
        await this.request('start', { workerId: this.id, heartbeat: heartbeatBlock });
        this.#heartbeat.arm(this.#opts.now());
        await this.#opts.onStarted(this);
        if (current() && !ended) send({ type: 'READY' });
      })
      .catch((err: unknown) => died(`could not start: ${err instanceof Error ? err.message : String(err)}`));

    return {
      stop: () => {
        end('terminated by the supervisor', false);
        void worker?.terminate();
      },
    };
  }
}
