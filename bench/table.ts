/** Prints a titled, aligned text table: the form every benchmark reports in. */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  if (rows.length === 0) {
    console.log(`\n## ${title}\n(no rows)`);
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : v;
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string =>
    '| ' + vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ') + ' |';
  console.log(`\n## ${title}\n`);
  console.log(line(cols));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns calls per second. */
export function rate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let the JIT tier up
  let calls = 0;
  let batch = 1;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    if (batch < 1 << 16) batch *= 2;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

/** This process's CPU time, ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds of this process's CPU
 * time; returns calls per CPU-second. On a machine shared with other work,
 * wall time also counts the time the others take; CPU time does not.
 */
export function cpuRate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let the JIT tier up
  let calls = 0;
  let batch = 1;
  const start = cpuMs();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    if (batch < 1 << 16) batch *= 2;
    now = cpuMs();
  }
  return (calls * 1000) / (now - start);
}

/**
 * Calls per CPU-second of each function, measured in alternating rounds and
 * the best round of each kept: a change of load on a shared machine while
 * they run hits them alike, so their ratio holds.
 */
export function bestRates(fns: ReadonlyArray<() => void>, rounds = 12, ms = 100): number[] {
  const best = fns.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) best[i] = Math.max(best[i]!, cpuRate(fns[i]!, ms));
  }
  return best;
}
