import type { DashboardEvents } from './events.ts';
import { HttpError } from '../errors.ts';
import { badQuery, checkQuery } from '../query.ts';
import type { Route } from '../router.ts';
import { DASHBOARD_CSP, DASHBOARD_PAGE } from './page.ts';

/** The page takes no query; the stream only `history` (seconds of chart history to send first). */
const PAGE_PARAMS: readonly string[] = [];
const EVENTS_PARAMS: readonly string[] = ['history'];

/** `history`: whole seconds, 0 up to what the daemon keeps. */
function historyParam(url: URL, max: number): number {
  const raw = url.searchParams.get('history');
  if (raw === null) return max;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) > max) {
    throw badQuery(`history: expected whole seconds from 0 to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return Number(raw);
}

/**
 * `GET /dashboard` (the page) and `GET /dashboard/events` (its Server-Sent
 * Events). Both are read routes, guarded as /status is (server.ts).
 */
export function dashboardRoutes(events: DashboardEvents): readonly Route[] {
  return [
    {
      method: 'GET',
      path: '/dashboard',
      handler: ({ url }) => {
        checkQuery(url, PAGE_PARAMS);
        return {
          status: 200,
          text: DASHBOARD_PAGE,
          contentType: 'text/html; charset=utf-8',
          headers: { 'Content-Security-Policy': DASHBOARD_CSP },
        };
      },
    },
    {
      method: 'GET',
      path: '/dashboard/events',
      handler: ({ req, url, res, runtime }) => {
        checkQuery(url, EVENTS_PARAMS);
        const history = historyParam(url, events.historySeconds);
        // HEAD gets the headers only: a stream nobody can read would hold a slot until it stalled.
        if (req.method === 'HEAD') return { status: 200, text: '', contentType: 'text/event-stream; charset=utf-8' };
        try {
          events.open(res, history);
        } catch (err) {
          if (err instanceof HttpError && err.status === 503) runtime.countBadInput('http', 'dashboard_stream_limit');
          throw err;
        }
        return { status: 200, taken: true };
      },
    },
  ];
}
