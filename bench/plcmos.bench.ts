/**
 * The PLCMOS v2 scorer against its published example scores, and the two
 * naive concealments it has to tell apart from real PLC: zero-fill and
 * repeat-last-frame×0.9, at 10% uniform and 10% Gilbert-Elliott loss (seeded,
 * 20 ms frames). Reference points measured elsewhere on clean.wav, with other
 * loss draws: zero-fill 2.51 / 2.84, repeat×0.9 2.74 / 3.02.
 *
 * clean.wav is only 500 frames, so one loss draw moves the score by ±0.3
 * (which frames are hit matters as much as how many): its table is the mean
 * over several seeds, with the range.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../src/wire/wav.ts';
import { burstyLoss, frameCount, lostFraction, repeatLast, uniformLoss, zeroFill } from './lib/baselines.ts';
import { PLCMOS_RATE_HZ, PlcMos } from './lib/plcmos.ts';
import { loadEvalSpeech } from './lib/speech.ts';
import { printTable } from './table.ts';

const EXAMPLES: ReadonlyArray<[string, number]> = [
  ['clean', 4.497762],
  ['plc_good', 4.123963],
  ['plc_poor', 2.740757],
];
const LOSS_SEED = 1;
const CLEAN_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

type Concealment = (signal: Int16Array, lost: readonly boolean[]) => Int16Array;
const BASELINES: ReadonlyArray<[string, Concealment, { uniform: number; bursty: number }]> = [
  ['zero-fill', (s, l) => zeroFill(s, l), { uniform: 2.51, bursty: 2.84 }],
  ['repeat×0.9', (s, l) => repeatLast(s, l, 0.9), { uniform: 2.74, bursty: 3.02 }],
];
const LOSSES: ReadonlyArray<['uniform' | 'bursty', string, (frames: number, seed: number) => boolean[]]> = [
  ['uniform', 'uniform 10%', (frames, seed) => uniformLoss(frames, 0.1, seed)],
  ['bursty', 'Gilbert-Elliott 10%', burstyLoss],
];

async function cleanTable(mos: PlcMos, clean: Int16Array): Promise<void> {
  const frames = frameCount(clean.length);
  const rows: Array<Record<string, string | number>> = [];
  for (const [name, conceal, reference] of BASELINES) {
    for (const [key, lossName, pattern] of LOSSES) {
      const scores: number[] = [];
      let lostSum = 0;
      for (const seed of CLEAN_SEEDS) {
        const lost = pattern(frames, seed);
        lostSum += lostFraction(lost);
        scores.push(await mos.score(conceal(clean, lost)));
      }
      rows.push({
        concealment: name,
        loss: lossName,
        'mean lost': `${((100 * lostSum) / CLEAN_SEEDS.length).toFixed(1)}%`,
        PLCMOS: (scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(2),
        min: Math.min(...scores).toFixed(2),
        max: Math.max(...scores).toFixed(2),
        'reference elsewhere': reference[key].toFixed(2),
      });
    }
  }
  printTable(`PLCMOS v2 of the naive baselines on clean.wav (20 ms frames, mean of seeds ${CLEAN_SEEDS[0]}–${CLEAN_SEEDS.at(-1)})`, rows);
}

function example(name: string): Int16Array {
  const path = fileURLToPath(new URL(`../test/fixtures/plcmos/${name}.wav`, import.meta.url));
  return readWav(new Uint8Array(readFileSync(path))).samples;
}

export default async function plcmosBench(): Promise<void> {
  const mos = await PlcMos.load();
  try {
    const examples: Array<Record<string, string | number>> = [];
    for (const [name, expected] of EXAMPLES) {
      const samples = example(name);
      const start = performance.now();
      const measured = await mos.score(samples);
      const ms = performance.now() - start;
      examples.push({
        file: `${name}.wav`,
        expected: expected.toFixed(6),
        measured: measured.toFixed(6),
        'difference': (measured - expected).toExponential(1),
        'score ms': Math.round(ms),
        '× real time': samples.length / PLCMOS_RATE_HZ / (ms / 1000),
      });
    }
    printTable('PLCMOS v2: published example scores (15 rater embeddings, one ORT thread)', examples);

    const clips = loadEvalSpeech();
    await cleanTable(mos, clips[0]!.samples16k);

    const rows: Array<Record<string, string | number>> = [];
    for (const clip of clips) {
      const frames = frameCount(clip.samples16k.length);
      const row: Record<string, string | number> = {
        speech: clip.name,
        seconds: clip.samples16k.length / PLCMOS_RATE_HZ,
        'no loss': (await mos.score(clip.samples16k)).toFixed(2),
      };
      for (const [, lossName, pattern] of LOSSES) {
        const lost = pattern(frames, LOSS_SEED);
        row[`${lossName}: lost`] = `${(100 * lostFraction(lost)).toFixed(1)}%`;
        for (const [name, conceal] of BASELINES) row[`${lossName}: ${name}`] = (await mos.score(conceal(clip.samples16k, lost))).toFixed(2);
      }
      rows.push(row);
    }
    printTable(`PLCMOS v2 of the naive baselines on every eval clip (loss seed ${LOSS_SEED})`, rows);
  } finally {
    await mos.close();
  }
}
