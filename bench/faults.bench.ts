/**
 * The fault table: each kind of worker fault injected into one of two
 * workers carrying live streams, and what a listener hears — the longest
 * gap on the streams of the faulted worker and of the other one — and how
 * many streams were lost (no frames in the last 500 ms of the window). "Six
 * crashes in a row" crashes the same worker as soon as it is back, until it
 * exceeds the restart limit and fails: its streams move to the other worker.
 */
import { pino } from 'pino';
import { Supervisor } from '../src/supervisor/Supervisor.ts';
import { captureKind } from '../src/actors/capture/kind.ts';
import type { FaultKind } from '../src/supervisor/Runtime.ts';
import { MAX_RESTARTS } from '../src/supervisor/workerMachine.ts';
import { FrameGapWatch } from './lib/frameGaps.ts';
import { printTable } from './table.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STREAMS_PER_WORKER = 10;
/** After the fault: time for the restart, the re-created actors and a settled window. */
const SETTLE_MS = 2500;
/** A frame lasts this long: a gap is the interval between frames beyond it. */
const FRAME_MS = 20;
const LOST_AFTER_MS = 500;

type Scenario = FaultKind | 'six crashes in a row';

export async function run(fault: Scenario) {
  const sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 2 },
    logLevel: 'error',
    log: pino({ level: 'silent' }),
    kinds: { capture: captureKind },
  });
  await sup.start();
  const actors: string[] = [];
  for (let i = 0; i < STREAMS_PER_WORKER * 2; i++) actors.push(await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 }));
  const victimWorker = sup.workerOf(actors[0]!)!;
  const onVictim = actors.map((a) => sup.workerOf(a) === victimWorker);
  const watch = new FrameGapWatch(actors.map((a) => sup.ringOf(a, 'out')!));
  await sleep(300);
  watch.reset();
  const t0 = performance.now();
  if (fault === 'six crashes in a row') {
    const state = () => sup.workerStatuses().find((w) => w.id === victimWorker)!.state;
    for (let i = 0; i <= MAX_RESTARTS && state() !== 'failed'; i++) {
      while (state() !== 'ready' && state() !== 'failed') await sleep(1);
      if (state() === 'failed') break;
      await sup.injectFault(victimWorker, 'crash');
      while (state() === 'ready') await sleep(1);
    }
  } else {
    await sup.injectFault(victimWorker, fault);
  }
  const faultMs = performance.now() - t0;
  await sleep(SETTLE_MS);
  const longest = watch.longestMs();
  const frames = watch.frames();
  // Lost: silent at the end of the window.
  const before = [...frames];
  await sleep(LOST_AFTER_MS);
  const after = watch.frames();
  watch.stop();
  const victimStatus = sup.workerStatuses().find((w) => w.id === victimWorker)!;
  await sup.stop();
  const gap = (pick: boolean) => Math.max(0, ...longest.filter((_, i) => onVictim[i] === pick).map((l) => l - FRAME_MS));
  return {
    fault,
    'faulted worker: longest gap ms': gap(true),
    'other worker: longest gap ms': gap(false),
    'streams lost': after.filter((n, i) => n === before[i]).length,
    'fault sequence ms': faultMs,
    'worker after': victimStatus.state,
    'last cause': (victimStatus.lastError ?? '').slice(0, 48),
  };
}

/** Runs of each fault: the table shows the median and the worst. */
const RUNS = 3;

export default async function main(): Promise<void> {
  // The first supervisor of a process pays for cold caches (module transforms, JIT): not a fault's cost.
  await run('crash');
  const rows = [];
  for (const f of ['crash', 'exit', 'terminate', 'hang', 'oom', 'oom-burst', 'six crashes in a row'] as const) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await run(f));
    const gaps = runs.map((r) => r['faulted worker: longest gap ms']).sort((a, b) => a - b);
    const others = runs.map((r) => r['other worker: longest gap ms']).sort((a, b) => a - b);
    rows.push({
      fault: f,
      'faulted worker: longest gap ms, median': gaps[RUNS >> 1]!,
      'worst': gaps[RUNS - 1]!,
      'other worker: longest gap ms, median': others[RUNS >> 1]!,
      'streams lost (all runs)': runs.reduce((n, r) => n + r['streams lost'], 0),
      'worker after': runs.map((r) => r['worker after']).join('/'),
      'last cause': runs[RUNS - 1]!['last cause'],
    });
  }
  printTable(
    `Worker faults: ${STREAMS_PER_WORKER} synthetic 16 kHz streams on each of two capture workers, one worker faulted, ${RUNS} runs each (gaps as the main thread reads the rings: its own stalls count too)`,
    rows,
  );
}
