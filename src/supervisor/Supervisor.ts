import type { Recorder } from '../recording/Recorder.ts';
import { createActor as createXstateActor } from 'xstate';
import type { Logger } from 'pino';
import { FrameRing } from '../frames/FrameRing.ts';
import type { ActorCommand, ActorConfig, WorkerEvent } from '../protocol.ts';
import { CALL_HOST, CALL_WORKER_ENTRY, hostOf, type ActorKind, type Placement, type PoolName } from '../actors/ActorKind.ts';
import { ACTOR_KINDS } from '../actors/registry.ts';
import { daemonMachine } from './daemonMachine.ts';
import { createRuntimeMetrics } from './metrics.ts';
import {
  RequestError,
  type ActorStatsView,
  type ActorStatus,
  type CallInfo,
  type CallRequest,
  type DaemonState,
  type FaultKind,
  type Runtime,
  type RuntimeStatus,
  type WorkerState,
  type WorkerStatus,
} from './Runtime.ts';
import { syntheticTransport, type Transport } from '../calls/transports.ts';
import type { DevicesStatus } from '../devices/DeviceCatalog.ts';
import { actorStatus, type ActorRecord } from './ActorRecord.ts';
import { CallRegistry } from '../calls/CallRegistry.ts';
import { ConferenceRegistry } from '../conferences/ConferenceRegistry.ts';
import { leastLoaded, startPool, workerStatus, type PoolSlotOptions } from './workerPool.ts';
import type { StandbyThreads } from './StandbyThreads.ts';
import type { WorkerSlot } from './WorkerSlot.ts';
import { MemoryReclaimer } from './MemoryReclaimer.ts';
import { moveActors, type RehomeHost } from './rehome.ts';
import { EDGES } from '../frames/edges.ts';
import { processFigures } from '../processFigures.ts';
import { SyncGroupError, SyncGroups, type SyncGroupStatus } from '../sync/SyncGroups.ts';
import { ConferenceSync } from '../sync/conferenceSync.ts';

/** How often the watchdog samples heartbeats; well under the 500 ms hang limit. */
export const WATCHDOG_INTERVAL_MS = 50;
/** 20 ms frames everywhere (DESIGN: audio frames). */
export const TICK_MS = 20;
/** Per-worker V8 old-space cap: an allocation storm kills one worker, not the process. */
export const WORKER_HEAP_MB = 256;

export { CALL_EVENTS_KEPT } from '../calls/CallRegistry.ts';

export interface SupervisorOptions {
  poolSizes: Record<PoolName, number>;
  logLevel: string;
  log: Logger;
  /** Actor kinds by name (default: the registry). */
  kinds?: Readonly<Record<string, ActorKind>>;
  transports?: readonly Transport[];
  /** The sound devices for /status (the daemon's scan); absent: /status has no `devices`. */
  devices?: () => DevicesStatus;
  now?: () => number;
  workerHeapMb?: number;
  /** Overrides the restart intensity limit and the failed worker's cool-down (benchmarks, tests). */
  restartIntensity?: { maxRestarts: number; windowMs: number; coolDownMs?: number };
  /** Calls taken at once at most; beyond, new ones are refused with 503 (default: unlimited). */
  maxCalls?: number;
  /** What /metrics shows of calls (config `metrics.*`). */
  metrics?: Parameters<typeof createRuntimeMetrics>[1];
  /** Where a call's actors run (ActorKind.ts; default `kind`); call workers are as many as media workers. */
  placement?: Placement;
  /** Writes the recordings of calls that ask for one (without it, `record: true` is refused). */
  recorder?: Recorder | undefined;
  /**
   * Keep one loaded spare thread per worker kind (default true; config `spareThreads`): a crashed
   * worker's actors are serving again in milliseconds instead of after a thread load. Off, each
   * kind has one isolate less (memory-tight machines, short-lived runtimes), and a crash moves its
   * actors to a live sibling where there is one, else waits for a new thread.
   */
  spareThreads?: boolean;
}

/**
 * The supervisor: keeps one WorkerSlot per worker position, places actors on
 * the least-loaded worker of their kind, re-creates them (same configuration,
 * same rings) when their worker restarts, and keeps the call registry.
 */
export class Supervisor implements Runtime {
  readonly #opts: SupervisorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #daemon = createXstateActor(daemonMachine);
  readonly #slots = new Map<string, WorkerSlot[]>();
  readonly #actors = new Map<string, ActorRecord>();
  readonly #calls: CallRegistry;
  readonly conferences: ConferenceRegistry;
  readonly #kinds: Readonly<Record<string, ActorKind>>;
  readonly #standby = new Map<string, StandbyThreads>();
  readonly #metrics: ReturnType<typeof createRuntimeMetrics>;
  readonly #reclaimer: MemoryReclaimer;
  #watchdog: NodeJS.Timeout | undefined;
  #nextActor = 1;
  #stopping: Promise<void> | undefined;
  readonly #sync: SyncGroups;
  /** A conference's members form a sync group. */
  readonly #conferenceSync: ConferenceSync;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? (() => performance.now());
    this.#kinds = opts.kinds ?? ACTOR_KINDS;
    this.#calls = new CallRegistry(
      {
        log: this.#log,
        state: () => this.state,
        createActor: (kind, config, callId, shared) => this.createActor(kind, config, callId, shared),
        destroyActor: (actorId) => this.destroyActor(actorId),
        ringOf: (actorId, name) => this.ringOf(actorId, name),
        actor: (actorId) => this.#actors.get(actorId),
        countCall: (transport) => this.#metrics.callsTotal.inc({ transport }),
        countEnded: (transport, reason) => this.#metrics.callsEnded.inc({ transport, reason }),
        maxCalls: () => this.#opts.maxCalls ?? Infinity,
        overloaded: () => this.#overloaded(),
        ringEdge: (kind, role) => this.#kinds[kind]?.rings.find((r) => r.name === role)?.edge,
        callEnding: (callId) => this.conferences.callEnding(callId),
        recorder: opts.recorder,
      },
      opts.transports ?? [syntheticTransport],
    );
    this.conferences = new ConferenceRegistry({
      log: this.#log,
      state: () => this.state,
      createActor: (kind, config, shared) => this.createActor(kind, config, undefined, shared),
      destroyActor: (actorId) => this.destroyActor(actorId),
      commandActor: (actorId, command) => this.commandActor(actorId, command),
      actor: (actorId) => this.#actors.get(actorId),
      detachAgent: (callId, conferenceId) => this.#calls.detachAgent(callId, conferenceId),
      attachAgent: (callId, seat) => this.#calls.attachAgent(callId, seat),
      recorder: opts.recorder,
      memberJoined: (conference, callId, mixerId, slot) => this.#conferenceSync.memberJoined(conference, callId, mixerId, slot),
      memberLeft: (conference, callId) => this.#conferenceSync.memberLeft(conference, callId),
    });
    this.#metrics = createRuntimeMetrics(this, opts.metrics);
    this.#reclaimer = new MemoryReclaimer(() => this.#allSlots(), this.#log);
    this.#sync = new SyncGroups(this, this.#log);
    this.#conferenceSync = new ConferenceSync(this.#sync, (id) => this.#actors.get(id)?.stats, this.#log);
    this.#daemon.start();
  }

  get state(): DaemonState {
    return this.#daemon.getSnapshot().value as DaemonState;
  }

  get recordings(): Recorder | undefined {
    return this.#opts.recorder;
  }

  get metrics(): RuntimeMetricsRegistry {
    return this.#metrics.registry;
  }

  /** Starts one worker per position of every kind's pool; resolves when all are ready and a spare of each kind is loaded. */
  async start(): Promise<void> {
    const starting: Promise<void>[] = [];
    const slotOpts: PoolSlotOptions = {
      heapCapMb: this.#opts.workerHeapMb ?? WORKER_HEAP_MB,
      log: this.#log,
      now: this.#now,
      ...(this.#opts.restartIntensity !== undefined ? { restartIntensity: this.#opts.restartIntensity } : {}),
      onStarted: (s) => this.#recreateActors(s),
      onEvent: (s, e) => this.#onWorkerEvent(s, e),
      onStateChange: (s, state, prev) => this.#onSlotState(s, state, prev),
    };
    const hosts = new Map<string, { name: string; entry: string; size: number }>();
    for (const kind of Object.values(this.#kinds)) {
      const name = hostOf(kind, this.#placement);
      const size = this.#opts.poolSizes[name === CALL_HOST ? 'media' : kind.pool];
      hosts.set(name, name === CALL_HOST ? { name, entry: CALL_WORKER_ENTRY, size } : { name, entry: kind.entry, size });
    }
    for (const host of hosts.values()) {
      const count = Math.max(1, host.size);
      const pool = startPool(host, count, {
        tickMs: TICK_MS,
        logLevel: this.#opts.logLevel,
        maxOldGenerationSizeMb: this.#opts.workerHeapMb ?? WORKER_HEAP_MB,
        log: this.#log,
        keepSpare: this.#opts.spareThreads ?? true,
      }, slotOpts);
      this.#standby.set(host.name, pool.threads);
      starting.push(...pool.ready);
      this.#slots.set(host.name, pool.slots);
    }
    // Ready means restart-ready too: each kind's spare thread is loaded.
    await Promise.all([...starting, ...[...this.#standby.values()].map((t) => t.warm())]);
    let lastCheck = this.#now();
    this.#watchdog = setInterval(() => {
      const now = this.#now();
      // Late beyond a normal timer's jitter: this thread was starved too, and so were the workers.
      const excuse = Math.max(0, now - lastCheck - WATCHDOG_INTERVAL_MS * 2);
      lastCheck = now;
      for (const slots of this.#slots.values()) for (const s of slots) s.check(now, excuse);
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
    this.#daemon.send({ type: 'STARTED' });
    this.#log.info({ workers: this.#allSlots().map((s) => s.id) }, 'supervisor running');
  }

  /** Resolves when every kind has a loaded spare thread again (after restarts). */
  async whenWarm(): Promise<void> {
    await Promise.all([...this.#standby.values()].map((t) => t.warm()));
  }

  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.state !== 'running') reasons.push(`daemon is ${this.state}`);
    for (const s of this.#allSlots()) {
      if (s.state !== 'ready') reasons.push(`worker ${s.id} is ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
    }
    const overloaded = this.#overloaded();
    if (overloaded !== undefined) reasons.push(overloaded);
    return { ready: reasons.length === 0, reasons };
  }

  /** Why no call can be placed now: every live worker of some kind is overloaded. */
  #overloaded(): string | undefined {
    for (const [kind, slots] of this.#slots) {
      const live = slots.filter((s) => s.state === 'ready');
      if (live.length === 0) continue;
      const why = live.map((s) => s.overloaded());
      if (why.every((w) => w !== undefined)) return `every ${kind} worker is overloaded: ${why.join('; ')}`;
    }
    return undefined;
  }

  status(): RuntimeStatus {
    const now = this.#now();
    const { ready, reasons } = this.readiness();
    return {
      daemon: this.state,
      ready,
      notReadyReasons: reasons,
      workers: this.#allSlots().map((s) => workerStatus(s, now, this.#actors)),
      actors: [...this.#actors.values()].map((a) => actorStatus(a)),
      calls: this.listCalls().map((c) => ({ ...c, qos: this.callQos(c.id) })),
      endedCalls: [...this.#calls.ended()],
      syncGroups: this.#sync.status(),
      process: processFigures(),
      ...(this.#opts.devices !== undefined ? { devices: this.#opts.devices() } : {}),
      conferences: this.conferences.list(),
    };
  }

  workerStatuses(opts: { takeMaxTick?: boolean } = {}): WorkerStatus[] {
    const now = this.#now();
    return this.#allSlots().map((s) => workerStatus(s, now, this.#actors, opts.takeMaxTick ?? true));
  }

  actorStats(actorId: string): ActorStatsView | undefined {
    const rec = this.#actors.get(actorId);
    if (rec === undefined) return undefined;
    const codec = rec.config['codec'];
    return { kind: rec.kind.name, names: rec.kind.stats, values: rec.stats, codec: typeof codec === 'string' ? codec : undefined };
  }

  actorStatuses(): ActorStatus[] {
    return [...this.#actors.values()].map((a) => actorStatus(a));
  }

  countBadInput(source: string, reason: string): void {
    this.#metrics.badInput.inc({ source, reason });
  }

  countCallError(source: string, stage: string): void {
    this.#metrics.callErrors.inc({ source, stage });
  }

  // ── actors ────────────────────────────────────────────────────────────────

  /**
   * Places a new actor on the least-loaded worker of its kind and creates it there.
   * `shared` gives rings by role that already exist (another actor's end of the
   * same edge: a leg's packet ring is its jitter actor's `in`); the others are new.
   */
  async createActor(
    kindName: string,
    config: ActorConfig,
    callId?: string,
    shared: Readonly<Record<string, FrameRing>> = {},
  ): Promise<string> {
    const kind = this.#kinds[kindName];
    if (kind === undefined) throw new RangeError(`unknown actor kind "${kindName}"`);
    for (const name of Object.keys(shared)) {
      if (!kind.rings.some((r) => r.name === name)) throw new RangeError(`actor kind "${kindName}" has no ring "${name}"`);
    }
    const slot = this.#callSlot(kind, callId) ?? leastLoaded(this.#slotsOf(kindName), this.#actors, kindName);
    const rings: Record<string, FrameRing> = {};
    for (const r of kind.rings) {
      const given = shared[r.name];
      if (given !== undefined) rings[r.name] = given;
      else if (r.optional !== true) rings[r.name] = FrameRing.create(EDGES[r.edge].slots, EDGES[r.edge].maxSamples);
    }
    const statsBuffer = new SharedArrayBuffer(Math.max(1, kind.stats.length) * 8);
    const rec: ActorRecord = {
      // `kind.n`: never the same as a worker's id (`kind-i`), which fault injection also takes.
      id: `${kindName}.${this.#nextActor++}`,
      kind,
      config,
      rings,
      stats: new Float64Array(statsBuffer),
      statsBuffer,
      slot,
      callId,
      state: 'starting',
      restarts: 0,
    };
    this.#actors.set(rec.id, rec);
    if (slot.state === 'ready') {
      try {
        await this.#sendCreate(rec);
      } catch (err) {
        this.#actors.delete(rec.id);
        throw err;
      }
    }
    return rec.id;
  }

  async destroyActor(actorId: string): Promise<boolean> {
    const rec = this.#actors.get(actorId);
    if (rec === undefined) return false;
    this.#actors.delete(actorId);
    rec.state = 'stopped';
    this.#reclaimer.actorGone(this.#actors.size === 0);
    if (rec.slot.state === 'ready') {
      await rec.slot.request('destroyActor', actorId).catch((err: unknown) => {
        this.#log.warn({ actor: actorId, err }, 'actor destroy failed');
      });
    }
    return true;
  }

  /** Applies a command on the actor's worker; rejects with the actor's RangeError when it does not take it. */
  async commandActor(actorId: string, command: ActorCommand): Promise<void> {
    const rec = this.#actors.get(actorId);
    if (rec === undefined) throw new RangeError(`no such actor [actor:${actorId}]`);
    await rec.slot.request('command', actorId, command);
  }

  /** The supervisor's end of an actor's ring (tests and in-process consumers read from it). */
  ringOf(actorId: string, name: string): FrameRing | undefined {
    return this.#actors.get(actorId)?.rings[name];
  }

  workerOf(actorId: string): string | undefined {
    return this.#actors.get(actorId)?.slot.id;
  }

  // ── calls ─────────────────────────────────────────────────────────────────

  /** A call; with `conference`, it joins that conference as it is made (its agent's seat goes to the mixer). */
  async createCall(req: CallRequest): Promise<CallInfo> {
    const conference = req['conference'];
    if (typeof conference !== 'string') return this.#calls.create(req);
    this.conferences.checkJoinable(conference);
    const info = await this.#calls.create(req);
    try {
      await this.conferences.addMember(conference, { call: info.id });
    } catch (err) {
      await this.#calls.delete(info.id, 'hangup', `could not join conference ${conference}`);
      throw err;
    }
    return info;
  }

  /** The call's quality figures by actor kind, read from its actors' stats slots. */
  callQos(callId: string): Record<string, Record<string, number>> {
    return this.#calls.qos(callId);
  }

  listCalls(): CallInfo[] {
    return this.#calls.list();
  }

  getCall(id: string): CallInfo | undefined {
    return this.#calls.get(id);
  }

  sendDtmf(callId: string, digits: string): Promise<boolean> {
    return this.#calls.sendDtmf(callId, digits);
  }

  sendToolOutput(callId: string, toolCallId: string, output: string): Promise<boolean> {
    return this.#calls.sendToolOutput(callId, toolCallId, output);
  }

  joinSyncGroup(group: string, callId: string): void {
    try {
      this.#sync.join(group, callId);
    } catch (err) {
      if (err instanceof SyncGroupError) throw new RequestError(err.status, err.message);
      throw err;
    }
  }

  leaveSyncGroup(callId: string): boolean {
    return this.#sync.leave(callId);
  }

  syncGroups(): SyncGroupStatus[] {
    return this.#sync.status();
  }

  /** One planning pass of the sync groups now (tests step it instead of waiting for its timer). */
  planSyncGroups(): void {
    this.#sync.plan();
  }

  deleteCall(id: string): Promise<boolean> {
    return this.#calls.delete(id);
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────

  async drain(deadlineMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.#daemon.send({ type: 'DRAIN' });
    this.#log.info({ calls: this.#calls.size, deadlineMs }, 'draining');
    const until = Date.now() + deadlineMs;
    while (this.#calls.size > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
    }
    if (this.#calls.size > 0) {
      this.#log.warn({ calls: this.#calls.size }, 'drain deadline passed: hanging up the remaining calls');
      await Promise.all(this.#calls.ids().map((id) => this.#calls.delete(id, 'drain', 'the drain deadline passed')));
    }
    // The calls are gone: the conferences go too, so their recordings close complete rather than cut off at stop.
    await Promise.all(this.conferences.list().map((c) => this.conferences.delete(c.id)));
  }

  async injectFault(target: string, kind: FaultKind): Promise<void> {
    const slot = this.#actors.get(target)?.slot ?? this.#allSlots().find((s) => s.id === target);
    if (slot === undefined) throw new RequestError(404, `no actor or worker named "${target}"`);
    if (slot.state !== 'ready') throw new RequestError(409, `worker ${slot.id} is ${slot.state}`);
    this.#log.warn({ worker: slot.id, kind }, 'injecting fault');
    if (kind === 'terminate') {
      await slot.terminateThread();
      return;
    }
    try {
      await slot.request('injectFault', kind);
    } catch (err) {
      // The fault may take the worker down before its acknowledgement arrives: that is the fault working.
      if (!(err instanceof Error && err.message.startsWith('worker died'))) throw err;
    }
  }

  stop(): Promise<void> {
    this.#sync.close();
    this.#stopping ??= (async () => {
      clearInterval(this.#watchdog);
      this.#reclaimer.stop();
      await Promise.all([...this.#allSlots().map((s) => s.stop()), ...[...this.#standby.values()].map((t) => t.close())]);
      for (const a of this.#actors.values()) a.state = 'stopped';
      await this.#opts.recorder?.close();
      this.#daemon.send({ type: 'STOP' });
      this.#log.info('supervisor stopped');
    })();
    return this.#stopping;
  }

  // ── internals ─────────────────────────────────────────────────────────────

  get #placement(): Placement {
    return this.#opts.placement ?? 'kind';
  }

  /** The workers an actor of the kind may run on. */
  #slotsOf(kindName: string): readonly WorkerSlot[] {
    const kind = this.#kinds[kindName];
    return kind === undefined ? [] : (this.#slots.get(hostOf(kind, this.#placement)) ?? []);
  }

  /** Under the `call` placement, the live call worker that already hosts one of the call's actors. */
  #callSlot(kind: ActorKind, callId: string | undefined): WorkerSlot | undefined {
    if (callId === undefined || hostOf(kind, this.#placement) !== CALL_HOST) return undefined;
    for (const a of this.#actors.values()) {
      if (a.callId === callId && a.slot.kind === CALL_HOST && a.slot.state !== 'failed' && a.slot.state !== 'stopped') return a.slot;
    }
    return undefined;
  }

  #allSlots(): WorkerSlot[] {
    return [...this.#slots.values()].flat();
  }

  /** What moving actors between workers uses of the supervisor (src/supervisor/rehome.ts). */
  #rehomeHost(): RehomeHost {
    return {
      log: this.#log,
      actors: this.#actors,
      slotsOf: (kind) => this.#slotsOf(kind),
      sendCreate: (a) => this.#sendCreate(a),
      endCall: (callId, detail) => this.#calls.end(callId, 'worker-failed', detail),
    };
  }

  async #sendCreate(rec: ActorRecord): Promise<void> {
    const rings: Record<string, SharedArrayBuffer> = {};
    for (const [name, ring] of Object.entries(rec.rings)) rings[name] = ring.buffer;
    await rec.slot.request('createActor', {
      actorId: rec.id,
      kind: rec.kind.name,
      config: rec.config,
      rings,
      stats: rec.statsBuffer,
      stage: rec.kind.stage ?? 0,
      ...(rec.callId !== undefined ? { group: rec.callId } : {}),
    });
    rec.state = 'running';
  }

  /** After a (re)start: the worker's actors come back with their configuration and rings. */
  async #recreateActors(slot: WorkerSlot): Promise<void> {
    const mine = [...this.#actors.values()].filter((a) => a.slot === slot && a.state !== 'failed');
    await Promise.all(
      mine.map(async (a) => {
        const again = a.state === 'restarting';
        try {
          await this.#sendCreate(a);
          if (again) a.restarts++;
        } catch (err) {
          a.state = 'failed';
          this.#log.error({ actor: a.id, worker: slot.id, err }, 'actor could not be re-created');
          if (a.callId !== undefined) this.#calls.end(a.callId, 'actor-failed', `actor ${a.id} could not be re-created on ${slot.id}`);
        }
      }),
    );
  }

  #onWorkerEvent(slot: WorkerSlot, e: WorkerEvent): void {
    if (e.type === 'actor.failed') {
      const a = this.#actors.get(e.actorId);
      if (a !== undefined) a.state = 'failed';
      this.#log.error({ actor: e.actorId, worker: slot.id, err: e.error }, 'actor failed');
      // The worker dropped it; its call would go on without media: end it, with the reason.
      if (a?.callId !== undefined) this.#calls.end(a.callId, 'actor-failed', `actor ${a.id} failed: ${e.error.message}`);
    } else if (e.type === 'actor.event') {
      const callId = this.#actors.get(e.actorId)?.callId;
      this.#log.info({ actor: e.actorId, call: callId, event: e.name, data: e.data }, 'actor event');
      this.#metrics.actorEvent(e.name, e.data);
      if (callId !== undefined) this.#calls.addEvent(callId, e.actorId, e.name, e.data);
    }
  }

  #onSlotState(slot: WorkerSlot, state: WorkerState, prev: WorkerState): void {
    this.#log.info({ worker: slot.id, state, prev, restarts: slot.restarts }, 'worker state');
    if (state === 'crashed' || state === 'restarting') {
      for (const a of this.#actors.values()) if (a.slot === slot && a.state === 'running') a.state = 'restarting';
      // No loaded spare (crashes in a row used it): a sibling is one message away, a new thread hundreds of ms.
      if (state === 'restarting' && this.#standby.get(slot.kind)?.loaded === false) moveActors(slot, this.#rehomeHost(), 'crashed with no spare thread loaded');
    } else if (state === 'failed') {
      this.#log.error(
        { worker: slot.id, restarts: slot.restarts, cause: slot.lastError },
        'worker restarts exceeded the limit: cooling it down before trying again; the daemon is not ready',
      );
      // Where no sibling can take them, their calls end with the reason rather than wait out the cool-down.
      for (const a of moveActors(slot, this.#rehomeHost(), `failed (${slot.lastError ?? 'unknown cause'})`)) {
        a.state = 'failed';
        if (a.callId !== undefined) this.#calls.end(a.callId, 'worker-failed', `worker ${slot.id} failed (${slot.lastError ?? 'unknown cause'})`);
      }
    }
  }

}

type RuntimeMetricsRegistry = Runtime['metrics'];
