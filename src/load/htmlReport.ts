import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SUMMARY_FIGURES, type LoadReport } from './report.ts';

/**
 * The report as one self-contained HTML page: uPlot's script and stylesheet
 * (read from the installed package) and the page's own are inlined, the data
 * rides in a `<script type="application/json">` with every `<` escaped (so
 * no value can close the element), and every text put into the markup is
 * HTML-escaped. Charts: the latency CDF, the MOS histogram, and the daemon's
 * CPU, RSS, tick times and calls over time with the driver's CPU beside them.
 * Nothing is fetched from anywhere.
 */

const require = createRequire(import.meta.url);
/** uPlot's script or stylesheet, to inline. */
export const asset = (name: string): string => readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON for a script element: `<` (and the line separators JavaScript once refused) as escapes. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function inline(text: string, element: 'script' | 'style'): string {
  if (text.toLowerCase().includes(`</${element}`)) throw new Error(`load report: inline ${element} contains </${element}`);
  return text;
}

const fmt = (v: number | null): string => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(2));

const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const width = Math.min(900, document.body.clientWidth - 20);
function chart(title, series, xs, ys, opts = {}) {
  const el = document.createElement('div');
  document.getElementById('charts').appendChild(el);
  new uPlot({ title, width, height: 260, scales: { x: { time: false } }, series: [{ label: opts.x || 'x' }, ...series], ...opts.extra }, [xs, ...ys], el);
}
if (data.latencyCdf.length > 0) {
  chart('Round-trip latency, CDF', [{ label: 'fraction of packets', stroke: '#1f77b4' }], data.latencyCdf.map((p) => p[0]), [data.latencyCdf.map((p) => p[1])], { x: 'ms' });
}
if (data.mosHistogram.length > 0) {
  chart('E-model MOS per call', [{ label: 'calls', stroke: '#2ca02c', fill: '#2ca02c55', paths: uPlot.paths.bars({ size: [0.9, 40] }) }], data.mosHistogram.map((b) => b.mos), [data.mosHistogram.map((b) => b.calls)], { x: 'MOS' });
}
const t = data.samples.map((s) => s.t);
if (t.length > 0) {
  const driverAt = (s) => { const d = data.driver.samples.find((x) => x.t >= s.t); return d ? d.cpuPct : null; };
  chart('CPU, % of a core', [{ label: 'daemon', stroke: '#d62728' }, { label: 'driver', stroke: '#9467bd' }], t, [data.samples.map((s) => s.cpuPct), data.samples.map(driverAt)], { x: 's' });
  chart('Daemon RSS, MB', [{ label: 'RSS', stroke: '#8c564b' }], t, [data.samples.map((s) => s.rssBytes / 1048576)], { x: 's' });
  chart('Daemon ticks, ms (per interval)', [{ label: 'p50', stroke: '#17becf' }, { label: 'p99', stroke: '#ff7f0e' }, { label: 'max', stroke: '#7f7f7f' }], t, [data.samples.map((s) => s.tick.p50Ms), data.samples.map((s) => s.tick.p99Ms), data.samples.map((s) => s.tick.maxMs)], { x: 's' });
  chart('Live calls', [{ label: 'calls', stroke: '#1f77b4' }], t, [data.samples.map((s) => s.calls)], { x: 's' });
}
`;

const PAGE_STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.muted { color: #777; }
`;

export function htmlReport(report: LoadReport): string {
  const o = report.options;
  const title = `Load: ${o.streams} ${o.transport} ${o.codec} calls, ${o.duration} s`;
  const summaryRows = SUMMARY_FIGURES.map((f) => `<tr><td>${escapeHtml(f)}</td><td>${escapeHtml(fmt(report.summary[f]))}</td></tr>`).join('');
  const callRows = report.calls
    .slice(0, 2000)
    .map(
      (c) =>
        `<tr><td>${c.index}</td><td>${escapeHtml(c.transport)}</td><td>${escapeHtml(c.outcome)}</td><td>${escapeHtml(fmt(c.latency?.p50Ms ?? null))}</td>` +
        `<td>${escapeHtml(fmt(c.latency?.p99Ms ?? null))}</td><td>${escapeHtml(fmt(c.returnedPct))}</td><td>${escapeHtml(fmt(c.jitterMs))}</td>` +
        `<td>${escapeHtml(fmt(c.mos))}</td><td>${escapeHtml(c.error ?? '')}</td></tr>`,
    )
    .join('');
  const notices = report.notices.map((n) => `<p class="muted">${escapeHtml(n)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${inline(asset('uPlot.min.css'), 'style')}${PAGE_STYLE}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">${escapeHtml(`${report.startedAt} · ${report.elapsedS.toFixed(1)} s · daemon ${report.daemon.target}${report.daemon.selfStarted ? ' (started by the run)' : ''} · speech: ${report.speech} · seed ${o.seed}`)}</p>
<p class="muted">${escapeHtml(`loss ${o.loss}%${o.burst !== undefined ? ` in bursts of ${o.burst}` : ''} · jitter ${o.jitter} ms · reorder ${o.reorder}% · duplicate ${o.duplicate}% · agent ${o.agent} · ramp ${o.ramp}/s · ${report.driver.threads} caller threads`)}</p>
${notices}
<h2>Summary</h2><table>${summaryRows}</table>
<h2>Charts</h2><div id="charts"></div>
<h2>Calls</h2>
<table><tr><th>#</th><th>transport</th><th>outcome</th><th>latency p50 ms</th><th>p99 ms</th><th>returned %</th><th>jitter ms</th><th>MOS</th><th>error</th></tr>${callRows}</table>
<script type="application/json" id="data">${jsonForScript({ latencyCdf: report.latencyCdf, mosHistogram: report.mosHistogram, samples: report.samples.map(({ t, calls, cpuPct, rssBytes, tick }) => ({ t, calls, cpuPct, rssBytes, tick })), driver: report.driver })}</script>
<script>${inline(asset('uPlot.iife.min.js'), 'script')}</script>
<script>${inline(PAGE_SCRIPT, 'script')}</script>
</body></html>
`;
}
