import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from '../load/CallerThread.ts';
import { startDaemonChild } from '../load/daemonChild.ts';
import { daemonRequest } from '../load/daemonHttp.ts';
import { Prng } from '../load/prng.ts';
import type { LoadReport } from '../load/report.ts';
import { runLoad, type LoadHooks } from '../load/runLoad.ts';
import { attributeGaps, CHAOS_FAULTS, pickFault, type ChaosFault, type GapVerdict, type InjectedFault } from './faultPlan.ts';

/**
 * `npm run chaos`: calls under load (the load driver's RTP callers through
 * the loopback agent) while the daemon's call workers are crashed, hung,
 * run out of memory, exit and are terminated at random, one fault every
 * `everyS` seconds, through the fault-injection route of a daemon started for
 * the run. What it measures: calls dropped, the silence each fault cost the
 * calls of its worker, silences on calls no fault touched, restarts.
 */

export interface ChaosOptions {
  calls: number;
  durationS: number;
  everyS: number;
  kinds?: readonly ChaosFault[];
  seed?: number;
  /** Calls started per second. */
  ramp?: number;
  speechDir?: string;
}

export interface ChaosReport {
  options: Required<Omit<ChaosOptions, 'speechDir'>>;
  load: LoadReport;
  faults: InjectedFault[];
  verdict: GapVerdict;
  /** Calls that did not complete (refused, failed, ended by the daemon). */
  dropped: number;
  workers: Array<{ id: string; state: string; restarts: number; lastError?: string }>;
}

/** No fault in the run's last seconds: the last one's calls must be seen to recover. */
const QUIET_TAIL_S = 4;
/** After the ramp, before the first fault: every call up and returning audio. */
const SETTLE_S = 2;

interface StatusWorker {
  id: string;
  kind: string;
  state: string;
  restarts: number;
  lastError?: string;
}
interface StatusBody {
  workers: StatusWorker[];
  actors: Array<{ id: string; worker: string }>;
  calls: Array<{ id: string; actors: string[] }>;
}

export async function runChaos(options: ChaosOptions, hooks: LoadHooks = {}): Promise<ChaosReport> {
  const o = { kinds: CHAOS_FAULTS, seed: 1, ramp: 50, ...options };
  if (!(o.durationS > SETTLE_S + QUIET_TAIL_S + o.calls / o.ramp)) {
    throw new RangeError(`chaos: ${o.durationS} s is too short for the ramp, ${SETTLE_S} s of settling and ${QUIET_TAIL_S} quiet seconds at the end`);
  }
  const child = await startDaemonChild(o.calls, o.seed, ['--enable-fault-injection']);
  const faults: InjectedFault[] = [];
  try {
    const loadRun = runLoad(
      {
        streams: o.calls,
        transport: 'rtp',
        codec: 'pcmu',
        agent: 'loopback',
        ramp: o.ramp,
        duration: o.durationS,
        seed: o.seed,
        target: child.baseUrl,
        ...(o.speechDir !== undefined ? { speechDir: o.speechDir } : {}),
      },
      hooks,
    );
    const startedAt = nowMs();
    const stopFaultsAt = startedAt + (o.calls / o.ramp + o.durationS - QUIET_TAIL_S) * 1000;
    const prng = new Prng(o.seed ^ 0x5eedc4a0);
    await sleep((o.calls / o.ramp + SETTLE_S) * 1000);
    while (nowMs() < stopFaultsAt) {
      faults.push(await injectOne(child.baseUrl, prng, o.kinds));
      const next = Math.min(stopFaultsAt, nowMs() + o.everyS * 1000);
      await sleep(Math.max(0, next - nowMs()));
    }
    const load = await loadRun;
    const status = (await daemonRequest(child.baseUrl, 'GET', '/status?calls=false')).json as { workers: StatusWorker[] };
    return {
      options: { calls: o.calls, durationS: o.durationS, everyS: o.everyS, kinds: o.kinds, seed: o.seed, ramp: o.ramp },
      load,
      faults,
      verdict: attributeGaps(faults, load.calls),
      dropped: load.calls.filter((c) => c.outcome !== 'completed').length,
      workers: status.workers.map(({ id, state, restarts, lastError }) => ({ id, state, restarts, ...(lastError !== undefined ? { lastError } : {}) })),
    };
  } finally {
    await child.stop();
  }
}

/** One fault on a ready call worker (media workers where calls are placed by kind), with the calls it hosts. */
async function injectOne(baseUrl: string, prng: Prng, kinds: readonly ChaosFault[]): Promise<InjectedFault> {
  const status = (await daemonRequest(baseUrl, 'GET', '/status')).json as StatusBody;
  const workerOf = new Map(status.actors.map((a) => [a.id, a.worker]));
  const hosting = new Map<string, string[]>();
  for (const c of status.calls) {
    for (const w of new Set(c.actors.map((a) => workerOf.get(a)))) {
      if (w !== undefined) hosting.set(w, [...(hosting.get(w) ?? []), c.id]);
    }
  }
  const candidates = status.workers.filter((w) => w.state === 'ready' && hosting.has(w.id)).map((w) => w.id);
  if (candidates.length === 0) return { atMs: nowMs(), worker: '-', kind: kinds[0]!, calls: [], error: 'no ready worker hosts a call' };
  const { worker, kind } = pickFault(prng, candidates, kinds);
  const atMs = nowMs();
  const res = await daemonRequest(baseUrl, 'POST', `/v1/faults/${encodeURIComponent(worker)}`, { body: { kind } });
  const fault: InjectedFault = { atMs, worker, kind, calls: hosting.get(worker)! };
  if (res.status !== 202) fault.error = `HTTP ${res.status}: ${JSON.stringify(res.json).slice(0, 200)}`;
  return fault;
}
