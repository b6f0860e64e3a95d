/**
 * `npm run bench -- vad`: the VAD's frame accuracy on the evaluation corpus
 * (bench/vadCorpus.ts: every speech fixture with silence and noise gaps
 * inserted at seeded places, and noise under the speech in some variants),
 * scored against labels from the clean recordings. The goal is ≥ 95% per file.
 * Throughput is in the mixer benchmark's second table.
 */
import { Vad } from '../src/dsp/vad.ts';
import { speech } from '../test/helpers/fixtures.ts';
import {
  buildCase,
  ORACLE_HANGOVER_MS,
  ORACLE_THRESHOLD_DBFS,
  scoreCase,
  scoreOf,
  VAD_FILES,
  VARIANTS,
  type Counts,
} from './vadCorpus.ts';
import { printTable } from './table.ts';

const pct = (x: number): string => (100 * x).toFixed(1);

function accuracyTable(frameMs: number): { rows: Array<Record<string, string | number>>; cellsBelow: number; cells: number } {
  const rows: Array<Record<string, string | number>> = [];
  let cellsBelow = 0;
  let cells = 0;
  for (const file of VAD_FILES) {
    const { rateHz, samples } = speech(file);
    const row: Record<string, string | number> = { file };
    const all: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
    VARIANTS.forEach((variant, vi) => {
      const c = buildCase(samples, rateHz, variant, 1000 + vi * 7 + file.length, frameMs);
      const vad = new Vad(rateHz, { frameMs });
      const s = scoreCase(c, (frame) => vad.process(frame));
      vad.destroy();
      row[variant.name] = pct(s.accuracy);
      cells++;
      if (s.accuracy < 0.95) cellsBelow++;
      all.tp += s.tp;
      all.fp += s.fp;
      all.fn += s.fn;
      all.tn += s.tn;
    });
    const total = scoreOf(all);
    row['file accuracy'] = pct(total.accuracy);
    row.precision = pct(total.precision);
    row.recall = pct(total.recall);
    rows.push(row);
  }
  return { rows, cellsBelow, cells };
}

export default function run(): void {
  console.log(
    `\nLabels: inserted gaps are non-speech; original frames are speech when their clean energy is ≥ ${ORACLE_THRESHOLD_DBFS} dBFS ` +
      `or within ${ORACLE_HANGOVER_MS} ms after such a frame. Cells are frame accuracy, %.`,
  );
  for (const frameMs of [20, 10]) {
    const { rows, cellsBelow, cells } = accuracyTable(frameMs);
    printTable(`VAD frame accuracy, ${frameMs} ms frames (WASM)`, rows);
    const files = rows.filter((r) => Number(r['file accuracy']) >= 95).length;
    console.log(`\n${files}/${rows.length} files ≥ 95%; ${cells - cellsBelow}/${cells} file × variant cells ≥ 95%`);
  }
}
