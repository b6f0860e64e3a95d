import { callQuality } from '../../qos/callQuality.ts';
import type { ActorStatsView, Runtime, WorkerStatus } from '../../supervisor/Runtime.ts';
import { HistoryRing } from './HistoryRing.ts';
import { conferenceRows } from './conferenceRows.ts';

/**
 * What the dashboard's event stream carries, built once per sample and shared
 * by every open stream. Compact by design: at 1,000 calls /status's objects
 * would be megabytes a second, while a call here is a short run of numbers.
 *
 * Two frames, both one JSON object:
 * - `snapshot` (on connect, and after a stream had to skip an update):
 *   `{ now, daemon, ready, reasons, process, workers, meta, rows, history }`,
 *   `meta` holding every live call;
 * - `update` (each sample): the same with `meta` holding only the calls new
 *   since the previous sample and `point` (the newest history point) in
 *   place of `history`.
 * `meta` entries are `[key, id, transport, createdAtMs]`: a call's key is a
 *   small integer the feed gives it, so its id crosses the wire once.
 * A call's state is 0 (active) or 1 (ending).
 * `rows` is one string of comma-separated integers, CALL_COLUMNS.length
 *   per live call, each a count of its CALL_UNITS (empty where a call has
 *   no such figure); a key not in `rows` is a call that has gone.
 * `workers` are WORKER_COLUMNS arrays; `process` is PROCESS_COLUMNS.
 * `conferences` (conferenceRows.ts) holds each live conference and its
 *   members' level and talk state, while someone watches (else empty).
 */

/** A call row's columns, in order (the page reads them by position). */
export const CALL_COLUMNS = ['key', 'state', 'levelDbfs', 'jitterMs', 'lossPct', 'delayMs', 'concealPct', 'mos'] as const;
/**
 * Each column is sent as an integer count of this unit (jitter in tenths of
 * a millisecond, loss and concealment in hundredths of a percent, MOS in
 * hundredths): integers print several times faster than fractions, which
 * at 1,000 calls is most of a sample's cost.
 */
export const CALL_UNITS: Readonly<Record<(typeof CALL_COLUMNS)[number], number>> = {
  key: 1,
  state: 1,
  levelDbfs: 1,
  jitterMs: 0.1,
  lossPct: 0.01,
  delayMs: 1,
  concealPct: 0.01,
  mos: 0.01,
};
export const WORKER_COLUMNS = ['id', 'kind', 'state', 'restarts', 'actors', 'tickUs', 'maxTickUs', 'lateTicks', 'heapMb', 'lastError'] as const;
export const PROCESS_COLUMNS = ['cpuPct', 'rssMb', 'heapMb', 'uptimeS'] as const;
export { HISTORY_COLUMNS } from './HistoryRing.ts';

/** Where a call's figures are among its actors' stats slots (found once per kind). */
interface JitterSlots {
  received: number;
  lost: number;
  late: number;
  jitterMs: number;
  totalSamples: number;
  concealedSamples: number;
  delayMs: number;
  levelDbfs: number;
}

interface CallEntry {
  readonly id: string;
  key: number;
  /** `[key,"id","transport",createdAtMs]`, made once. */
  meta: string;
  /** The call's jitter actor's and RTP leg's stats, in place (found once: an actor keeps its slots when it moves worker). */
  jitter: ActorStatsView | undefined;
  /** Where the jitter actor's figures are among its slots. */
  slots: JitterSlots | undefined;
  leg: ActorStatsView | undefined;
  /** The leg's `rttMs` slot (-1: it has none). */
  rttAt: number;
  /** The sample that last saw the call: older ones have ended. */
  seen: number;
}

const MB = 1024 * 1024;

/** A number as JSON at `decimals` places; null when it is not a finite number. */
function num(v: number | undefined, decimals: number): string {
  if (v === undefined || !Number.isFinite(v)) return 'null';
  const f = 10 ** decimals;
  return String(Math.round(v * f) / f);
}

/** A figure as a whole count of `unit` (CALL_UNITS); null when it is not a finite number. */
function count(v: number | undefined, unit: number): number | null {
  return v === undefined || !Number.isFinite(v) ? null : Math.round(v / unit);
}

export class DashboardFeed {
  readonly #runtime: Runtime;
  readonly #history: HistoryRing;
  readonly #calls = new Map<string, CallEntry>();
  readonly #jitterSlots = new WeakMap<readonly string[], JitterSlots>();
  readonly #rttSlot = new WeakMap<readonly string[], number>();
  /** Reused for callQuality: the four figures it reads of the jitter actor. */
  readonly #rated: Record<string, number> = { packetsReceived: 0, packetsLost: 0, packetsLate: 0, currentDelayMs: 0 };
  #nextKey = 1;
  #sample = 0;
  #cpuUs = 0;
  #cpuAtMs = 0;
  #cpuPct = 0;
  #head = '';
  #rows = '""';
  /** The rows' figures, reused from sample to sample. */
  readonly #values: Array<number | null> = [];
  #newMeta = '';
  #point = '';

  constructor(runtime: Runtime, historySeconds: number) {
    this.#runtime = runtime;
    this.#history = new HistoryRing(historySeconds);
    const cpu = process.cpuUsage();
    this.#cpuUs = cpu.user + cpu.system;
    this.#cpuAtMs = performance.now();
  }

  /**
   * Reads the runtime: process and workers always, a history point when
   * `history` is set (once a second), and every call's row when `calls` is
   * (someone watches). `takeMaxTick` only while someone watches, so an
   * unwatched daemon leaves /status's longest-tick window alone.
   */
  sample(nowMs: number, opts: { history: boolean; calls: boolean }): void {
    this.#sample++;
    const workers = this.#runtime.workerStatuses({ takeMaxTick: opts.calls });
    const mem = process.memoryUsage();
    const rssMb = mem.rss / MB;
    const atMs = performance.now();
    if (opts.history) {
      const cpu = process.cpuUsage();
      const us = cpu.user + cpu.system;
      if (atMs > this.#cpuAtMs) this.#cpuPct = ((us - this.#cpuUs) / 1000 / (atMs - this.#cpuAtMs)) * 100;
      this.#cpuUs = us;
      this.#cpuAtMs = atMs;
    }
    const live = opts.calls ? this.#readCalls() : this.#runtime.listCalls().length;
    let tickUs = 0;
    for (const w of workers) tickUs = Math.max(tickUs, w.load.tickUs);
    if (opts.history) this.#point = this.#history.push(Math.round(nowMs / 100) / 10, live, this.#cpuPct, tickUs, rssMb);
    const { ready, reasons } = this.#runtime.readiness();
    this.#head =
      `"now":${Math.round(nowMs)},"daemon":${JSON.stringify(this.#runtime.state)},"ready":${ready},"reasons":${JSON.stringify(reasons)},` +
      `"process":[${num(this.#cpuPct, 1)},${num(rssMb, 1)},${num(mem.heapUsed / MB, 1)},${Math.round(process.uptime())}],` +
      `"workers":[${workers.map(workerRow).join(',')}],` +
      `"conferences":${opts.calls ? conferenceRows(this.#runtime.conferences.list()) : '[]'}`;
  }

  /** The last sample as an update frame (JSON text). */
  update(): string {
    return `{${this.#head},"meta":[${this.#newMeta}],"rows":${this.#rows},"point":${this.#point || 'null'}}`;
  }

  /** The last sample as a snapshot frame with the newest `historySeconds` of history. */
  snapshot(historySeconds: number): string {
    let meta = '';
    for (const c of this.#calls.values()) meta += (meta === '' ? '' : ',') + c.meta;
    return `{${this.#head},"meta":[${meta}],"rows":${this.#rows},"history":${this.#history.json(historySeconds)}}`;
  }

  /** Calls in the last sample that read them. */
  get calls(): number {
    return this.#calls.size;
  }

  /** Every live call's row into `#rows`, new calls' meta into `#newMeta`; forgets ended calls. Returns the live count. */
  #readCalls(): number {
    const sample = this.#sample;
    let newMeta = '';
    let live = 0;
    let at = 0;
    for (const call of this.#runtime.listCalls()) {
      if (call.state === 'ended') continue;
      let entry = this.#calls.get(call.id);
      if (entry === undefined) {
        const key = this.#nextKey++;
        entry = {
          id: call.id,
          key,
          meta: `[${key},${JSON.stringify(call.id)},${JSON.stringify(call.transport)},${Date.parse(call.createdAt) || 0}]`,
          jitter: undefined,
          slots: undefined,
          leg: undefined,
          rttAt: -1,
          seen: sample,
        };
        this.#calls.set(call.id, entry);
        newMeta += (newMeta === '' ? '' : ',') + entry.meta;
      }
      entry.seen = sample;
      if (entry.jitter === undefined) this.#findActors(entry, call.actors);
      at = this.#row(entry, call.state === 'ending' ? 1 : 0, at);
      live++;
    }
    for (const entry of this.#calls.values()) if (entry.seen !== sample) this.#calls.delete(entry.id);
    this.#values.length = at;
    // One join of small integers and nulls (which join as nothing): several times faster than printing each figure.
    this.#rows = `"${this.#values.join(',')}"`;
    this.#newMeta = newMeta;
    return live;
  }

  #findActors(entry: CallEntry, actors: readonly string[]): void {
    for (const id of actors) {
      const view = this.#runtime.actorStats(id);
      if (view?.kind === 'jitter') {
        entry.jitter = view;
        entry.slots = this.#slotsOf(view);
      } else if (view?.kind === 'rtp') {
        entry.leg = view;
        entry.rttAt = this.#rttOf(view);
      }
    }
  }

  /** Writes one call's row at `at` in `#values` (key, state, then its figures: callQuality's rating, as /status has it); returns the next index. */
  #row(entry: CallEntry, state: number, at: number): number {
    const out = this.#values;
    out[at] = entry.key;
    out[at + 1] = state;
    const jitter = entry.jitter;
    const s = entry.slots;
    if (jitter === undefined || s === undefined) {
      for (let i = 2; i < CALL_COLUMNS.length; i++) out[at + i] = null;
      return at + CALL_COLUMNS.length;
    }
    const v = jitter.values;
    const leg = entry.leg;
    const rttAt = entry.rttAt;
    const rated = this.#rated;
    rated['packetsReceived'] = v[s.received] ?? 0;
    rated['packetsLost'] = v[s.lost] ?? 0;
    rated['packetsLate'] = v[s.late] ?? 0;
    rated['currentDelayMs'] = v[s.delayMs] ?? 0;
    const rating = callQuality(jitter.codec, rated, leg !== undefined && rttAt >= 0 ? leg.values[rttAt] : undefined);
    const total = v[s.totalSamples] ?? 0;
    const u = CALL_UNITS;
    out[at + 2] = count(v[s.levelDbfs], u.levelDbfs);
    out[at + 3] = count(v[s.jitterMs], u.jitterMs);
    out[at + 4] = count(rating?.lossPct, u.lossPct);
    out[at + 5] = count(v[s.delayMs], u.delayMs);
    out[at + 6] = count(total > 0 ? ((v[s.concealedSamples] ?? 0) / total) * 100 : undefined, u.concealPct);
    out[at + 7] = count(rating?.mos, u.mos);
    return at + CALL_COLUMNS.length;
  }

  #slotsOf(view: ActorStatsView): JitterSlots {
    let s = this.#jitterSlots.get(view.names);
    if (s === undefined) {
      // A missing name indexes past the slots: its figure reads undefined, shown as null.
      const at = (name: string): number => {
        const i = view.names.indexOf(name);
        return i < 0 ? view.names.length : i;
      };
      s = {
        received: at('packetsReceived'),
        lost: at('packetsLost'),
        late: at('packetsLate'),
        jitterMs: at('jitterMs'),
        totalSamples: at('totalSamplesReceived'),
        concealedSamples: at('concealedSamples'),
        delayMs: at('currentDelayMs'),
        levelDbfs: at('levelDbfs'),
      };
      this.#jitterSlots.set(view.names, s);
    }
    return s;
  }

  #rttOf(view: ActorStatsView): number {
    let i = this.#rttSlot.get(view.names);
    if (i === undefined) {
      i = view.names.indexOf('rttMs');
      this.#rttSlot.set(view.names, i);
    }
    return i;
  }
}

function workerRow(w: WorkerStatus): string {
  const l = w.load;
  return (
    `[${JSON.stringify(w.id)},${JSON.stringify(w.kind)},${JSON.stringify(w.state)},${w.restarts},${w.actors},` +
    `${num(l.tickUs, 0)},${num(l.maxTickUs, 0)},${num(l.lateTicks, 0)},${num(l.heapMb, 0)},${w.lastError === undefined ? 'null' : JSON.stringify(w.lastError)}]`
  );
}
