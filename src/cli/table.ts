/**
 * A titled, aligned text table (Markdown pipe syntax): the form benchmarks
 * and the load driver print their results in. The first column is
 * left-aligned, the others right-aligned; numbers keep three or four
 * significant digits, integers their thousands separators.
 */
export function formatTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): string {
  if (rows.length === 0) return `\n## ${title}\n(no rows)`;
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined): string => (v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => '| ' + vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ') + ' |';
  return [
    `\n## ${title}\n`,
    line(cols),
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
