import { TICK_BOUNDS_US } from '../frames/heartbeat.ts';
import { daemonRequest } from './daemonHttp.ts';

/**
 * The daemon's own figures, read from `GET /status?calls=false` (the report
 * without a row per call, whose cost does not grow with the calls; a daemon
 * that does not know the query gets plain `/status`) once a second: process
 * CPU (as % of one core over the interval) and memory, live calls, and per
 * worker its state, restarts, actors and load. /status gives tick times as
 * cumulative counters by bucket (≤ 1, 2, 5, 10, 20 ms, longer) and the
 * longest tick since the last read, so tick percentiles over an interval are
 * the differences of the counters, interpolated within a bucket — an upper
 * bound no finer than the buckets.
 */

export interface WorkerSample {
  id: string;
  kind: string;
  state: string;
  restarts: number;
  actors: number;
  tickUs: number;
  maxTickUs: number;
  lateTicks: number;
  heapMb: number;
}

export interface TickFigures {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number;
  lateTicks: number;
}

export interface DaemonSample {
  /** Seconds since the run began. */
  t: number;
  calls: number;
  cpuPct: number | null;
  rssBytes: number;
  heapUsedBytes: number;
  tick: TickFigures;
  workers: WorkerSample[];
  /** What reading /status cost: its size and the time it took. */
  statusBytes: number;
  statusMs: number;
  /** The legs' engine-latency histogram over the live calls (playout to the wire), where the daemon gives it. */
  engineLatency: Record<string, number>;
}

interface RawWorker {
  id?: string;
  kind?: string;
  state?: string;
  restarts?: number;
  actors?: number;
  load?: { tickUs?: number; maxTickUs?: number; lateTicks?: number; heapMb?: number; tickHistogram?: number[] };
}
interface RawStatus {
  workers?: RawWorker[];
  /** Live calls by transport (`?calls=false`), or one row per call. */
  calls?: unknown[] | Record<string, number>;
  /** The legs' engine-latency histograms summed over the live calls (`?calls=false`). */
  engineLatency?: Record<string, number>;
  process?: { rssBytes?: number; heapUsedBytes?: number; cpuUserUs?: number; cpuSystemUs?: number };
}

const BUCKETS = TICK_BOUNDS_US.length + 1;

/** The q-quantile (0–1) of ticks counted by bucket, ms; the open last bucket reads as the longest tick. */
export function tickQuantile(counts: ArrayLike<number>, q: number, maxMs: number): number | null {
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    const n = counts[b]!;
    if (n > 0 && seen + n >= rank) {
      if (b >= TICK_BOUNDS_US.length) return Math.max(maxMs, TICK_BOUNDS_US[TICK_BOUNDS_US.length - 1]! / 1000);
      const lo = b === 0 ? 0 : TICK_BOUNDS_US[b - 1]! / 1000;
      const hi = TICK_BOUNDS_US[b]! / 1000;
      return lo + ((hi - lo) * (rank - seen)) / n;
    }
    seen += n;
  }
  return maxMs;
}

export class StatusSampler {
  readonly samples: DaemonSample[] = [];
  /** Tick counts summed over the intervals in which calls were live, by bucket. */
  readonly runTicks = new Float64Array(BUCKETS);
  runMaxTickMs = 0;
  runLateTicks = 0;
  errors = 0;
  lastError = '';

  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #t0: number;
  #path = '/status?calls=false';
  #prevCpuUs = Number.NaN;
  #prevAt = 0;
  readonly #prevHist = new Map<string, { hist: number[]; late: number }>();

  constructor(baseUrl: string, token: string | undefined, t0Ms: number) {
    this.#baseUrl = baseUrl;
    this.#token = token;
    this.#t0 = t0Ms;
  }

  async sample(): Promise<DaemonSample | undefined> {
    const started = performance.now();
    let raw: RawStatus;
    let bytes: number;
    try {
      const auth = this.#token !== undefined ? { token: this.#token } : {};
      let res = await daemonRequest(this.#baseUrl, 'GET', this.#path, auth);
      if (res.status === 400 && this.#path !== '/status') {
        this.#path = '/status';
        res = await daemonRequest(this.#baseUrl, 'GET', this.#path, auth);
      }
      if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
      raw = res.json as RawStatus;
      bytes = res.bytes;
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
      return undefined;
    }
    const at = performance.now();
    const proc = raw.process ?? {};
    const cpuUs = (proc.cpuUserUs ?? 0) + (proc.cpuSystemUs ?? 0);
    const cpuPct = Number.isNaN(this.#prevCpuUs) ? null : (100 * (cpuUs - this.#prevCpuUs)) / ((at - this.#prevAt) * 1000);
    this.#prevCpuUs = cpuUs;
    this.#prevAt = at;
    const calls = Array.isArray(raw.calls) ? raw.calls.length : Object.values(raw.calls ?? {}).reduce((n, v) => n + (typeof v === 'number' ? v : 0), 0);
    const interval = new Array<number>(BUCKETS).fill(0);
    let maxMs = 0;
    let late = 0;
    const workers: WorkerSample[] = (raw.workers ?? []).map((w) => {
      const load = w.load ?? {};
      const id = String(w.id ?? '?');
      const hist = load.tickHistogram ?? [];
      const prev = this.#prevHist.get(id);
      const lateTicks = load.lateTicks ?? 0;
      // Only workers carrying actors: idle ones tick in microseconds and would pull the percentiles down.
      if (prev !== undefined && (w.actors ?? 0) > 0) {
        // The counters are 32-bit and wrap; a restarted worker starts again from zero.
        for (let b = 0; b < BUCKETS; b++) {
          const d = ((hist[b] ?? 0) - (prev.hist[b] ?? 0)) >>> 0;
          if (d < 2 ** 31) interval[b]! += d;
        }
        late += Math.max(0, lateTicks - prev.late);
        maxMs = Math.max(maxMs, (load.maxTickUs ?? 0) / 1000);
      }
      this.#prevHist.set(id, { hist: hist.slice(), late: lateTicks });
      return {
        id,
        kind: String(w.kind ?? '?'),
        state: String(w.state ?? '?'),
        restarts: w.restarts ?? 0,
        actors: w.actors ?? 0,
        tickUs: load.tickUs ?? 0,
        maxTickUs: load.maxTickUs ?? 0,
        lateTicks,
        heapMb: load.heapMb ?? 0,
      };
    });
    if (calls > 0) {
      for (let b = 0; b < BUCKETS; b++) this.runTicks[b]! += interval[b]!;
      this.runMaxTickMs = Math.max(this.runMaxTickMs, maxMs);
      this.runLateTicks += late;
    }
    const sample: DaemonSample = {
      t: (performance.timeOrigin + at - this.#t0) / 1000,
      calls,
      cpuPct,
      rssBytes: proc.rssBytes ?? 0,
      heapUsedBytes: proc.heapUsedBytes ?? 0,
      tick: { p50Ms: tickQuantile(interval, 0.5, maxMs), p99Ms: tickQuantile(interval, 0.99, maxMs), maxMs, lateTicks: late },
      workers,
      statusBytes: bytes,
      statusMs: at - started,
      engineLatency: raw.engineLatency ?? {},
    };
    this.samples.push(sample);
    return sample;
  }
}
