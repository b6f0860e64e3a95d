import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from '../load/CallerThread.ts';
import { startDaemonChild } from '../load/daemonChild.ts';
import { daemonRequest } from '../load/daemonHttp.ts';
import { MAX_STREAMS } from '../load/LoadOptions.ts';
import type { LoadReport } from '../load/report.ts';
import { runLoad } from '../load/runLoad.ts';
import { analyseSoak, type IdleCounts, type SoakSample, type SoakVerdict } from './soakAnalysis.ts';

/**
 * `npm run soak`: `calls` calls live at once for `durationS`, churned — each
 * lasts `callS` and is replaced as it ends (the load driver's RTP callers
 * through the loopback agent, a daemon started for the run) — while the
 * daemon's memory, descriptors, handles, timers and RTP ports are sampled.
 * The idle counts before the first call and after the last are compared.
 */

export interface SoakOptions {
  calls: number;
  durationS: number;
  /** How long each call lasts. */
  callS?: number;
  sampleS?: number;
  seed?: number;
  speechDir?: string;
}

export interface SoakReport {
  options: Required<Omit<SoakOptions, 'speechDir'>>;
  samples: SoakSample[];
  before: IdleCounts;
  after: IdleCounts;
  verdict: SoakVerdict;
  callsPlaced: number;
  callsCompleted: number;
  callsFailed: number;
  restarts: number;
}

/** After the last call: its teardown (RTCP BYE grace, port release) settles before the idle counts. */
const SETTLE_MS = 3_000;

interface Summary {
  /** Live calls by transport. */
  calls: Record<string, number>;
  workers: Array<{ restarts: number; load: { heapMb: number } }>;
  process: { rssBytes: number; heapUsedBytes: number; fds: number; timers: number; handles: number };
}

async function portsInUse(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const m = /^switchboard_rtp_port_pairs\{state="in_use"\} (\d+)/m.exec(await res.text());
  return m === null ? 0 : Number(m[1]);
}

async function sample(baseUrl: string, t: number): Promise<SoakSample & { restarts: number }> {
  const s = (await daemonRequest(baseUrl, 'GET', '/status?calls=false')).json as Summary;
  return {
    t,
    calls: Object.values(s.calls).reduce((n, c) => n + c, 0),
    rssBytes: s.process.rssBytes,
    heapUsedBytes: s.process.heapUsedBytes,
    workerHeapMb: s.workers.reduce((n, w) => n + w.load.heapMb, 0),
    fds: s.process.fds,
    timers: s.process.timers,
    handles: s.process.handles,
    rtpPortsInUse: await portsInUse(baseUrl),
    restarts: s.workers.reduce((n, w) => n + w.restarts, 0),
  };
}

export async function runSoak(options: SoakOptions, onSample?: (s: SoakSample) => void): Promise<SoakReport> {
  const o = { callS: 30, sampleS: 5, seed: 1, ...options };
  if (!(o.calls >= 1 && o.durationS >= o.callS && o.callS >= 1)) throw new RangeError(`soak: needs calls ≥ 1 and a duration of at least one call (${o.callS} s)`);
  const child = await startDaemonChild(o.calls, o.seed);
  try {
    await sleep(1000);
    const { restarts: _r0, ...idle0 } = await sample(child.baseUrl, 0);
    const ramp = o.calls / o.callS;
    // The run's calls in blocks the load driver takes at once; each block starts as the one before
    // stops starting calls, so the calls live stay at `calls` across the seams.
    const total = Math.max(o.calls, Math.round(ramp * o.durationS));
    const runs: Array<Promise<LoadReport>> = [];
    const started = nowMs();
    const samples: SoakSample[] = [];
    let placed = 0;
    let blockAtS = 0;
    const stopSampling = new AbortController();
    const sampling = (async () => {
      while (!stopSampling.signal.aborted) {
        const s = await sample(child.baseUrl, (nowMs() - started) / 1000).catch(() => undefined);
        if (s !== undefined) {
          samples.push(s);
          onSample?.(s);
        }
        await sleep(o.sampleS * 1000, undefined, { signal: stopSampling.signal }).catch(() => undefined);
      }
    })();
    while (placed < total) {
      const streams = Math.min(MAX_STREAMS, total - placed);
      const wait = started + blockAtS * 1000 - nowMs();
      if (wait > 0) await sleep(wait);
      runs.push(runLoad({ streams, ramp, duration: o.callS, seed: o.seed + placed, target: child.baseUrl, ...(o.speechDir !== undefined ? { speechDir: o.speechDir } : {}) }));
      placed += streams;
      blockAtS += streams / ramp;
    }
    const reports = await Promise.all(runs);
    stopSampling.abort();
    await sampling;
    await sleep(SETTLE_MS);
    const last = await sample(child.baseUrl, (nowMs() - started) / 1000);
    const calls = reports.flatMap((r) => r.calls);
    return {
      options: { calls: o.calls, durationS: o.durationS, callS: o.callS, sampleS: o.sampleS, seed: o.seed },
      samples,
      before: idle0,
      after: last,
      verdict: analyseSoak(samples, o.durationS, idle0, last),
      callsPlaced: calls.length,
      callsCompleted: calls.filter((c) => c.outcome === 'completed').length,
      callsFailed: calls.filter((c) => c.outcome !== 'completed').length,
      restarts: last.restarts,
    };
  } finally {
    await child.stop();
  }
}
