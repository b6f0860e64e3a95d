import { createHash } from 'node:crypto';
import type { Route } from './router.ts';

/** How often the page asks /status; a person watching needs no more. */
export const DASHBOARD_POLL_MS = 1_000;

/**
 * A live page of /status, self-contained (no external assets). The script
 * fills tables with textContent only, so nothing from /status is ever parsed
 * as HTML; the CSP allows exactly this script (by hash) and fetches to /status.
 * Where the read routes are guarded the page asks with Basic (server.ts): the
 * browser prompts once (any user name, the token as the password) and sends
 * the same credentials with the page's requests to /status.
 */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
function table(el, cols, rows) {
  const t = document.createElement('table');
  const head = t.insertRow();
  for (const c of cols) { const th = document.createElement('th'); th.textContent = c[0]; head.appendChild(th); }
  for (const r of rows) { const tr = t.insertRow(); for (const c of cols) tr.insertCell().textContent = String(c[1](r)); }
  if (rows.length === 0) { const td = t.insertRow().insertCell(); td.colSpan = cols.length; td.textContent = 'none'; }
  el.replaceChildren(t);
}
async function poll() {
  try {
    // By origin: a page opened as http://user:token@host/ would make a relative URL carry the credentials, which fetch refuses.
    const res = await fetch(location.origin + '/status', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status + (res.status === 401 || res.status === 403 ? ': needs the status token' : ''));
    const s = await res.json();
    $('daemon').textContent = s.daemon + (s.ready ? ' · ready' : ' · not ready: ' + s.notReadyReasons.join('; '));
    $('daemon').className = s.ready ? 'ok' : 'bad';
    const p = s.process;
    $('process').textContent = 'pid ' + p.pid + ' · up ' + Math.round(p.uptimeS) + ' s · rss ' +
      (p.rssBytes / 1048576).toFixed(1) + ' MiB · heap ' + (p.heapUsedBytes / 1048576).toFixed(1) + ' MiB';
    table($('workers'), [['id', (w) => w.id], ['state', (w) => w.state], ['restarts', (w) => w.restarts],
      ['heartbeat ms', (w) => w.heartbeatAgeMs], ['actors', (w) => w.actors], ['tick µs', (w) => w.load.tickUs],
      ['max tick µs', (w) => w.load.maxTickUs], ['late ticks', (w) => w.load.lateTicks], ['last error', (w) => w.lastError || '']], s.workers);
    table($('actors'), [['id', (a) => a.id], ['kind', (a) => a.kind], ['worker', (a) => a.worker], ['state', (a) => a.state],
      ['restarts', (a) => a.restarts], ['stats', (a) => Object.entries(a.stats).map((e) => e[0] + '=' + e[1]).join(' ')]], s.actors);
    table($('calls'), [['id', (c) => c.id], ['transport', (c) => c.transport], ['state', (c) => c.state],
      ['since', (c) => c.createdAt], ['actors', (c) => c.actors.join(' ')]], s.calls);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    $('daemon').textContent = 'no answer from /status (' + e.message + ')';
    $('daemon').className = 'bad';
  }
}
poll();
setInterval(poll, ${DASHBOARD_POLL_MS});
`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin-top: 1.5em; }
table { border-collapse: collapse; } th, td { padding: 0.2em 0.8em; text-align: left; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; } .ok { color: #176b2c; } .bad { color: #a11; } #updated { color: #888; }
</style></head>
<body>
<h1>Switchboard <span id="daemon">…</span></h1>
<div id="process"></div>
<h2>Workers</h2><div id="workers"></div>
<h2>Actors</h2><div id="actors"></div>
<h2>Calls</h2><div id="calls"></div>
<p id="updated"></p>
<script>${SCRIPT}</script>
</body></html>
`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

export const dashboardRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/dashboard',
    handler: () => ({
      status: 200,
      text: PAGE,
      contentType: 'text/html; charset=utf-8',
      headers: {
        'Content-Security-Policy': `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'`,
      },
    }),
  },
];
