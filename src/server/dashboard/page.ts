import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DASHBOARD_SCRIPT } from './script.ts';
import { DASHBOARD_CSS } from './style.ts';

/**
 * The dashboard page, self-contained: uPlot (its minified script and
 * stylesheet, read from the installed package once, at start-up) and the
 * page's own script and style are inlined, and the Content-Security-Policy
 * allows exactly these by hash, plus the event stream on the page's own
 * origin. Nothing is fetched from anywhere else.
 */

const require = createRequire(import.meta.url);
const readAsset = (name: string): string => readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');

/** Inline text must not end its own element early. */
function inlinable(text: string, element: 'script' | 'style'): string {
  if (text.toLowerCase().includes(`</${element}`)) throw new Error(`dashboard: inline ${element} contains </${element}`);
  return text;
}

const UPLOT_SCRIPT = inlinable(readAsset('uPlot.iife.min.js'), 'script');
const SCRIPT = inlinable(DASHBOARD_SCRIPT, 'script');
const STYLE = inlinable(`${readAsset('uPlot.min.css')}\n${DASHBOARD_CSS}`, 'style');

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const CALL_HEAD = [
  ['id', 'call'],
  ['transport', 'transport'],
  ['state', 'state'],
  ['age', 'age'],
  ['level', 'level (in)'],
  ['jitter', 'jitter ms'],
  ['loss', 'loss %'],
  ['delay', 'buffer ms'],
  ['conceal', 'concealed %'],
  ['mos', 'MOS'],
]
  .map(([key, label]) => `<span data-sort="${key}" data-label="${label}">${label}${key === 'age' ? ' ▲' : ''}</span>`)
  .join('');

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style>
</head>
<body>
<h1>Switchboard <span id="daemon">…</span></h1>
<div id="process"></div>
<p id="updated" class="muted">connecting…</p>
<div id="charts"></div>
<h2>Workers</h2><div id="workers"></div>
<h2>Conferences</h2><div id="conferences" class="muted">none</div>
<h2>Calls</h2>
<div id="tools"><input id="filter" type="search" placeholder="filter by call id" aria-label="filter by call id"><span id="callcount"></span></div>
<div id="callhead" class="grid">${CALL_HEAD}</div>
<div id="viewport"><div id="spacer"></div></div>
<script>${UPLOT_SCRIPT}</script>
<script>${SCRIPT}</script>
</body></html>
`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(UPLOT_SCRIPT)} ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
