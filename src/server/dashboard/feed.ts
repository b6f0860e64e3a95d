import { callQuality } from '../../qos/callQuality.ts';
import type { ActorStatsView, CallInfo, Runtime, WorkerStatus } from '../../supervisor/Runtime.ts';
import { HistoryRing } from './HistoryRing.ts';

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
 * `rows` is flat, CALL_COLUMNS.length numbers per live call (null where a
 *   call has no such figure); a key not in `rows` is a call that has gone.
 * `workers` are WORKER_COLUMNS arrays; `process` is PROCESS_COLUMNS.
 */

/** A call row's columns, in order (the page reads them by position). */
export const CALL_COLUMNS = ['key', 'state', 'levelDbfs', 'jitterMs', 'lossPct', 'delayMs', 'concealPct', 'mos'] as const;
export const WORKER_COLUMNS = ['id', 'kind', 'state', 'restarts', 'actors', 'tickUs', 'maxTickUs', 'lateTicks', 'heapMb', 'lastError'] as const;
export const PROCESS_COLUMNS = ['cpuPct', 'rssMb', 'heapMb', 'uptimeS'] as const;
export { HISTORY_COLUMNS } from './HistoryRing.ts';

/** A call's state on the wire: 0 active, 1 ending. */
const STATE_CODE: Readonly<Record<CallInfo['state'], number>> = { active: 0, ending: 1, ended: 2 };

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
  key: number;
  /** `[key,"id","transport",createdAtMs]`, made once. */
  meta: string;
  jitterActor: string | undefined;
  legActor: string | undefined;
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
  #rows = '';
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
    const rssMb = process.memoryUsage.rss() / MB;
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
      `"process":[${num(this.#cpuPct, 1)},${num(rssMb, 1)},${num(process.memoryUsage().heapUsed / MB, 1)},${Math.round(process.uptime())}],` +
      `"workers":[${workers.map(workerRow).join(',')}]`;
  }

  /** The last sample as an update frame (JSON text). */
  update(): string {
    return `{${this.#head},"meta":[${this.#newMeta}],"rows":[${this.#rows}],"point":${this.#point || 'null'}}`;
  }

  /** The last sample as a snapshot frame with the newest `historySeconds` of history. */
  snapshot(historySeconds: number): string {
    let meta = '';
    for (const c of this.#calls.values()) meta += (meta === '' ? '' : ',') + c.meta;
    return `{${this.#head},"meta":[${meta}],"rows":[${this.#rows}],"history":${this.#history.json(historySeconds)}}`;
  }

  /** Calls in the last sample that read them. */
  get calls(): number {
    return this.#calls.size;
  }

  /** Every live call's row into `#rows`, new calls' meta into `#newMeta`; forgets ended calls. Returns the live count. */
  #readCalls(): number {
    const sample = this.#sample;
    let rows = '';
    let newMeta = '';
    let live = 0;
    for (const call of this.#runtime.listCalls()) {
      if (call.state === 'ended') continue;
      let entry = this.#calls.get(call.id);
      if (entry === undefined) {
        const key = this.#nextKey++;
        entry = {
          key,
          meta: `[${key},${JSON.stringify(call.id)},${JSON.stringify(call.transport)},${Date.parse(call.createdAt) || 0}]`,
          jitterActor: undefined,
          legActor: undefined,
          seen: sample,
        };
        this.#calls.set(call.id, entry);
        newMeta += (newMeta === '' ? '' : ',') + entry.meta;
      }
      entry.seen = sample;
      if (entry.jitterActor === undefined) this.#findActors(entry, call.actors);
      rows += (live === 0 ? '' : ',') + this.#row(entry, STATE_CODE[call.state]);
      live++;
    }
    for (const [id, entry] of this.#calls) if (entry.seen !== sample) this.#calls.delete(id);
    this.#rows = rows;
    this.#newMeta = newMeta;
    return live;
  }

  #findActors(entry: CallEntry, actors: readonly string[]): void {
    for (const id of actors) {
      const kind = this.#runtime.actorStats(id)?.kind;
      if (kind === 'jitter') entry.jitterActor = id;
      else if (kind === 'rtp') entry.legActor = id;
    }
  }

  /** One call's row: key, state, then its figures (callQuality's rating, as /status has it). */
  #row(entry: CallEntry, state: number): string {
    const jitter = entry.jitterActor === undefined ? undefined : this.#runtime.actorStats(entry.jitterActor);
    if (jitter === undefined) return `${entry.key},${state},null,null,null,null,null,null`;
    const s = this.#slotsOf(jitter);
    const v = jitter.values;
    const leg = entry.legActor === undefined ? undefined : this.#runtime.actorStats(entry.legActor);
    const rttAt = leg === undefined ? -1 : this.#rttOf(leg);
    const rated = this.#rated;
    rated['packetsReceived'] = v[s.received] ?? 0;
    rated['packetsLost'] = v[s.lost] ?? 0;
    rated['packetsLate'] = v[s.late] ?? 0;
    rated['currentDelayMs'] = v[s.delayMs] ?? 0;
    const rating = callQuality(jitter.codec, rated, leg !== undefined && rttAt >= 0 ? leg.values[rttAt] : undefined);
    const total = v[s.totalSamples] ?? 0;
    const conceal = total > 0 ? ((v[s.concealedSamples] ?? 0) / total) * 100 : undefined;
    return (
      `${entry.key},${state},${num(v[s.levelDbfs], 0)},${num(v[s.jitterMs], 1)},${num(rating?.lossPct, 2)},` +
      `${num(v[s.delayMs], 0)},${num(conceal, 2)},${num(rating?.mos, 2)}`
    );
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
