import { Counter, Histogram, type Registry } from 'prom-client';
import type { Route } from './router.ts';

/** Seconds; a control API answers in milliseconds, so the buckets are fine at the low end. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
}

/**
 * Request counters and latencies in the runtime's registry. The route label is
 * the route's pattern (`/v1/calls/:id`) or `unmatched`, and methods outside
 * the known few are `other`, so no client can grow the label sets.
 * Registering twice on one registry (two servers over one runtime) reuses the
 * metrics already there.
 */
export function createHttpMetrics(registry: Registry): HttpMetrics {
  const requests =
    (registry.getSingleMetric('switchboard_http_requests_total') as Counter<'method' | 'route' | 'status'> | undefined) ??
    new Counter({
      name: 'switchboard_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('switchboard_http_request_duration_seconds') as Histogram<'method' | 'route'> | undefined) ??
    new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: 'Time from request to the end of the response, by method and route pattern',
      labelNames: ['method', 'route'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  return {
    observe(method, route, status, seconds) {
      const m = KNOWN_METHODS.has(method) ? method : 'other';
      requests.inc({ method: m, route, status: String(status) });
      duration.observe({ method: m, route }, seconds);
    },
  };
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const metricsRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/metrics',
    handler: async ({ runtime }) => ({
      status: 200,
      text: await runtime.metrics.metrics(),
      contentType: runtime.metrics.contentType,
    }),
  },
];
