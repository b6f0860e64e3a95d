import type { Logger } from 'pino';
import { TICK_BOUNDS_US } from '../frames/heartbeat.ts';
import type { ActorKind } from '../actors/ActorKind.ts';
import type { ActorRecord } from './ActorRecord.ts';
import { RequestError, type WorkerStatus } from './Runtime.ts';
import { StandbyThreads } from './StandbyThreads.ts';
import { WorkerSlot, type SlotOptions } from './WorkerSlot.ts';

/** What every slot of every pool is given besides its position: the supervisor's log, clock, restart limit and hooks. */
export type PoolSlotOptions = Omit<SlotOptions, 'id' | 'kind' | 'threads'>;

/**
 * One host's pool (an actor kind's, or the call workers'), started: its source of loaded spare threads and a
 * WorkerSlot per position (`media-0`, `media-1`, …), with a promise per slot
 * for its first ready.
 */
export function startPool(
  kind: Pick<ActorKind, 'name' | 'entry'>,
  count: number,
  thread: { tickMs: number; logLevel: string; maxOldGenerationSizeMb: number; log: Logger; keepSpare: boolean },
  slotOpts: PoolSlotOptions,
): { threads: StandbyThreads; slots: WorkerSlot[]; ready: Promise<void>[] } {
  const threads = new StandbyThreads({
    entry: `../actors/${kind.entry.replace(/^\.\//, '')}`,
    boot: { kind: kind.name, tickMs: thread.tickMs, logLevel: thread.logLevel },
    maxOldGenerationSizeMb: thread.maxOldGenerationSizeMb,
    log: thread.log,
    keepSpare: thread.keepSpare,
  });
  const slots: WorkerSlot[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const slot = new WorkerSlot({ id: `${kind.name}-${i}`, kind: kind.name, threads, ...slotOpts });
    slots.push(slot);
    slot.start();
    ready.push(slot.whenReady());
  }
  return { threads, slots, ready };
}

/**
 * Where a new actor goes: the live worker of its kind with the fewest actors,
 * then the shortest tick; overloaded workers (ticks filling the frame, heap
 * nearly full) only when `shed` is off. Load is shed before it kills: a new
 * call is refused (503) rather than placed where every call would suffer.
 */
export function leastLoaded(
  slots: readonly WorkerSlot[],
  actors: ReadonlyMap<string, ActorRecord>,
  kindName: string,
  shed = true,
): WorkerSlot {
  const alive = slots.filter((s) => s.state !== 'failed' && s.state !== 'stopped');
  if (alive.length === 0) throw new RequestError(503, `no live worker for actor kind "${kindName}"`);
  const live = shed ? alive.filter((s) => s.overloaded() === undefined) : alive;
  if (live.length === 0) throw new RequestError(503, `not taking calls: ${alive.map((s) => s.overloaded()).join('; ')}`);
  const count = (s: WorkerSlot): number => {
    let n = 0;
    for (const a of actors.values()) if (a.slot === s) n++;
    return n;
  };
  let best = live[0]!;
  let bestLoad = count(best);
  for (const s of live.slice(1)) {
    const load = count(s);
    if (load < bestLoad || (load === bestLoad && (s.heartbeat?.tickUs ?? 0) < (best.heartbeat?.tickUs ?? 0))) {
      best = s;
      bestLoad = load;
    }
  }
  return best;
}

/** A worker's figures for /status: its state, its actors and the load its heartbeat block reports. */
export function workerStatus(s: WorkerSlot, now: number, records: ReadonlyMap<string, ActorRecord>, takeMaxTick = true): WorkerStatus {
  const hb = s.heartbeat;
  let actors = 0;
  for (const a of records.values()) if (a.slot === s) actors++;
  const st: WorkerStatus = {
    id: s.id,
    kind: s.kind,
    state: s.state,
    restarts: s.restarts,
    heartbeatAgeMs: Math.round(s.heartbeatAgeMs(now)),
    starvedMs: Math.round(s.starvedMs),
    osThreadId: hb?.osThreadId ?? 0,
    actors,
    load: {
      framesProcessed: hb?.framesProcessed ?? 0,
      tickUs: hb?.tickUs ?? 0,
      maxTickUs: takeMaxTick ? (hb?.takeMaxTickUs() ?? 0) : 0,
      lateTicks: hb?.lateTicks ?? 0,
      heapMb: hb?.heapMb ?? 0,
      tickHistogram: hb?.tickHistogram() ?? new Array<number>(TICK_BOUNDS_US.length + 1).fill(0),
    },
  };
  if (s.lastError !== undefined) st.lastError = s.lastError;
  return st;
}
