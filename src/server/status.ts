import type { Route } from './router.ts';

/**
 * The runtime's own report (actors, workers, calls with QoS, process figures); never secrets,
 * but callers' numbers, CallSids and DTMF digits: a read route, guarded beyond loopback (server.ts).
 */
export const statusRoutes: readonly Route[] = [
  { method: 'GET', path: '/status', handler: ({ runtime }) => ({ status: 200, json: runtime.status() }) },
];
