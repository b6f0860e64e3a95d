import { HttpError } from './errors.ts';
import type { Route } from './router.ts';

/**
 * Starts a drain and answers at once (202): the drain itself takes up to
 * `drainDeadlineMs` while live calls finish, and /readyz reports it meanwhile.
 */
export const drainRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/drain',
    handler: ({ runtime, config, log }) => {
      if (runtime.state === 'stopped') throw new HttpError(409, 'conflict', 'the daemon is stopped');
      const deadlineMs = config.drainDeadlineMs;
      runtime.drain(deadlineMs).then(
        () => log.info('drain finished'),
        (err: unknown) => log.error({ err }, 'drain failed'),
      );
      return { status: 202, json: { daemon: runtime.state, deadlineMs, calls: runtime.listCalls().length } };
    },
  },
];
