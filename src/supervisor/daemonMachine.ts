import { setup } from 'xstate';

/**
 * The daemon's lifecycle: starting → running → draining → stopped.
 * Draining still serves live calls but refuses new ones; `stopped` is final.
 */
export type DaemonMachineEvent = { type: 'STARTED' } | { type: 'DRAIN' } | { type: 'STOP' };

export const daemonMachine = setup({
  types: { events: {} as DaemonMachineEvent },
}).createMachine({
  id: 'daemon',
  initial: 'starting',
  states: {
    starting: { on: { STARTED: 'running', DRAIN: 'draining', STOP: 'stopped' } },
    running: { on: { DRAIN: 'draining', STOP: 'stopped' } },
    draining: { on: { STOP: 'stopped' } },
    stopped: { type: 'final' },
  },
});
