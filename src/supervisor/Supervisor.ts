import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createActor as createXstateActor } from 'xstate';
import type { Logger } from 'pino';
import { FrameRing } from '../frames/FrameRing.ts';
import type { ActorConfig, WorkerEvent } from '../protocol.ts';
import type { ActorKind, PoolName } from '../actors/ActorKind.ts';
import { ACTOR_KINDS } from '../actors/registry.ts';
import { daemonMachine } from './daemonMachine.ts';
import { createRuntimeMetrics } from './metrics.ts';
import {
  RequestError,
  type ActorStatus,
  type CallEvent,
  type CallInfo,
  type CallRequest,
  type DaemonState,
  type FaultKind,
  type Runtime,
  type RuntimeStatus,
  type WorkerState,
  type WorkerStatus,
} from './Runtime.ts';
import { syntheticTransport, type CallSetup, type Transport } from './transports.ts';
import { rtpTransport } from './rtpTransport.ts';
import { twilioTransport } from './twilioTransport.ts';
import { loadOpenAISettings, type AgentSettings } from './agentConfig.ts';
import { StandbyThreads } from './StandbyThreads.ts';
import { WorkerSlot } from './WorkerSlot.ts';

/** How often the watchdog samples heartbeats; well under the 500 ms hang limit. */
export const WATCHDOG_INTERVAL_MS = 50;
/** 20 ms frames everywhere (DESIGN: audio frames). */
export const TICK_MS = 20;
/** How often calls are checked for having ended by themselves (a peer's BYE). */
export const CALL_REAP_INTERVAL_MS = 500;
/** Events kept per call (the newest; older ones are counted in `eventsDropped`). */
export const CALL_EVENTS_KEPT = 100;
/** Per-worker V8 old-space cap: an allocation storm kills one worker, not the process. */
export const WORKER_HEAP_MB = 256;

export interface SupervisorOptions {
  poolSizes: Record<PoolName, number>;
  logLevel: string;
  log: Logger;
  /** Actor kinds by name (default: the registry). */
  kinds?: Readonly<Record<string, ActorKind>>;
  transports?: readonly Transport[];
  now?: () => number;
  workerHeapMb?: number;
  /** Overrides the restart intensity limit (benchmarks that restart on purpose). */
  restartIntensity?: { maxRestarts: number; windowMs: number };
}

interface ActorRecord {
  readonly id: string;
  readonly kind: ActorKind;
  readonly config: ActorConfig;
  readonly rings: Record<string, FrameRing>;
  readonly stats: Float64Array;
  readonly statsBuffer: SharedArrayBuffer;
  readonly slot: WorkerSlot;
  readonly callId: string | undefined;
  state: ActorStatus['state'];
  restarts: number;
}

interface CallRecord {
  info: CallInfo;
  setup: CallSetup;
}

/** Reads the fields of the daemon's configuration that the runtime needs. */
export interface RuntimeConfig {
  mediaWorkers?: number;
  networkWorkers?: number;
  agentWorkers?: number;
  captureWorkers?: number;
  logLevel?: string;
  host?: string;
  rtp?: { portMin: number; portMax: number; idleTimeoutMs?: number; bindHost?: string | undefined };
  agent?: { default: string };
  openai?: Parameters<typeof loadOpenAISettings>[0];
  secrets?: { openaiApiKey?: string | undefined };
}

export async function createRuntime(config: RuntimeConfig, log: Logger): Promise<Supervisor> {
  const agents: AgentSettings = { defaultAgent: config.agent?.default ?? 'echo' };
  if (config.openai !== undefined) agents.openai = loadOpenAISettings(config.openai, config.secrets?.openaiApiKey);
  const sup = new Supervisor({
    poolSizes: {
      media: config.mediaWorkers ?? availableParallelism(),
      network: config.networkWorkers ?? 1,
      agent: config.agentWorkers ?? 1,
      capture: config.captureWorkers ?? 1,
    },
    logLevel: config.logLevel ?? 'info',
    log,
    transports: [
      syntheticTransport,
      rtpTransport({ portMin: config.rtp?.portMin ?? 10_000, portMax: config.rtp?.portMax ?? 20_000, host: config.rtp?.bindHost ?? config.host, agents, ...(config.rtp?.idleTimeoutMs !== undefined ? { idleTimeoutMs: config.rtp.idleTimeoutMs } : {}) }),
      twilioTransport({ agents }),
    ],
  });
  await sup.start();
  return sup;
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
  readonly #calls = new Map<string, CallRecord>();
  readonly #transports = new Map<string, Transport>();
  readonly #kinds: Readonly<Record<string, ActorKind>>;
  readonly #standby: StandbyThreads[] = [];
  readonly #metrics: ReturnType<typeof createRuntimeMetrics>;
  #watchdog: NodeJS.Timeout | undefined;
  #reaper: NodeJS.Timeout | undefined;
  #nextActor = 1;
  #stopping: Promise<void> | undefined;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? (() => performance.now());
    this.#kinds = opts.kinds ?? ACTOR_KINDS;
    for (const t of opts.transports ?? [syntheticTransport]) this.#transports.set(t.name, t);
    this.#metrics = createRuntimeMetrics(this);
    this.#daemon.start();
  }

  get state(): DaemonState {
    return this.#daemon.getSnapshot().value as DaemonState;
  }

  get metrics(): RuntimeMetricsRegistry {
    return this.#metrics.registry;
  }

  /** Starts one worker per position of every kind's pool; resolves when all are ready and a spare of each kind is loaded. */
  async start(): Promise<void> {
    const starting: Promise<void>[] = [];
    for (const kind of Object.values(this.#kinds)) {
      const count = Math.max(1, this.#opts.poolSizes[kind.pool]);
      const threads = new StandbyThreads({
        entry: `../actors/${kind.entry.replace(/^\.\//, '')}`,
        boot: { kind: kind.name, tickMs: TICK_MS, logLevel: this.#opts.logLevel },
        maxOldGenerationSizeMb: this.#opts.workerHeapMb ?? WORKER_HEAP_MB,
        log: this.#log,
      });
      this.#standby.push(threads);
      const slots: WorkerSlot[] = [];
      for (let i = 0; i < count; i++) {
        const slot = new WorkerSlot({
          id: `${kind.name}-${i}`,
          kind: kind.name,
          threads,
          log: this.#log,
          now: this.#now,
          ...(this.#opts.restartIntensity !== undefined ? { restartIntensity: this.#opts.restartIntensity } : {}),
          onStarted: (s) => this.#recreateActors(s),
          onEvent: (s, e) => this.#onWorkerEvent(s, e),
          onStateChange: (s, state, prev) => this.#onSlotState(s, state, prev),
        });
        slots.push(slot);
        slot.start();
        starting.push(slot.whenReady());
      }
      this.#slots.set(kind.name, slots);
    }
    // Ready means restart-ready too: each kind's spare thread is loaded.
    await Promise.all([...starting, ...this.#standby.map((t) => t.warm())]);
    this.#watchdog = setInterval(() => {
      const now = this.#now();
      for (const slots of this.#slots.values()) for (const s of slots) s.check(now);
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
    this.#reaper = setInterval(() => this.#reapEndedCalls(), CALL_REAP_INTERVAL_MS);
    this.#reaper.unref();
    this.#daemon.send({ type: 'STARTED' });
    this.#log.info({ workers: this.#allSlots().map((s) => s.id) }, 'supervisor running');
  }

  /** Resolves when every kind has a loaded spare thread again (after restarts). */
  async whenWarm(): Promise<void> {
    await Promise.all(this.#standby.map((t) => t.warm()));
  }

  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.state !== 'running') reasons.push(`daemon is ${this.state}`);
    for (const s of this.#allSlots()) {
      if (s.state !== 'ready') reasons.push(`worker ${s.id} is ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  status(): RuntimeStatus {
    const now = this.#now();
    const { ready, reasons } = this.readiness();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      daemon: this.state,
      ready,
      notReadyReasons: reasons,
      workers: this.#allSlots().map((s) => this.#workerStatus(s, now)),
      actors: [...this.#actors.values()].map((a) => this.#actorStatus(a)),
      calls: this.listCalls().map((c) => ({ ...c, qos: this.callQos(c.id) })),
      process: {
        pid: process.pid,
        uptimeS: process.uptime(),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
      },
    };
  }

  workerStatuses(): WorkerStatus[] {
    const now = this.#now();
    return this.#allSlots().map((s) => this.#workerStatus(s, now));
  }

  actorStatuses(): ActorStatus[] {
    return [...this.#actors.values()].map((a) => this.#actorStatus(a));
  }

  countBadInput(source: string, reason: string): void {
    this.#metrics.badInput.inc({ source, reason });
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
    const slot = this.#leastLoaded(kindName);
    const rings: Record<string, FrameRing> = {};
    for (const r of kind.rings) rings[r.name] = shared[r.name] ?? FrameRing.create(r.slots, r.maxSamples);
    const statsBuffer = new SharedArrayBuffer(Math.max(1, kind.stats.length) * 8);
    const rec: ActorRecord = {
      id: `${kindName}-${this.#nextActor++}`,
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
    if (rec.slot.state === 'ready') {
      await rec.slot.request({ type: 'actor.destroy', actorId }).catch((err: unknown) => {
        this.#log.warn({ actor: actorId, err }, 'actor destroy failed');
      });
    }
    return true;
  }

  /** The supervisor's end of an actor's ring (tests and in-process consumers read from it). */
  ringOf(actorId: string, name: string): FrameRing | undefined {
    return this.#actors.get(actorId)?.rings[name];
  }

  workerOf(actorId: string): string | undefined {
    return this.#actors.get(actorId)?.slot.id;
  }

  // ── calls ─────────────────────────────────────────────────────────────────

  async createCall(req: CallRequest): Promise<CallInfo> {
    if (this.state !== 'running') throw new RequestError(503, `not taking calls: the daemon is ${this.state}`);
    const transport = this.#transports.get(req.transport);
    if (transport === undefined) {
      throw new RequestError(
        422,
        `transport: unknown transport "${req.transport}" (available: ${[...this.#transports.keys()].join(', ')})`,
      );
    }
    const id = randomUUID();
    const created: string[] = [];
    let setup: CallSetup;
    try {
      setup = await transport.create(req, {
        callId: id,
        createActor: async (kind, config, callId, shared) => {
          const a = await this.createActor(kind, config, callId, shared);
          created.push(a);
          return a;
        },
        ringOf: (actorId, name) => this.ringOf(actorId, name),
        emit: (name, data) => this.#addCallEvent(id, transport.name, name, data),
        statsOf: (actorId) => {
          const a = this.#actors.get(actorId);
          return a === undefined ? undefined : this.#actorStatus(a).stats;
        },
      });
    } catch (err) {
      await Promise.all(created.map((a) => this.destroyActor(a)));
      throw err;
    }
    const info: CallInfo = {
      ...setup.answer,
      id,
      transport: transport.name,
      state: 'active',
      createdAt: new Date().toISOString(),
      actors: setup.actors,
    };
    this.#calls.set(id, { info, setup });
    this.#metrics.callsTotal.inc({ transport: transport.name });
    this.#log.info({ call: id, transport: transport.name, actors: setup.actors }, 'call created');
    return info;
  }

  /** The call's quality figures by actor kind, read from its actors' stats slots. */
  callQos(callId: string): Record<string, Record<string, number>> {
    const qos: Record<string, Record<string, number>> = {};
    for (const actorId of this.#calls.get(callId)?.info.actors ?? []) {
      const a = this.#actors.get(actorId);
      if (a?.kind.qos === undefined) continue;
      const figures: Record<string, number> = {};
      for (const name of a.kind.qos) {
        const i = a.kind.stats.indexOf(name);
        if (i >= 0) figures[name] = a.stats[i]!;
      }
      qos[a.kind.name] = figures;
    }
    const transportQos = this.#calls.get(callId)?.setup.qos?.();
    if (transportQos !== undefined) {
      const name = this.#calls.get(callId)!.info.transport;
      qos[name] = { ...qos[name], ...transportQos };
    }
    return qos;
  }

  listCalls(): CallInfo[] {
    return [...this.#calls.values()].map((c) => c.info);
  }

  getCall(id: string): CallInfo | undefined {
    return this.#calls.get(id)?.info;
  }

  async sendDtmf(callId: string, digits: string): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined) return false;
    const leg = call.info.actors.map((a) => this.#actors.get(a)).find((a) => a?.kind.name === 'rtp');
    if (leg === undefined) throw new RequestError(409, `call ${callId} has no leg that sends DTMF (${call.info.transport})`);
    if (leg.slot.state !== 'ready') throw new RequestError(503, `the call's leg is ${leg.state}`);
    try {
      await leg.slot.request({ type: 'actor.configure', actorId: leg.id, config: { dtmf: digits } });
    } catch (err) {
      if (err instanceof Error && err.name === 'RangeError') throw new RequestError(422, err.message);
      throw err;
    }
    return true;
  }

  async deleteCall(id: string): Promise<boolean> {
    const call = this.#calls.get(id);
    if (call === undefined) return false;
    // A hang-up already under way (the peer and the API at once) finishes on its own.
    if (call.info.state !== 'active') return true;
    call.info.state = 'ending';
    await Promise.all(call.info.actors.map((a) => this.destroyActor(a)));
    call.setup.release?.();
    call.info.state = 'ended';
    this.#calls.delete(id);
    this.#log.info({ call: id }, 'call ended');
    return true;
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
      await Promise.all([...this.#calls.keys()].map((id) => this.deleteCall(id)));
    }
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
      await slot.request({ type: 'fault.inject', kind });
    } catch (err) {
      // The fault may take the worker down before its acknowledgement arrives: that is the fault working.
      if (!(err instanceof Error && err.message.startsWith('worker died'))) throw err;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#watchdog);
      clearInterval(this.#reaper);
      await Promise.all([...this.#allSlots().map((s) => s.stop()), ...this.#standby.map((t) => t.close())]);
      for (const a of this.#actors.values()) a.state = 'stopped';
      this.#daemon.send({ type: 'STOP' });
      this.#log.info('supervisor stopped');
    })();
    return this.#stopping;
  }

  // ── internals ─────────────────────────────────────────────────────────────

  #allSlots(): WorkerSlot[] {
    return [...this.#slots.values()].flat();
  }

  #leastLoaded(kindName: string): WorkerSlot {
    const slots = this.#slots.get(kindName) ?? [];
    const live = slots.filter((s) => s.state !== 'failed' && s.state !== 'stopped');
    if (live.length === 0) throw new RequestError(503, `no live worker for actor kind "${kindName}"`);
    const count = (s: WorkerSlot): number => {
      let n = 0;
      for (const a of this.#actors.values()) if (a.slot === s) n++;
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

  async #sendCreate(rec: ActorRecord): Promise<void> {
    const rings: Record<string, SharedArrayBuffer> = {};
    for (const [name, ring] of Object.entries(rec.rings)) rings[name] = ring.buffer;
    await rec.slot.request({
      type: 'actor.create',
      actorId: rec.id,
      kind: rec.kind.name,
      config: rec.config,
      rings,
      stats: rec.statsBuffer,
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
        }
      }),
    );
  }

  /** Hangs up calls whose transport says the peer ended them. */
  #reapEndedCalls(): void {
    for (const [id, call] of this.#calls) {
      if (call.info.state !== 'active') continue;
      const why = call.setup.ended?.();
      if (why === undefined) continue;
      this.#log.info({ call: id, why }, 'call ended by the peer');
      void this.deleteCall(id).catch((err: unknown) => this.#log.error({ call: id, err }, 'hang-up failed'));
    }
  }

  #onWorkerEvent(slot: WorkerSlot, e: WorkerEvent): void {
    if (e.type === 'actor.failed') {
      const a = this.#actors.get(e.actorId);
      if (a !== undefined) a.state = 'failed';
      this.#log.error({ actor: e.actorId, worker: slot.id, err: e.error }, 'actor failed');
    } else if (e.type === 'actor.event') {
      const callId = this.#actors.get(e.actorId)?.callId;
      this.#log.info({ actor: e.actorId, call: callId, event: e.name, data: e.data }, 'actor event');
      if (callId !== undefined) this.#addCallEvent(callId, e.actorId, e.name, e.data);
    }
  }

  #addCallEvent(callId: string, source: string, name: string, data: Record<string, unknown>): void {
    const call = this.#calls.get(callId);
    if (call === undefined) return;
    const events = (call.info.events ??= []) as CallEvent[];
    events.push({ at: new Date().toISOString(), actor: source, name, data });
    if (events.length > CALL_EVENTS_KEPT) {
      events.shift();
      call.info.eventsDropped = ((call.info.eventsDropped as number | undefined) ?? 0) + 1;
    }
  }

  #onSlotState(slot: WorkerSlot, state: WorkerState, prev: WorkerState): void {
    this.#log.info({ worker: slot.id, state, prev, restarts: slot.restarts }, 'worker state');
    if (state === 'crashed' || state === 'restarting') {
      for (const a of this.#actors.values()) if (a.slot === slot && a.state === 'running') a.state = 'restarting';
    } else if (state === 'failed') {
      this.#log.error(
        { worker: slot.id, restarts: slot.restarts, cause: slot.lastError },
        'worker restarts exceeded the limit: not restarting it; the daemon is not ready',
      );
      for (const a of this.#actors.values()) if (a.slot === slot) a.state = 'failed';
    }
  }

  #workerStatus(s: WorkerSlot, now: number): WorkerStatus {
    const hb = s.heartbeat;
    let actors = 0;
    for (const a of this.#actors.values()) if (a.slot === s) actors++;
    const st: WorkerStatus = {
      id: s.id,
      kind: s.kind,
      state: s.state,
      restarts: s.restarts,
      heartbeatAgeMs: Math.round(s.heartbeatAgeMs(now)),
      actors,
      load: {
        framesProcessed: hb?.framesProcessed ?? 0,
        tickUs: hb?.tickUs ?? 0,
        maxTickUs: hb?.takeMaxTickUs() ?? 0,
        lateTicks: hb?.lateTicks ?? 0,
      },
    };
    if (s.lastError !== undefined) st.lastError = s.lastError;
    return st;
  }

  #actorStatus(a: ActorRecord): ActorStatus {
    const stats: Record<string, number> = {};
    a.kind.stats.forEach((name, i) => (stats[name] = a.stats[i]!));
    return { id: a.id, kind: a.kind.name, worker: a.slot.id, state: a.state, restarts: a.restarts, stats };
  }
}

type RuntimeMetricsRegistry = Runtime['metrics'];
