import type { Route } from './router.ts';

/** The runtime's own report (actors, workers, calls with QoS, process figures); never secrets. */
export const statusRoutes: readonly Route[] = [
  { method: 'GET', path: '/status', handler: ({ runtime }) => ({ status: 200, json: runtime.status() }) },
];
