import { z } from 'zod';
import type { FaultKind } from '../supervisor/Runtime.ts';
import { readJsonBody } from './body.ts';
import type { Route } from './router.ts';
import { validateBody } from './validate.ts';

/** Every fault the runtime can inject; a Record so a new kind cannot be forgotten here. */
const FAULTS: Readonly<Record<FaultKind, string>> = {
  crash: 'an uncaught exception in the worker',
  hang: 'a busy loop in the worker: its heartbeat stops',
  exit: 'the worker exits',
  oom: 'the worker leaks memory while it works, until its heap limit',
  'oom-burst': 'the worker allocates 80 MB blocks at a time until its heap limit',
  terminate: 'the supervisor terminates the thread from outside',
};
const FAULT_KINDS = Object.keys(FAULTS) as [FaultKind, ...FaultKind[]];

const FaultRequestSchema = z.strictObject({ kind: z.enum(FAULT_KINDS) });

/**
 * Fault injection into the worker that hosts an actor (or the worker named
 * so), for chaos tests of supervision. Registered only with
 * `enableFaultInjection`; otherwise the path is unknown like any other.
 */
export const faultRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/faults/:actor',
    handler: async ({ req, runtime, config, params, log }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const { kind } = validateBody(FaultRequestSchema, body, { kind: `one of ${FAULT_KINDS.join(', ')}` });
      log.warn({ target: params.actor, kind }, 'fault injection requested');
      await runtime.injectFault(params.actor!, kind);
      return { status: 202, json: { target: params.actor, kind } };
    },
  },
];
