import type { Route } from './router.ts';

/** Liveness and readiness, for orchestrators and load balancers; open without a token. */
export const healthRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    handler: ({ runtime }) => {
      const daemon = runtime.state;
      return daemon === 'stopped' ? { status: 503, json: { ok: false, daemon } } : { status: 200, json: { ok: true, daemon } };
    },
  },
  {
    method: 'GET',
    path: '/readyz',
    handler: ({ runtime }) => {
      const { ready, reasons } = runtime.readiness();
      return { status: ready ? 200 : 503, json: { ready, reasons } };
    },
  },
];
