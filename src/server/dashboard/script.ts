import { CONFERENCE_COLUMNS, MEMBER_COLUMNS } from './conferenceRows.ts';
import { CALL_COLUMNS, CALL_UNITS, HISTORY_COLUMNS, PROCESS_COLUMNS, WORKER_COLUMNS } from './feed.ts';
import { CALL_ROW_PX } from './style.ts';

/**
 * The page's script. It draws what /dashboard/events sends (feed.ts has the
 * frames' shape) and touches the DOM through textContent and CSSOM only, so
 * nothing from the daemon is parsed as HTML. The call table is virtualized:
 * whatever the number of calls, only the rows in view (plus a margin) exist,
 * re-used as the view scrolls, so 1,000 calls cost what 30 do.
 */
const COLUMNS = JSON.stringify({
  call: CALL_COLUMNS,
  units: CALL_UNITS,
  worker: WORKER_COLUMNS,
  process: PROCESS_COLUMNS,
  history: HISTORY_COLUMNS,
  conference: CONFERENCE_COLUMNS,
  member: MEMBER_COLUMNS,
});

export const DASHBOARD_SCRIPT = `'use strict';
(function () {
const COLS = ${COLUMNS};
const ROW_PX = ${CALL_ROW_PX};
const HISTORY_MAX = 3600;
const at = (list, name) => list.indexOf(name);
const C = {}; COLS.call.forEach((n, i) => (C[n] = i));
const W = {}; COLS.worker.forEach((n, i) => (W[n] = i));
const P = {}; COLS.process.forEach((n, i) => (P[n] = i));
const STRIDE = COLS.call.length;
const $ = (id) => document.getElementById(id);
const meta = new Map();
let calls = [];
let view = [];
let serverNow = 0;
let sortKey = 'age';
let sortDir = 1;
let filter = '';
const history = COLS.history.map(() => []);

// Figures come as whole counts of their unit (feed.ts CALL_UNITS).
const fig = (rows, i, name) => { const v = rows[i + C[name]]; return v === '' ? null : Number(v) * COLS.units[name]; };

// Each call's record, kept across frames so sorting and rendering allocate little per update.
function applyRows(text) {
  const rows = text === '' ? [] : text.split(',');
  const next = [];
  for (let i = 0; i + STRIDE <= rows.length; i += STRIDE) {
    const m = meta.get(Number(rows[i + C.key]));
    if (m === undefined) continue;
    m.state = Number(rows[i + C.state]);
    m.level = fig(rows, i, 'levelDbfs');
    m.jitter = fig(rows, i, 'jitterMs');
    m.loss = fig(rows, i, 'lossPct');
    m.delay = fig(rows, i, 'delayMs');
    m.conceal = fig(rows, i, 'concealPct');
    m.mos = fig(rows, i, 'mos');
    m.seen = true;
    next.push(m);
  }
  for (const [key, m] of meta) { if (!m.seen) meta.delete(key); else m.seen = false; }
  calls = next;
}

function addMeta(list) {
  for (const [key, id, transport, createdMs] of list) {
    meta.set(key, { key, id, transport, createdMs, state: 0, level: null, jitter: null, loss: null, delay: null, conceal: null, mos: null, seen: false });
  }
}

const SORTS = {
  id: (c) => c.id, transport: (c) => c.transport, state: (c) => c.state, age: (c) => c.createdMs,
  level: (c) => c.level, jitter: (c) => c.jitter, loss: (c) => c.loss, delay: (c) => c.delay, conceal: (c) => c.conceal, mos: (c) => c.mos,
};

function rebuildView() {
  const f = filter;
  const key = SORTS[sortKey];
  view = f === '' ? calls.slice() : calls.filter((c) => c.id.toLowerCase().includes(f));
  view.sort((a, b) => {
    const x = key(a), y = key(b);
    // Calls without a figure sort last either way.
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
  });
  $('callcount').textContent = calls.length + ' calls' + (f === '' ? '' : ' · ' + view.length + ' match');
  $('spacer').style.height = view.length * ROW_PX + 'px';
  renderRows();
}

const fixed = (v, d) => (v === null || v === undefined ? '–' : v.toFixed(d));
function age(c) {
  const s = Math.max(0, Math.floor((serverNow - c.createdMs) / 1000));
  return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
}

const pool = [];
const CELLS = ['id', 'transport', 'state', 'age', 'level', 'jitter', 'loss', 'delay', 'conceal', 'mos'];
function makeRow() {
  const row = document.createElement('div');
  row.className = 'row grid';
  const cells = {};
  for (const name of CELLS) {
    const span = document.createElement('span');
    span.className = 'c-' + name + (name === 'id' || name === 'transport' || name === 'state' || name === 'level' ? '' : ' num');
    if (name === 'level') {
      span.classList.add('meter');
      const track = document.createElement('i');
      const bar = document.createElement('b');
      track.appendChild(bar);
      const text = document.createElement('em');
      span.append(track, text);
      cells.bar = bar;
      cells.levelText = text;
    }
    cells[name] = span;
    row.appendChild(span);
  }
  row._cells = cells;
  $('spacer').appendChild(row);
  return row;
}

function renderRows() {
  const vp = $('viewport');
  const first = Math.max(0, Math.floor(vp.scrollTop / ROW_PX) - 5);
  const last = Math.min(view.length, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW_PX) + 5);
  const needed = Math.max(0, last - first);
  while (pool.length < needed) pool.push(makeRow());
  for (let i = 0; i < pool.length; i++) {
    const row = pool[i];
    if (i >= needed) { row.hidden = true; continue; }
    const c = view[first + i];
    const k = row._cells;
    row.hidden = false;
    row.style.top = (first + i) * ROW_PX + 'px';
    row.dataset.id = c.id;
    row.classList.toggle('ending', c.state === 1);
    k.id.textContent = c.id;
    k.transport.textContent = c.transport;
    k.state.textContent = c.state === 1 ? 'ending' : 'active';
    k.age.textContent = age(c);
    // −60 dBFS (quiet line) to 0 dBFS fills the bar.
    const level = c.level === null ? null : c.level;
    k.bar.style.width = level === null ? '0' : Math.max(0, Math.min(100, ((level + 60) / 60) * 100)).toFixed(0) + '%';
    k.levelText.textContent = level === null ? '–' : level <= -120 ? 'silent' : level.toFixed(0) + ' dB';
    k.jitter.textContent = fixed(c.jitter, 1);
    k.loss.textContent = fixed(c.loss, 2);
    k.delay.textContent = fixed(c.delay, 0);
    k.conceal.textContent = fixed(c.conceal, 2);
    k.mos.textContent = fixed(c.mos, 2);
  }
}

function workersTable(workers) {
  const t = document.createElement('table');
  const head = t.insertRow();
  for (const h of ['worker', 'kind', 'state', 'restarts', 'actors', 'tick µs', 'max tick µs', 'late ticks', 'heap MB', 'last error']) {
    const th = document.createElement('th'); th.textContent = h; head.appendChild(th);
  }
  for (const w of workers) {
    const tr = t.insertRow();
    tr.dataset.id = w[W.id];
    for (let i = 0; i < COLS.worker.length; i++) tr.insertCell().textContent = w[i] === null ? '' : String(w[i]);
    tr.cells[W.state].className = w[W.state] === 'ready' ? 'ok' : 'bad';
  }
  $('workers').replaceChildren(t);
}

// One table per conference: each member's level (a meter from -60 to 0 dBFS) and talk state.
function conferencesTables(list) {
  const box = $('conferences');
  if (list.length === 0) { box.textContent = 'none'; box.className = 'muted'; return; }
  const CF = {}; COLS.conference.forEach((n, i) => (CF[n] = i));
  const M = {}; COLS.member.forEach((n, i) => (M[n] = i));
  const tables = list.map((c) => {
    const t = document.createElement('table');
    t.createCaption().textContent = 'conference ' + c[CF.id] + ' · ' + c[CF.rateHz] / 1000 + ' kHz · ' + c[CF.members].length + ' members';
    const head = t.insertRow();
    for (const h of ['member', 'level dBFS', '', 'talking', 'muted', 'ducked dB']) { const th = document.createElement('th'); th.textContent = h; head.appendChild(th); }
    for (const m of c[CF.members]) {
      const tr = t.insertRow();
      tr.dataset.call = m[M.call];
      tr.insertCell().textContent = m[M.call] + (m[M.call] === c[CF.dominant] ? ' (floor)' : '');
      tr.insertCell().textContent = fixed(m[M.levelDbfs], 1);
      const meter = document.createElement('meter');
      meter.min = -60; meter.max = 0; meter.value = Math.max(-60, m[M.levelDbfs]);
      tr.insertCell().appendChild(meter);
      const talking = tr.insertCell();
      talking.textContent = m[M.talking] === 1 ? '●' : '';
      talking.className = m[M.talking] === 1 ? 'ok' : '';
      tr.insertCell().textContent = m[M.muted] === 1 ? 'muted' : '';
      tr.insertCell().textContent = fixed(m[M.duckDb], 1);
    }
    return t;
  });
  box.className = '';
  box.replaceChildren(...tables);
}

const charts = [];
function makeCharts() {
  const specs = [['calls', 'calls', '#36c'], ['cpuPct', 'CPU % of a core', '#c63'], ['tickUs', 'tick µs (longest worker)', '#393']];
  for (const [col, label, stroke] of specs) {
    const box = document.createElement('div');
    $('charts').appendChild(box);
    const u = new uPlot({ width: 380, height: 170, title: label, legend: { show: false },
      scales: { x: { time: true } }, series: [{}, { label, stroke, width: 1.5, points: { show: false } }] }, [[], []], box);
    charts.push([at(COLS.history, col), u]);
  }
}
function drawCharts() {
  for (const [i, u] of charts) u.setData([history[0], history[i]]);
}
function addPoint(p) {
  for (let i = 0; i < p.length; i++) history[i].push(p[i]);
  if (history[0].length > HISTORY_MAX) for (const h of history) h.shift();
}

function header(f) {
  serverNow = f.now;
  const d = $('daemon');
  d.textContent = f.daemon + (f.ready ? ' · ready' : ' · not ready: ' + f.reasons.join('; '));
  d.className = f.ready ? 'ok' : 'bad';
  const p = f.process;
  $('process').textContent = 'CPU ' + fixed(p[P.cpuPct], 1) + ' % of a core · RSS ' + fixed(p[P.rssMb], 1) + ' MB · heap ' +
    fixed(p[P.heapMb], 1) + ' MB · up ' + p[P.uptimeS] + ' s';
  workersTable(f.workers);
  conferencesTables(f.conferences);
  $('updated').textContent = 'updated ' + new Date(f.now).toLocaleTimeString();
  $('updated').className = 'muted';
}

const source = new EventSource(location.origin + '/dashboard/events');
source.addEventListener('snapshot', (e) => {
  const f = JSON.parse(e.data);
  meta.clear();
  addMeta(f.meta);
  applyRows(f.rows);
  for (const h of history) h.length = 0;
  for (const p of f.history) addPoint(p);
  header(f);
  drawCharts();
  rebuildView();
});
source.addEventListener('update', (e) => {
  const f = JSON.parse(e.data);
  addMeta(f.meta);
  applyRows(f.rows);
  if (f.point !== null) addPoint(f.point);
  header(f);
  drawCharts();
  rebuildView();
});
source.onerror = () => {
  $('updated').textContent = 'no connection to the daemon; retrying (where a token is needed, reload to sign in)';
  $('updated').className = 'bad';
};

$('viewport').addEventListener('scroll', renderRows, { passive: true });
$('filter').addEventListener('input', (e) => { filter = e.target.value.trim().toLowerCase(); rebuildView(); });
for (const span of $('callhead').children) {
  span.addEventListener('click', () => {
    const key = span.dataset.sort;
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    for (const s of $('callhead').children) s.textContent = s.dataset.label + (s.dataset.sort === sortKey ? (sortDir > 0 ? ' ▲' : ' ▼') : '');
    rebuildView();
  });
}
makeCharts();
})();
`;
