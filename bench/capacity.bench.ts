/**
 * Capacity: the most calls this machine holds in real time, per transport
 * and codec, with the load driver (src/load/) on the same machine. Each step
 * starts a fresh daemon (a child process, so its CPU and RSS are its own),
 * ramps N loopback calls up, holds them, and reads the run's report; the
 * steps go up until one fails the real-time criteria:
 *
 * - tick p99 < 10 ms (workers' tick-time histograms over the run);
 * - late ticks < 0.1% of the ticks;
 * - ≥ 99.9% of the frames sent come back (the loopback agent returns every
 *   frame: one missing is a frame the engine did not deliver in time).
 *
 * CPU and RSS per call are the daemon's (its RSS at the peak over the idle
 * daemon's, per call). Engine latency is the legs' histogram (playout to the
 * wire); round-trip latency is the driver's, aligned on the audio.
 *
 * `CAPACITY_CASES=rtp-pcmu,twilio-pcmu,rtp-opus` picks cases,
 * `CAPACITY_HOLD_S` the seconds calls are held at each step (default 20).
 */
import { availableParallelism } from 'node:os';
import { loadNativeOpus } from '../src/dsp/opus.ts';
import { runLoad } from '../src/load/runLoad.ts';
import type { LoadSummary } from '../src/load/report.ts';
import { codecBound } from './opus.bench.ts';
import { printTable } from './table.ts';

interface Case {
  name: string;
  transport: 'rtp' | 'twilio';
  codec: 'pcmu' | 'opus';
  steps: number[];
}

const CASES: Case[] = [
  { name: 'rtp-pcmu', transport: 'rtp', codec: 'pcmu', steps: [100, 200, 300, 400, 500, 600, 800, 1000] },
  { name: 'twilio-pcmu', transport: 'twilio', codec: 'pcmu', steps: [100, 200, 300, 400, 500] },
  { name: 'rtp-opus', transport: 'rtp', codec: 'opus', steps: [25, 50, 75, 100, 125, 150] },
];

const RAMP_PER_S = 50;
const TICK_P99_MS = 10;
const LATE_SHARE = 0.001;
const RETURNED_PCT = 99.9;

/** Why a step is not real time, or undefined when it is. */
function failure(s: LoadSummary, ticks: number): string | undefined {
  const why: string[] = [];
  if (s.tickP99Ms === null || s.tickP99Ms >= TICK_P99_MS) why.push(`tick p99 ${fmt(s.tickP99Ms)} ms`);
  if (s.lateTicks !== null && ticks > 0 && s.lateTicks / ticks >= LATE_SHARE) why.push(`late ticks ${((100 * s.lateTicks) / ticks).toFixed(2)}%`);
  if (s.returnedPct === null || s.returnedPct < RETURNED_PCT) why.push(`returned ${s.returnedPct ?? '?'}%`);
  if ((s.callsRefused ?? 0) > 0 || (s.callsFailed ?? 0) > 0) why.push(`${s.callsRefused ?? 0} refused, ${s.callsFailed ?? 0} failed`);
  return why.length > 0 ? why.join(', ') : undefined;
}

const fmt = (v: number | null, digits = 1): string => (v === null ? '–' : v.toFixed(digits));

export default async function capacityBench(): Promise<void> {
  const wanted = (process.env['CAPACITY_CASES'] ?? CASES.map((c) => c.name).join(',')).split(',');
  const holdS = Number(process.env['CAPACITY_HOLD_S'] ?? 20);
  const cores = availableParallelism();
  const results: Array<Record<string, string | number>> = [];
  for (const c of CASES.filter((x) => wanted.includes(x.name))) {
    const rows: Array<Record<string, string | number>> = [];
    let held = 0;
    for (const n of c.steps) {
      const report = await runLoad({ streams: n, transport: c.transport, codec: c.codec, agent: 'loopback', ramp: RAMP_PER_S, duration: holdS, seed: n });
      const s = report.summary;
      // Every worker ticks 50 times a second while the run lasts.
      const workers = report.samples.at(-1)?.workers.filter((w) => w.actors > 0).length ?? 0;
      const ticks = workers * report.elapsedS * 50;
      const why = failure(s, ticks);
      rows.push({
        calls: n,
        'daemon CPU %': fmt(s.daemonCpuPct),
        'CPU % per call': fmt(s.daemonCpuPct === null ? null : s.daemonCpuPct / n, 3),
        'RSS MB': fmt(s.daemonRssMb),
        'RSS KB per call': fmt(s.rssPerCallKb, 0),
        'tick p50 / p99 / max ms': `${fmt(s.tickP50Ms)} / ${fmt(s.tickP99Ms)} / ${fmt(s.tickMaxMs)}`,
        'late ticks': s.lateTicks ?? '–',
        'engine latency p99 ms': fmt(s.engineLatencyP99Ms, 2),
        'RTT p50 / p99 ms': `${fmt(s.latencyP50Ms)} / ${fmt(s.latencyP99Ms)}`,
        'returned %': fmt(s.returnedPct, 2),
        'MOS mean': fmt(s.mosMean, 2),
        'driver CPU %': fmt(s.driverCpuPct),
        'real time': why === undefined ? 'yes' : `no: ${why}`,
      });
      if (why !== undefined) break;
      held = n;
    }
    printTable(`Capacity, ${c.transport} ${c.codec.toUpperCase()}: loopback calls held ${holdS} s, the driver on the same ${cores} cores`, rows);
    results.push({ case: c.name, 'most calls in real time': held });
  }
  if (wanted.includes('rtp-opus')) {
    const native = loadNativeOpus();
    if (native.binding !== undefined) {
      const perCore = codecBound(native.binding);
      const opus = results.find((r) => r['case'] === 'rtp-opus');
      if (opus !== undefined) {
        opus['codec-bound limit'] = perCore * cores;
        opus['share of it'] = `${((100 * Number(opus['most calls in real time'])) / (perCore * cores)).toFixed(0)}%`;
      }
    }
  }
  printTable('Capacity on this machine (most calls held in real time; the step sizes bound the answer from below)', results);
}
