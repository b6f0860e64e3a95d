import { statusSummary } from './statusSummary.ts';
import { badQuery, checkQuery } from './query.ts';
import type { Route } from './router.ts';

/**
 * The runtime's own report (actors, workers, calls with QoS, process figures); never secrets,
 * but callers' numbers, CallSids and DTMF digits: a read route, guarded beyond loopback (server.ts).
 * `?calls=false` leaves out the actors and calls (statusSummary.ts): for samplers.
 */
export const statusRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/status',
    handler: ({ runtime, url }) => {
      checkQuery(url, ['calls']);
      const calls = url.searchParams.get('calls');
      if (calls !== null && calls !== 'true' && calls !== 'false') throw badQuery(`calls: expected true or false, got ${JSON.stringify(calls.slice(0, 40))}`);
      return { status: 200, json: calls === 'false' ? statusSummary(runtime) : runtime.status() };
    },
  },
];
