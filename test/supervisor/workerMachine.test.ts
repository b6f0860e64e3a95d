import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  backoffMs,
  COOL_DOWN_BASE_MS,
  COOL_DOWN_MAX_MS,
  coolDownMs,
  MAX_RESTARTS,
  RESTART_WINDOW_MS,
  START_TIMEOUT_MS,
  workerMachine,
  type WorkerMachineEvent,
} from '../../src/supervisor/workerMachine.ts';

/** Drives the machine on a simulated clock with a fake thread: pure lifecycle logic. */
function harness() {
  const clock = new SimulatedClock();
  let send: ((e: WorkerMachineEvent) => void) | undefined;
  let spawned = 0;
  let stopped = 0;
  const actor = createActor(workerMachine, {
    clock,
    input: {
      spawn: (s) => {
        spawned++;
        send = s;
        return { stop: () => stopped++ };
      },
      now: () => clock.now(),
    },
  });
  actor.start();
  const state = () => {
    const v = actor.getSnapshot().value;
    return typeof v === 'string' ? v : `alive.${String(v.alive)}`;
  };
  return {
    clock,
    actor,
    state,
    send: (e: WorkerMachineEvent) => send!(e),
    get spawned() {
      return spawned;
    },
    get stopped() {
      return stopped;
    },
    advance: (ms: number) => clock.increment(ms),
  };
}

describe('workerMachine', () => {
  it('starts, becomes ready, and restarts after a crash with exponential back-off', () => {
    const h = harness();
    expect(h.state()).toBe('alive.starting');
    expect(h.spawned).toBe(1);
    h.send({ type: 'READY' });
    expect(h.state()).toBe('alive.ready');

    h.send({ type: 'CRASHED', cause: 'threw: boom' });
    expect(h.state()).toBe('restarting');
    expect(h.stopped).toBe(1); // the dead thread is cleaned up
    expect(h.actor.getSnapshot().context.lastError).toBe('threw: boom');
    h.advance(backoffMs(1) - 1);
    expect(h.state()).toBe('restarting');
    h.advance(1);
    expect(h.state()).toBe('alive.starting');
    expect(h.spawned).toBe(2);
    h.send({ type: 'READY' });

    // A second crash soon after waits twice as long.
    h.send({ type: 'CRASHED', cause: 'exited with code 1' });
    h.advance(backoffMs(2) - 1);
    expect(h.state()).toBe('restarting');
    h.advance(1);
    expect(h.state()).toBe('alive.starting');
    expect(h.actor.getSnapshot().context.restarts).toBe(2);
  });

  it('back-off doubles from the base and stops at the cap', () => {
    expect(backoffMs(1)).toBe(BACKOFF_BASE_MS);
    expect(backoffMs(2)).toBe(2 * BACKOFF_BASE_MS);
    expect(backoffMs(3)).toBe(4 * BACKOFF_BASE_MS);
    expect(backoffMs(30)).toBe(BACKOFF_MAX_MS);
  });

  it(`fails after more than ${MAX_RESTARTS} restarts within the window, and stays failed through its cool-down`, () => {
    const h = harness();
    const exceed = (): void => {
      for (let i = 0; i < MAX_RESTARTS; i++) {
        h.send({ type: 'READY' });
        h.send({ type: 'CRASHED', cause: `crash ${i}` });
        expect(h.state()).toBe('restarting');
        h.advance(BACKOFF_MAX_MS);
      }
      h.send({ type: 'READY' });
      h.send({ type: 'CRASHED', cause: 'the last straw' });
    };
    exceed();
    expect(h.state()).toBe('failed');
    const spawned = h.spawned;
    h.advance(COOL_DOWN_BASE_MS - 1);
    expect(h.state()).toBe('failed');
    expect(h.spawned).toBe(spawned);
    // The cool-down is over: tried again, with the whole restart budget.
    h.advance(1);
    expect(h.state()).toBe('alive.starting');
    expect(h.spawned).toBe(spawned + 1);
    // Failing again soon: twice the cool-down.
    exceed();
    expect(h.state()).toBe('failed');
    h.advance(COOL_DOWN_BASE_MS * 2 - 1);
    expect(h.state()).toBe('failed');
    h.advance(1);
    expect(h.state()).toBe('alive.starting');
  });

  it('cool-downs double up to their cap', () => {
    expect(coolDownMs(1)).toBe(COOL_DOWN_BASE_MS);
    expect(coolDownMs(2)).toBe(COOL_DOWN_BASE_MS * 2);
    expect(coolDownMs(30)).toBe(COOL_DOWN_MAX_MS);
  });

  it('forgets restarts older than the window', () => {
    const h = harness();
    for (let i = 0; i < MAX_RESTARTS; i++) {
      h.send({ type: 'READY' });
      h.send({ type: 'CRASHED', cause: 'old' });
      h.advance(BACKOFF_MAX_MS);
    }
    h.send({ type: 'READY' });
    h.advance(RESTART_WINDOW_MS);
    h.send({ type: 'CRASHED', cause: 'new' });
    expect(h.state()).toBe('restarting');
  });

  it('treats a worker that never says ready as crashed', () => {
    const h = harness();
    h.advance(START_TIMEOUT_MS);
    expect(h.state()).toBe('restarting');
    expect(h.actor.getSnapshot().context.lastError).toBe('did not start in time');
  });

  it('stops from any state and stops the thread', () => {
    const h = harness();
    h.send({ type: 'READY' });
    h.actor.send({ type: 'STOP' });
    expect(h.state()).toBe('stopped');
    expect(h.stopped).toBe(1);
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});
