import { LATENCY_BINS, LatencyHistogram } from './LatencyHistogram.ts';
import type { CallResult } from './loadProtocol.ts';
import type { ResolvedLoadOptions } from './LoadOptions.ts';
import { tickQuantile, type DaemonSample } from './statusSampler.ts';

/**
 * A load run's report: the options, every call's figures, the daemon's
 * samples, the driver's own cost, and a summary whose figures `--fail-if`
 * can name. Built once at the end on the main thread.
 */

/** The summary's figures, in the order the table shows them (null: not measured in this run). */
export const SUMMARY_FIGURES = [
  'streams',
  'callsCompleted',
  'callsRefused',
  'callsFailed',
  'peakCalls',
  'latencyP50Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'returnedPct',
  'lossInPct',
  'jitterMs',
  'mosMean',
  'mosP5',
  'mosMin',
  'malformed',
  'stray',
  'engineLatencyP99Ms',
  'tickP50Ms',
  'tickP99Ms',
  'tickMaxMs',
  'lateTicks',
  'daemonCpuPct',
  'daemonRssMb',
  'rssPerCallKb',
  'driverCpuPct',
  'driverCpuPerCallPct',
] as const;
export type SummaryFigure = (typeof SUMMARY_FIGURES)[number];
export type LoadSummary = Record<SummaryFigure, number | null>;

export interface DriverFigures {
  threads: number;
  /** The driver's process (main thread and caller threads) as % of one core over the run. */
  cpuPct: number;
  rssBytes: number;
  samples: Array<{ t: number; cpuPct: number; rssBytes: number }>;
}

export interface LoadReport {
  startedAt: string;
  elapsedS: number;
  /** The options as run (the token left out). */
  options: Omit<ResolvedLoadOptions, 'token'> & { token?: '(set)' };
  daemon: { target: string; selfStarted: boolean; args?: readonly string[]; statusErrors: number; lastStatusError?: string };
  speech: string;
  summary: LoadSummary;
  latencyCdf: Array<[number, number]>;
  mosHistogram: Array<{ mos: number; calls: number }>;
  calls: CallResult[];
  samples: DaemonSample[];
  driver: DriverFigures;
  notices: string[];
}

export interface ReportInputs {
  startedAtMs: number;
  elapsedS: number;
  options: ResolvedLoadOptions;
  daemon: LoadReport['daemon'];
  speech: string;
  calls: CallResult[];
  latency: LatencyHistogram;
  samples: DaemonSample[];
  runTicks: ArrayLike<number>;
  runMaxTickMs: number;
  runLateTicks: number;
  driver: DriverFigures;
  notices: string[];
}

/**
 * The 99th percentile of the daemon's engine-latency buckets (`engineLatencyLe<µs>us`, then
 * `engineLatencyOver<µs>us`) as the bucket's upper bound, ms; null without them.
 */
export function engineLatencyP99Ms(buckets: Readonly<Record<string, number>>): number | null {
  const bounded = Object.entries(buckets)
    .flatMap(([k, n]) => {
      const m = /^engineLatencyLe(\d+)us$/.exec(k);
      return m === null ? [] : [{ us: Number(m[1]), n }];
    })
    .sort((a, b) => a.us - b.us);
  const over = Object.entries(buckets).find(([k]) => /^engineLatencyOver\d+us$/.test(k))?.[1] ?? 0;
  const total = bounded.reduce((t, b) => t + b.n, 0) + over;
  if (total === 0) return null;
  let seen = 0;
  for (const b of bounded) {
    seen += b.n;
    if (seen >= 0.99 * total) return b.us / 1000;
  }
  return (buckets['engineLatencyMaxUs'] ?? 0) / 1000;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

export function buildReport(i: ReportInputs): LoadReport {
  const done = i.calls.filter((c) => c.outcome === 'completed');
  const mos = done.flatMap((c) => (c.mos === null ? [] : [c.mos])).sort((a, b) => a - b);
  const expected = done.reduce((n, c) => n + c.returnExpected, 0);
  const returned = done.reduce((n, c) => n + Math.min(c.returned, c.returnExpected), 0);
  const sent = done.reduce((n, c) => n + c.framesSent, 0);
  const peakCalls = i.samples.reduce((m, s) => Math.max(m, s.calls), 0);
  // Daemon CPU while at least 90% of the peak's calls were live: the steady state, not the ramp.
  const steady = i.samples.filter((s) => s.cpuPct !== null && peakCalls > 0 && s.calls >= 0.9 * peakCalls);
  const atPeak = i.samples.find((s) => s.calls === peakCalls && peakCalls > 0);
  const idle = i.samples.find((s) => s.calls === 0);
  const peakRss = i.samples.reduce((m, s) => Math.max(m, s.rssBytes), 0);
  const h = i.latency;
  const summary: LoadSummary = {
    streams: i.options.streams,
    callsCompleted: done.length,
    callsRefused: i.calls.filter((c) => c.outcome === 'refused').length,
    callsFailed: i.calls.filter((c) => c.outcome === 'failed').length,
    peakCalls,
    latencyP50Ms: h.quantile(0.5),
    latencyP95Ms: h.quantile(0.95),
    latencyP99Ms: h.quantile(0.99),
    latencyMaxMs: h.count > 0 ? h.maxMs : null,
    returnedPct: expected > 0 ? (100 * returned) / expected : null,
    lossInPct: sent > 0 ? (100 * done.reduce((n, c) => n + c.packetsLost, 0)) / sent : null,
    jitterMs: mean(done.flatMap((c) => (c.jitterMs === null ? [] : [c.jitterMs]))),
    mosMean: mean(mos),
    mosP5: quantile(mos, 0.05),
    mosMin: mos.length > 0 ? mos[0]! : null,
    malformed: i.calls.reduce((n, c) => n + c.returnedMalformed + c.decodeErrors, 0),
    stray: i.calls.reduce((n, c) => n + c.returnedStray, 0),
    engineLatencyP99Ms: atPeak === undefined ? null : engineLatencyP99Ms(atPeak.engineLatency),
    tickP50Ms: tickQuantile(i.runTicks, 0.5, i.runMaxTickMs),
    tickP99Ms: tickQuantile(i.runTicks, 0.99, i.runMaxTickMs),
    tickMaxMs: i.samples.length > 0 ? i.runMaxTickMs : null,
    lateTicks: i.samples.length > 0 ? i.runLateTicks : null,
    daemonCpuPct: mean(steady.map((s) => s.cpuPct!)),
    daemonRssMb: i.samples.length > 0 ? peakRss / 2 ** 20 : null,
    rssPerCallKb: idle !== undefined && peakCalls > 0 ? Math.max(0, peakRss - idle.rssBytes) / 1024 / peakCalls : null,
    driverCpuPct: i.driver.cpuPct,
    driverCpuPerCallPct: peakCalls > 0 ? i.driver.cpuPct / peakCalls : null,
  };
  const bins = new Map<number, number>();
  for (const m of mos) {
    const b = Math.floor(m * 10) / 10;
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  const { token, ...options } = i.options;
  return {
    startedAt: new Date(i.startedAtMs).toISOString(),
    elapsedS: i.elapsedS,
    options: token === undefined ? options : { ...options, token: '(set)' },
    daemon: i.daemon,
    speech: i.speech,
    summary,
    latencyCdf: h.cdf(),
    mosHistogram: [...bins].sort((a, b) => a[0] - b[0]).map(([m, calls]) => ({ mos: m, calls })),
    calls: i.calls,
    samples: i.samples,
    driver: i.driver,
    notices: i.notices,
  };
}

/** A call's latency bins (as a caller thread sent them) added to the run's. */
export function mergeLatency(into: LatencyHistogram, result: CallResult, bins: Uint32Array): void {
  if (bins.length !== LATENCY_BINS + 1 || result.latency === null) return;
  const h = new LatencyHistogram(bins);
  h.count = result.latency.count;
  h.sumMs = result.latency.meanMs * result.latency.count;
  h.maxMs = result.latency.maxMs;
  into.merge(h);
}
