import { asset, escapeHtml, inline, jsonForScript } from '../load/htmlReport.ts';
import type { SoakReport } from './runSoak.ts';
import { soakMissed } from './soakTables.ts';

/**
 * The soak run as one self-contained page (uPlot inlined, nothing fetched):
 * memory, descriptors, handles, timers, RTP ports and live calls over time.
 */
const PAGE_SCRIPT = `
const d = JSON.parse(document.getElementById('data').textContent);
const width = Math.min(900, document.body.clientWidth - 20);
const t = d.samples.map((s) => s.t);
function chart(title, series, ys) {
  const el = document.createElement('div');
  document.getElementById('charts').appendChild(el);
  new uPlot({ title, width, height: 240, scales: { x: { time: false } }, series: [{ label: 's' }, ...series] }, [t, ...ys], el);
}
const MB = 1048576;
chart('Memory, MB', [{ label: 'RSS', stroke: '#8c564b' }, { label: 'main heap', stroke: '#1f77b4' }, { label: 'worker heaps', stroke: '#2ca02c' }],
  [d.samples.map((s) => s.rssBytes / MB), d.samples.map((s) => s.heapUsedBytes / MB), d.samples.map((s) => s.workerHeapMb)]);
chart('Descriptors, handles, timers, RTP port pairs', [{ label: 'fds', stroke: '#d62728' }, { label: 'handles', stroke: '#9467bd' }, { label: 'timers', stroke: '#ff7f0e' }, { label: 'RTP pairs', stroke: '#17becf' }],
  [d.samples.map((s) => s.fds), d.samples.map((s) => s.handles), d.samples.map((s) => s.timers), d.samples.map((s) => s.rtpPortsInUse)]);
chart('Live calls', [{ label: 'calls', stroke: '#1f77b4' }], [d.samples.map((s) => s.calls)]);
`;

export function soakHtml(r: SoakReport): string {
  const o = r.options;
  const title = `Soak: ${o.calls} calls, ${o.durationS} s`;
  const v = r.verdict;
  const rows: Array<[string, string]> = [
    ['calls placed / completed / failed', `${r.callsPlaced} / ${r.callsCompleted} / ${r.callsFailed}`],
    ['RSS trend after warm-up', v.rssMbPerHour === null ? 'n/a' : `${v.rssMbPerHour.toFixed(1)} MB/h`],
    ['RSS before → after', `${v.rssBeforeMb.toFixed(1)} → ${v.rssAfterMb.toFixed(1)} MB`],
    ['left behind (fds, handles, timers, RTP pairs)', `${v.leaked.fds}, ${v.leaked.handles}, ${v.leaked.timers}, ${v.leaked.rtpPortsInUse}`],
    ['worker restarts', String(r.restarts)],
    ['goals', soakMissed(r).join('; ') || 'met'],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${inline(asset('uPlot.min.css'), 'style')} body { font: 14px system-ui, sans-serif; margin: 1em; } td { border: 1px solid #ccc; padding: 2px 8px; } table { border-collapse: collapse; }</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<table>${rows.map(([k, x]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(x)}</td></tr>`).join('')}</table>
<div id="charts"></div>
<script type="application/json" id="data">${jsonForScript({ samples: r.samples })}</script>
<script>${inline(asset('uPlot.iife.min.js'), 'script')}</script>
<script>${inline(PAGE_SCRIPT, 'script')}</script>
</body></html>
`;
}
