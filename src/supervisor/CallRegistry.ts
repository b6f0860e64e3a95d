import { quote } from '../wire/text.ts';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FrameRing } from '../frames/FrameRing.ts';
import type { ActorConfig } from '../protocol.ts';
import { actorStatus, type ActorRecord } from './ActorRecord.ts';
import { RequestError, type CallEvent, type CallInfo, type CallRequest, type DaemonState } from './Runtime.ts';
import type { CallSetup, Transport } from './transports.ts';
import { callQuality } from '../qos/callQuality.ts';

/** How often calls are checked for having ended by themselves (a peer's BYE). */
export const CALL_REAP_INTERVAL_MS = 500;
/** Events kept per call (the newest; older ones are counted in `eventsDropped`). */
export const CALL_EVENTS_KEPT = 100;
/** Ended calls shown in /status with their reason (the newest), so an operator sees why calls went. */
export const ENDED_CALLS_KEPT = 50;

/** Why a call ended, as counted in switchboard_calls_ended_total{reason}. */
export type EndReason = 'hangup' | 'peer' | 'worker-failed' | 'actor-failed' | 'drain';

/** An ended call as /status lists it. */
export interface EndedCall {
  id: string;
  transport: string;
  endedAt: string;
  reason: EndReason;
  detail: string;
}

interface CallRecord {
  info: CallInfo;
  setup: CallSetup;
}

/** What the call registry uses of the supervisor: the daemon's state, its actors, the calls counter. */
export interface CallHost {
  readonly log: Logger;
  state(): DaemonState;
  createActor(
    kindName: string,
    config: ActorConfig,
    callId?: string,
    shared?: Readonly<Record<string, FrameRing>>,
  ): Promise<string>;
  destroyActor(actorId: string): Promise<boolean>;
  ringOf(actorId: string, name: string): FrameRing | undefined;
  actor(actorId: string): ActorRecord | undefined;
  countCall(transport: string): void;
  countEnded(transport: string, reason: EndReason): void;
  /** Calls taken at once at most (Infinity: no limit). */
  maxCalls(): number;
  /** Why no call can be placed now (every worker of a kind overloaded), or undefined. */
  overloaded(): string | undefined;
}

/**
 * The supervisor's calls: each one set up by its transport over actors the
 * supervisor places, with its events, its quality figures read from its
 * actors' stats slots, and a reaper that hangs up calls the peer ended.
 */
export class CallRegistry {
  readonly #host: CallHost;
  readonly #log: Logger;
  readonly #calls = new Map<string, CallRecord>();
  readonly #transports = new Map<string, Transport>();
  readonly #ended: EndedCall[] = [];
  /** Calls being set up: they count against the limit before they exist. */
  #pending = 0;
  #reaper: NodeJS.Timeout | undefined;

  constructor(host: CallHost, transports: readonly Transport[]) {
    this.#host = host;
    this.#log = host.log;
    for (const t of transports) this.#transports.set(t.name, t);
  }

  get size(): number {
    return this.#calls.size;
  }

  ids(): string[] {
    return [...this.#calls.keys()];
  }

  /** The newest ended calls with their reasons, oldest first. */
  ended(): readonly EndedCall[] {
    return this.#ended;
  }

  startReaper(): void {
    this.#reaper = setInterval(() => this.#reapEndedCalls(), CALL_REAP_INTERVAL_MS);
    this.#reaper.unref();
  }

  stopReaper(): void {
    clearInterval(this.#reaper);
  }

  async create(req: CallRequest): Promise<CallInfo> {
    const state = this.#host.state();
    if (state !== 'running') throw new RequestError(503, `not taking calls: the daemon is ${state}`);
    const transport = this.#transports.get(req.transport);
    if (transport === undefined) {
      throw new RequestError(
        422,
        `transport: unknown transport ${quote(req.transport)} (available: ${[...this.#transports.keys()].join(', ')})`,
      );
    }
    const max = this.#host.maxCalls();
    if (this.#calls.size + this.#pending >= max) {
      throw new RequestError(503, `the daemon is at its limit of ${max} calls (limits.maxCalls); try again later`);
    }
    const overloaded = this.#host.overloaded();
    if (overloaded !== undefined) throw new RequestError(503, `not taking calls: ${overloaded}`);
    const id = randomUUID();
    const created: string[] = [];
    let setup: CallSetup;
    this.#pending++;
    try {
      setup = await transport.create(req, {
        callId: id,
        createActor: async (kind, config, callId, shared) => {
          const a = await this.#host.createActor(kind, config, callId, shared);
          created.push(a);
          return a;
        },
        ringOf: (actorId, name) => this.#host.ringOf(actorId, name),
        emit: (name, data) => this.addEvent(id, transport.name, name, data),
        statsOf: (actorId) => {
          const a = this.#host.actor(actorId);
          return a === undefined ? undefined : actorStatus(a).stats;
        },
      });
    } catch (err) {
      await Promise.all(created.map((a) => this.#host.destroyActor(a)));
      throw err;
    } finally {
      this.#pending--;
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
    this.#host.countCall(transport.name);
    this.#log.info({ call: id, transport: transport.name, actors: setup.actors }, 'call created');
    return info;
  }

  /** The call's quality figures by actor kind, read from its actors' stats slots. */
  qos(callId: string): Record<string, Record<string, number>> {
    const qos: Record<string, Record<string, number>> = {};
    for (const actorId of this.#calls.get(callId)?.info.actors ?? []) {
      const a = this.#host.actor(actorId);
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
    const jitterActor = (this.#calls.get(callId)?.info.actors ?? []).map((a) => this.#host.actor(a)).find((a) => a?.kind.name === 'jitter');
    const rating = callQuality(jitterActor?.config['codec'], qos['jitter'], qos['rtp']?.['rttMs']);
    if (rating !== undefined) qos['call'] = rating;
    return qos;
  }

  list(): CallInfo[] {
    return [...this.#calls.values()].map((c) => c.info);
  }

  get(id: string): CallInfo | undefined {
    return this.#calls.get(id)?.info;
  }

  sendDtmf(callId: string, digits: string): Promise<boolean> {
    return this.#configure(callId, 'rtp', 'leg that sends DTMF', { dtmf: digits });
  }

  sendToolOutput(callId: string, toolCallId: string, output: string): Promise<boolean> {
    return this.#configure(callId, 'agent', 'agent', { toolOutput: { callId: toolCallId, output } });
  }

  /** Sends `config` to the call's actor of `kind`; false when there is no such call. The actor's RangeError is a 422. */
  async #configure(callId: string, kind: string, what: string, config: Record<string, unknown>): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined) return false;
    const actor = call.info.actors.map((a) => this.#host.actor(a)).find((a) => a?.kind.name === kind);
    if (actor === undefined) throw new RequestError(409, `call ${callId} has no ${what} (${call.info.transport})`);
    if (actor.slot.state !== 'ready') throw new RequestError(503, `the call's ${what} is ${actor.state}`);
    try {
      await actor.slot.request({ type: 'actor.configure', actorId: actor.id, config });
    } catch (err) {
      if (err instanceof Error && err.name === 'RangeError') throw new RequestError(422, err.message);
      throw err;
    }
    return true;
  }

  /** Ends the call (its actors destroyed, its transport released); false when there is no such call. */
  async delete(id: string, reason: EndReason = 'hangup', detail = 'hung up through the API'): Promise<boolean> {
    const call = this.#calls.get(id);
    if (call === undefined) return false;
    // A hang-up already under way (the peer and the API at once) finishes on its own.
    if (call.info.state !== 'active') return true;
    call.info.state = 'ending';
    this.addEvent(id, 'call', 'call.ended', { reason, detail });
    try {
      await Promise.all(call.info.actors.map((a) => this.#host.destroyActor(a)));
      call.setup.release?.();
    } finally {
      call.info.state = 'ended';
      this.#calls.delete(id);
      this.#ended.push({ id, transport: call.info.transport, endedAt: new Date().toISOString(), reason, detail });
      if (this.#ended.length > ENDED_CALLS_KEPT) this.#ended.shift();
      this.#host.countEnded(call.info.transport, reason);
      const fields = { call: id, transport: call.info.transport, reason, detail };
      if (reason === 'worker-failed' || reason === 'actor-failed') this.#log.warn(fields, 'call ended');
      else this.#log.info(fields, 'call ended');
    }
    return true;
  }

  /** Ends the call an actor belongs to, with the reason (its worker failed, the actor failed); logged on failure. */
  end(id: string, reason: EndReason, detail: string): void {
    void this.delete(id, reason, detail).catch((err: unknown) => this.#log.error({ call: id, err }, 'hang-up failed'));
  }

  addEvent(callId: string, source: string, name: string, data: Record<string, unknown>): void {
    const call = this.#calls.get(callId);
    if (call === undefined) return;
    const events = (call.info.events ??= []) as CallEvent[];
    events.push({ at: new Date().toISOString(), actor: source, name, data });
    if (events.length > CALL_EVENTS_KEPT) {
      events.shift();
      call.info.eventsDropped = ((call.info.eventsDropped as number | undefined) ?? 0) + 1;
    }
  }

  /** Hangs up calls whose transport says the peer ended them. */
  #reapEndedCalls(): void {
    for (const [id, call] of this.#calls) {
      if (call.info.state !== 'active') continue;
      const why = call.setup.ended?.();
      if (why === undefined) continue;
      this.end(id, 'peer', why);
    }
  }
}
