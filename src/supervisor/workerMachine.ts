import { assign, fromCallback, setup, type EventObject } from 'xstate';

/**
 * One worker's lifecycle (an OTP-style one-for-one child spec):
 *
 *   alive.starting ─READY→ alive.ready
 *        │ CRASHED (error, exit, stale heartbeat, start timeout)
 *        ▼
 *     crashed ─(more than MAX_RESTARTS in RESTART_WINDOW_MS)→ failed
 *        │                                                       │
 *        ▼                                          (after a cool-down)
 *    restarting ─(after back-off)→ alive.starting ◄──────────────┘
 *
 * `failed` is not final: a daemon meant to run for months must not need a
 * person to restart it because a burst of load or a bad minute made one
 * worker crash six times. A failed worker is tried again after a cool-down
 * (COOL_DOWN_BASE_MS, doubling with each failure in a row up to
 * COOL_DOWN_MAX_MS) with a fresh restart window; while it cools down the
 * daemon is not ready and places nothing there.
 *
 * The thread itself is an invoked callback actor: entering `alive` spawns it,
 * leaving `alive` (crash, stop) runs its cleanup, which terminates it. Time
 * comes from the actor's clock (XState's, injectable) and `input.now`.
 */

/** Restart intensity: more than this many restarts … */
export const MAX_RESTARTS = 5;
/** … within this window escalates (the worker is failed, not restarted). */
export const RESTART_WINDOW_MS = 30_000;
/** First restart is immediate-ish; each further one doubles, up to the cap. */
export const BACKOFF_BASE_MS = 10;
export const BACKOFF_MAX_MS = 5_000;
/** A failed worker is tried again after this; each further failure in a row doubles it … */
export const COOL_DOWN_BASE_MS = 30_000;
/** … up to this. */
export const COOL_DOWN_MAX_MS = 300_000;
/** A failure this long after the previous one starts the doubling afresh. */
export const COOL_DOWN_RESET_MS = 600_000;
/** A worker that has not said ready by then is treated as crashed. */
export const START_TIMEOUT_MS = 10_000;

export type WorkerMachineEvent =
  | { type: 'READY' }
  | { type: 'CRASHED'; cause: string }
  | { type: 'STOP' };

export interface ThreadHandle {
  stop(): void;
}

export interface WorkerMachineInput {
  /** Starts the thread; reports READY/CRASHED through `send`. */
  spawn(send: (e: WorkerMachineEvent) => void): ThreadHandle;
  now(): number;
  /** Restart intensity (defaults MAX_RESTARTS in RESTART_WINDOW_MS). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** First cool-down of a failed worker (default COOL_DOWN_BASE_MS); doubles per failure in a row. */
  coolDownMs?: number;
}

export interface WorkerMachineContext {
  input: WorkerMachineInput;
  /** Times of recent restarts, for the intensity check. */
  restartTimes: number[];
  restarts: number;
  lastError: string | undefined;
  /** Failures in a row (each one a restart intensity exceeded), for the cool-down's doubling. */
  failures: number;
  lastFailedAt: number;
}

export function backoffMs(consecutive: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, consecutive - 1));
}

export function coolDownMs(failures: number, baseMs = COOL_DOWN_BASE_MS): number {
  return Math.min(Math.max(baseMs, COOL_DOWN_MAX_MS), baseMs * 2 ** Math.max(0, failures - 1));
}

/** Restarts within the intensity window before the current one. */
function recentRestarts(context: WorkerMachineContext): number {
  const now = context.input.now();
  const windowMs = context.input.restartWindowMs ?? RESTART_WINDOW_MS;
  return context.restartTimes.filter((t) => now - t < windowMs).length;
}

export const workerMachine = setup({
  types: {
    context: {} as WorkerMachineContext,
    events: {} as WorkerMachineEvent,
    input: {} as WorkerMachineInput,
  },
  actors: {
    thread: fromCallback<EventObject, WorkerMachineInput>(({ sendBack, input }) => {
      const handle = input.spawn((e) => sendBack(e));
      return () => handle.stop();
    }),
  },
  delays: {
    backoff: ({ context }) => backoffMs(recentRestarts(context)),
    startTimeout: START_TIMEOUT_MS,
    coolDown: ({ context }) => coolDownMs(context.failures, context.input.coolDownMs),
  },
  guards: {
    intensityExceeded: ({ context }) => recentRestarts(context) >= (context.input.maxRestarts ?? MAX_RESTARTS),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({ input, restartTimes: [], restarts: 0, lastError: undefined, failures: 0, lastFailedAt: -Infinity }),
  initial: 'alive',
  states: {
    alive: {
      invoke: { src: 'thread', input: ({ context }) => context.input },
      initial: 'starting',
      states: {
        starting: {
          on: { READY: 'ready' },
          after: { startTimeout: { target: '#worker.crashed', actions: assign({ lastError: 'did not start in time' }) } },
        },
        ready: {},
      },
      on: {
        CRASHED: { target: 'crashed', actions: assign({ lastError: ({ event }) => event.cause }) },
        STOP: 'stopped',
      },
    },
    crashed: {
      always: [{ guard: 'intensityExceeded', target: 'failed' }, { target: 'restarting' }],
    },
    restarting: {
      entry: assign({
        restarts: ({ context }) => context.restarts + 1,
        restartTimes: ({ context }) => {
          const now = context.input.now();
          const windowMs = context.input.restartWindowMs ?? RESTART_WINDOW_MS;
          return [...context.restartTimes.filter((t) => now - t < windowMs), now];
        },
      }),
      after: { backoff: 'alive' },
      on: { STOP: 'stopped' },
    },
    failed: {
      entry: assign(({ context }) => {
        const now = context.input.now();
        return { failures: now - context.lastFailedAt > COOL_DOWN_RESET_MS ? 1 : context.failures + 1, lastFailedAt: now };
      }),
      // A fresh restart window: the retry gets the whole intensity budget.
      after: { coolDown: { target: 'alive', actions: assign({ restartTimes: [] }) } },
      on: { STOP: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});
