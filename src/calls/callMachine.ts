import { assign, fromPromise, setup } from 'xstate';

/**
 * One call's life (XState v5), driven by what happens to it, never polled:
 *
 * ```
 *   created ──SET_UP──► active ──END(reason)──► ending ──(teardown done)──► ended
 *      │                                          ▲
 *      └──────────FAILED(detail)──────────────────┼──────────────────────► ended
 *                                                 │
 *      END while created: remembered, ended once set up
 * ```
 *
 * `created`: the call holds its place under `limits.maxCalls` while its
 * transport makes its actors. `END` comes from the API (hang-up), the peer
 * (a leg's `peer.ended` event: RTCP BYE, silence; a Media Stream's stop), a
 * worker or actor that failed, or the drain. The first `END` wins; the
 * teardown (actors destroyed, the transport's ports or socket released) runs
 * once, whatever asks for it again.
 */
export type EndReason = 'hangup' | 'peer' | 'worker-failed' | 'actor-failed' | 'drain' | 'setup-failed';

export type CallEvent =
  | { type: 'SET_UP' }
  | { type: 'FAILED'; detail: string }
  | { type: 'END'; reason: EndReason; detail: string };

export interface CallMachineInput {
  /** Destroys the call's actors and releases what its transport holds. */
  teardown(): Promise<void>;
}

export interface CallContext {
  input: CallMachineInput;
  reason: EndReason | undefined;
  detail: string;
}

export const callMachine = setup({
  types: { context: {} as CallContext, events: {} as CallEvent, input: {} as CallMachineInput },
  actors: { teardown: fromPromise<void, CallMachineInput>(({ input }) => input.teardown()) },
  guards: { endRequested: ({ context }) => context.reason !== undefined },
}).createMachine({
  id: 'call',
  context: ({ input }) => ({ input, reason: undefined, detail: '' }),
  initial: 'created',
  states: {
    created: {
      on: {
        SET_UP: [{ guard: 'endRequested', target: 'ending' }, { target: 'active' }],
        FAILED: { target: 'ended', actions: assign({ reason: 'setup-failed', detail: ({ event }) => event.detail }) },
        // The peer left (or the API hung up) before the call was made: ended as soon as it is.
        END: { guard: ({ context }) => context.reason === undefined, actions: assign({ reason: ({ event }) => event.reason, detail: ({ event }) => event.detail }) },
      },
    },
    active: {
      on: { END: { target: 'ending', actions: assign({ reason: ({ event }) => event.reason, detail: ({ event }) => event.detail }) } },
    },
    ending: {
      invoke: { src: 'teardown', input: ({ context }) => context.input, onDone: 'ended', onError: 'ended' },
    },
    ended: { type: 'final' },
  },
});

export type CallState = 'created' | 'active' | 'ending' | 'ended';
