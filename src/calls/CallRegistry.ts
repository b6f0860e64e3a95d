import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createActor as createXstateActor, type Actor } from 'xstate';
import { FrameRing } from '../frames/FrameRing.ts';
import { PEER_ENDED_EVENT, type ActorCommand, type ActorConfig } from '../protocol.ts';
import { callQuality } from '../qos/callQuality.ts';
import type { ActorRecord } from '../supervisor/ActorRecord.ts';
import { RequestError, type CallEvent, type CallInfo, type CallRequest, type DaemonState } from '../supervisor/Runtime.ts';
import { quote } from '../wire/text.ts';
import { buildGraph, type CallGraph, type MakeRing, type MakeTap } from './CallGraph.ts';
import { callMachine, type CallState, type EndReason } from './callMachine.ts';
import { callEdge, EDGES } from '../frames/edges.ts';
import type { CallSetup, Transport } from './transports.ts';
import type { CallRecorder } from '../recording/CallRecorder.ts';
import { graphRateHz, recordRequested, recordRings, withRecordTaps } from './recordTaps.ts';

export type { EndReason } from './callMachine.ts';

/** Events kept per call (the newest; older ones are counted in `eventsDropped`). */
export const CALL_EVENTS_KEPT = 100;
/** Ended calls shown in /status with their reason (the newest), so an operator sees why calls went. */
export const ENDED_CALLS_KEPT = 50;

/** An ended call as /status lists it. */
export interface EndedCall {
  id: string;
  transport: string;
  endedAt: string;
  reason: EndReason;
  detail: string;
}

interface CallRecord {
  readonly id: string;
  readonly transport: string;
  readonly machine: Actor<typeof callMachine>;
  /** Actors made so far (all of them once set up). */
  readonly actors: string[];
  /** Set when the transport has made the call. */
  info: CallInfo | undefined;
  setup: CallSetup | undefined;
  /** Events that came before the call was set up. */
  early: CallEvent[];
  /** The request asked for a recording (`record: true`); its id once it runs. */
  record: boolean;
  recordingId: string | undefined;
  /** The call's rate, from its graph (a recording's rate). */
  rateHz: number | undefined;
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
  /** An actor kind's ring spec by role (for sizing a graph's edges). */
  ringEdge(kind: string, role: string): keyof typeof EDGES | undefined;
  countCall(transport: string): void;
  countEnded(transport: string, reason: EndReason): void;
  /** Calls taken at once at most (Infinity: no limit). */
  maxCalls(): number;
  /** Why no call can be placed now (every worker of a kind overloaded), or undefined. */
  overloaded(): string | undefined;
  /** The call began to end (its conference lets go of it before its actors go). */
  callEnding?(callId: string): void;
  /** Writes the recordings of calls that ask for one; without it, `record: true` is refused. */
  readonly recorder?: CallRecorder | undefined;
}

/**
 * A call's agent seat: what its agent reads (the jitter/PLC output) and
 * writes (the leg's input), taken by a conference while the call is a member
 * (the agent actor is gone meanwhile) and given back to a new agent after.
 */
export interface AgentSeat {
  readonly config: ActorConfig;
  readonly rings: { readonly in: FrameRing; readonly out: FrameRing; readonly heard: FrameRing };
  /** The call's PCM rate at that seat. */
  readonly rateHz: number;
}

/**
 * The supervisor's calls: each one a graph of actors its transport declares
 * (src/calls/CallGraph.ts), with a lifecycle machine (src/calls/callMachine.ts)
 * that ends it once, for the first reason that comes — the API, the peer (a
 * leg's `peer.ended` event, a Media Stream's end), a failed worker or actor,
 * the drain — and its quality figures read from its actors' stats slots.
 */
export class CallRegistry {
  readonly #host: CallHost;
  readonly #log: Logger;
  readonly #calls = new Map<string, CallRecord>();
  readonly #transports = new Map<string, Transport>();
  readonly #ended: EndedCall[] = [];

  constructor(host: CallHost, transports: readonly Transport[]) {
    this.#host = host;
    this.#log = host.log;
    for (const t of transports) this.#transports.set(t.name, t);
  }

  /** Calls set up and not yet ended (those being set up not counted). */
  get size(): number {
    let n = 0;
    for (const c of this.#calls.values()) if (c.info !== undefined) n++;
    return n;
  }

  ids(): string[] {
    return [...this.#calls.values()].filter((c) => c.info !== undefined).map((c) => c.id);
  }

  /** The newest ended calls with their reasons, oldest first. */
  ended(): readonly EndedCall[] {
    return this.#ended;
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
    // Calls being set up count: a burst of requests cannot overshoot the limit.
    const max = this.#host.maxCalls();
    if (this.#calls.size >= max) {
      throw new RequestError(503, `the daemon is at its limit of ${max} calls (limits.maxCalls); try again later`);
    }
    const overloaded = this.#host.overloaded();
    if (overloaded !== undefined) throw new RequestError(503, `not taking calls: ${overloaded}`);
    const record = recordRequested(req);
    if (record && this.#host.recorder === undefined) throw new RequestError(422, 'record: this daemon has no recorder');
    const rec = this.#newRecord(randomUUID(), transport.name);
    rec.record = record;
    const id = rec.id;
    try {
      rec.setup = await transport.create(req, {
        callId: id,
        build: (graph) => this.#build(rec, graph),
        ringOf: (actorId, name) => this.#host.ringOf(actorId, name),
        statOf: (actorId, name) => this.#statOf(actorId, name),
        emit: (name, data) => this.addEvent(id, transport.name, name, data),
        end: (detail) => this.end(id, 'peer', detail),
      });
      if (record) this.#startRecording(rec);
    } catch (err) {
      await Promise.all(rec.actors.map((a) => this.#host.destroyActor(a)));
      rec.machine.send({ type: 'FAILED', detail: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    rec.info = {
      ...rec.setup.answer,
      ...(rec.recordingId !== undefined ? { recording: { id: rec.recordingId } } : {}),
      id,
      transport: transport.name,
      state: 'active',
      createdAt: new Date().toISOString(),
      actors: [...rec.actors],
      ...(rec.early.length > 0 ? { events: rec.early } : {}),
    };
    this.#host.countCall(transport.name);
    this.#log.info({ call: id, transport: transport.name, actors: rec.actors }, 'call created');
    rec.machine.send({ type: 'SET_UP' });
    return rec.info;
  }

  /** The call's quality figures by actor kind, read from its actors' stats slots, and its one E-model rating. */
  #statOf(actorId: string, name: string): (() => number) | undefined {
    const i = this.#host.actor(actorId)?.kind.stats.indexOf(name) ?? -1;
    // Looked up on each read: a restarted actor's record may be a new one.
    return i < 0 ? undefined : () => this.#host.actor(actorId)?.stats[i] ?? 0;
  }

  qos(callId: string): Record<string, Record<string, number>> {
    const call = this.#calls.get(callId);
    const qos: Record<string, Record<string, number>> = {};
    if (call?.info === undefined) return qos;
    let codec: unknown;
    for (const actorId of call.actors) {
      const a = this.#host.actor(actorId);
      if (a === undefined) continue;
      if (a.kind.name === 'jitter') codec = a.config['codec'];
      if (a.kind.qos === undefined) continue;
      const figures: Record<string, number> = {};
      for (const name of a.kind.qos) {
        const i = a.kind.stats.indexOf(name);
        if (i >= 0) figures[name] = a.stats[i]!;
      }
      qos[a.kind.name] = figures;
    }
    const transportQos = call.setup?.qos?.();
    if (transportQos !== undefined) qos[call.transport] = { ...qos[call.transport], ...transportQos };
    const rating = callQuality(codec, qos['jitter'], qos['rtp']?.['rttMs']);
    if (rating !== undefined) qos['call'] = rating;
    return qos;
  }

  list(): CallInfo[] {
    const out: CallInfo[] = [];
    for (const c of this.#calls.values()) if (c.info !== undefined) out.push(c.info);
    return out;
  }

  get(id: string): CallInfo | undefined {
    return this.#calls.get(id)?.info;
  }

  sendDtmf(callId: string, digits: string): Promise<boolean> {
    return this.#command(callId, 'rtp', 'leg that sends DTMF', { type: 'dtmf', digits });
  }

  sendToolOutput(callId: string, toolCallId: string, output: string): Promise<boolean> {
    return this.#command(callId, 'agent', 'agent', { type: 'toolOutput', callId: toolCallId, output });
  }

  /** Sends `command` to the call's actor of `kind`; false when there is no such call. The actor's RangeError is a 422. */
  async #command(callId: string, kind: string, what: string, command: ActorCommand): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call?.info === undefined) return false;
    const actor = call.info.actors.map((a) => this.#host.actor(a)).find((a) => a?.kind.name === kind);
    if (actor === undefined) throw new RequestError(409, `call ${callId} has no ${what} (${call.info.transport})`);
    if (actor.slot.state !== 'ready') throw new RequestError(503, `the call's ${what} is ${actor.state}`);
    try {
      await actor.slot.request('command', actor.id, command);
    } catch (err) {
      if (err instanceof Error && err.name === 'RangeError') throw new RequestError(422, err.message);
      throw err;
    }
    return true;
  }

  /**
   * Takes the call's agent out (its actor is destroyed) and hands its seat to
   * `holder` (a conference, shown as the call's `conference`). RequestError
   * 404 when there is no such call, 409 when it has no agent to replace.
   */
  async detachAgent(callId: string, holder: string): Promise<AgentSeat> {
    const call = this.#calls.get(callId);
    if (call?.info === undefined || call.info.state !== 'active') throw new RequestError(404, `no active call with id ${quote(callId)}`);
    const agent = call.actors.map((a) => this.#host.actor(a)).find((a) => a?.kind.name === 'agent');
    const [input, output, heard] = [agent?.rings['in'], agent?.rings['out'], agent?.rings['heard']];
    if (agent === undefined || input === undefined || output === undefined || heard === undefined) {
      throw new RequestError(409, `call ${callId} has no agent a conference can take the place of (${call.transport})`);
    }
    const rateHz = rateOf(agent.config) ?? input.maxSamples * 50;
    await this.#host.destroyActor(agent.id);
    this.#forget(call, agent.id);
    call.info['conference'] = holder;
    return { config: agent.config, rings: { in: input, out: output, heard }, rateHz };
  }

  /** Gives the seat back to a new agent of the same configuration; nothing when the call is gone or going. */
  async attachAgent(callId: string, seat: AgentSeat): Promise<void> {
    const call = this.#calls.get(callId);
    if (call?.info === undefined) return;
    delete call.info['conference'];
    if (call.info.state !== 'active') return;
    const id = await this.#host.createActor('agent', seat.config, callId, seat.rings);
    call.actors.push(id);
    call.info.actors = [...call.actors];
  }

  #forget(call: CallRecord, actorId: string): void {
    const at = call.actors.indexOf(actorId);
    if (at >= 0) call.actors.splice(at, 1);
    if (call.info !== undefined) call.info.actors = [...call.actors];
  }

  /** Ends the call and resolves when it is over; false when there is no such call (being set up counts as one). */
  async delete(id: string, reason: EndReason = 'hangup', detail = 'hung up through the API'): Promise<boolean> {
    const call = this.#calls.get(id);
    if (call === undefined) return false;
    call.machine.send({ type: 'END', reason, detail });
    await new Promise<void>((resolve) => {
      if (call.machine.getSnapshot().status === 'done') resolve();
      else call.machine.subscribe({ complete: () => resolve() });
    });
    return true;
  }

  /** Ends the call, with the reason (the peer left, its worker or an actor failed); does not wait. */
  end(id: string, reason: EndReason, detail: string): void {
    this.#calls.get(id)?.machine.send({ type: 'END', reason, detail });
  }

  addEvent(callId: string, source: string, name: string, data: Record<string, unknown>): void {
    const call = this.#calls.get(callId);
    if (call === undefined) return;
    const events = call.info === undefined ? call.early : ((call.info.events ??= []) as CallEvent[]);
    events.push({ at: new Date().toISOString(), actor: source, name, data });
    if (events.length > CALL_EVENTS_KEPT) {
      events.shift();
      if (call.info !== undefined) call.info.eventsDropped = ((call.info.eventsDropped as number | undefined) ?? 0) + 1;
    }
    // A leg saying its peer is gone ends the call (pushed by the actor, never polled).
    if (name === PEER_ENDED_EVENT) this.end(callId, 'peer', typeof data['reason'] === 'string' ? data['reason'] : 'the peer ended the call');
  }

  /** The record and its lifecycle machine; the record leaves the registry when the machine ends. */
  #newRecord(id: string, transport: string): CallRecord {
    const rec: CallRecord = {
      id,
      transport,
      actors: [],
      info: undefined,
      setup: undefined,
      early: [],
      record: false,
      recordingId: undefined,
      rateHz: undefined,
      machine: createXstateActor(callMachine, { input: { teardown: () => this.#teardown(rec) } }),
    };
    rec.machine.subscribe((snap) => {
      const state = (typeof snap.value === 'string' ? snap.value : 'active') as CallState;
      const was = rec.info?.state;
      if (rec.info !== undefined && state !== 'created') rec.info.state = state;
      if (state === 'ending' && was === 'active') this.#host.callEnding?.(id);
      if (state === 'ending') this.addEvent(id, 'call', 'call.ended', { reason: snap.context.reason, detail: snap.context.detail });
      if (snap.status === 'done') this.#ended_(rec, snap.context.reason ?? 'hangup', snap.context.detail);
    });
    this.#calls.set(id, rec);
    rec.machine.start();
    return rec;
  }

  /** Hands the call's recording taps to the recorder; a 422 when its transport has none. */
  #startRecording(rec: CallRecord): void {
    const rings = recordRings(rec.actors, (a, role) => this.#host.ringOf(a, role));
    if (rings === undefined || rec.rateHz === undefined) throw new RequestError(422, `record: ${rec.transport} calls cannot be recorded`);
    const emit = (name: string, data: Record<string, unknown>): void => this.addEvent(rec.id, 'recorder', name, data);
    rec.recordingId = this.#host.recorder!.start({ callId: rec.id, transport: rec.transport }, rings, rec.rateHz, emit);
  }

  /** Builds a graph for the call; all or nothing: a failure destroys what this build made (the transport may try again). */
  async #build(rec: CallRecord, asked: CallGraph): Promise<Record<string, string>> {
    const made: string[] = [];
    rec.rateHz ??= graphRateHz(asked);
    const graph = rec.record ? withRecordTaps(asked, (kind, role) => this.#host.ringEdge(kind, role) === 'record') : asked;
    const makeTap: MakeTap = () => {
      const { slots, maxSamples } = callEdge('record', rec.rateHz);
      return FrameRing.create(slots, maxSamples);
    };
    const makeRing: MakeRing = (from, to) => {
      const edge = this.#host.ringEdge(from.kind, from.role);
      const other = this.#host.ringEdge(to.kind, to.role);
      if (edge === undefined || other === undefined) {
        throw new RangeError(`call graph: no ring ${edge === undefined ? `${from.kind}.${from.role}` : `${to.kind}.${to.role}`}`);
      }
      if (edge !== other) throw new RangeError(`call graph: ${from.kind}.${from.role} (${edge}) cannot feed ${to.kind}.${to.role} (${other})`);
      const { slots, maxSamples } = callEdge(edge, rateOf(from.config) ?? rateOf(to.config));
      return FrameRing.create(slots, maxSamples);
    };
    try {
      const built = await buildGraph(graph, (kind, config, shared) => this.#host.createActor(kind, config, rec.id, shared), makeRing, made, makeTap);
      rec.actors.push(...made);
      // A transport may build after set-up (an outbound SIP call, once answered): the call shows its actors.
      if (rec.info !== undefined) rec.info.actors = [...rec.actors];
      return built;
    } catch (err) {
      await Promise.all(made.map((a) => this.#host.destroyActor(a)));
      throw err;
    }
  }

  /** Destroys the call's actors and releases what its transport holds: once, from the machine's `ending`. */
  async #teardown(rec: CallRecord): Promise<void> {
    try {
      // The recording's last figures are read before the actors (and their stats) go.
      const qos = rec.recordingId !== undefined ? this.qos(rec.id) : undefined;
      await Promise.all(rec.actors.map((a) => this.#host.destroyActor(a)));
      rec.setup?.release?.();
      if (rec.recordingId !== undefined) this.#host.recorder?.finish(rec.recordingId, qos ?? {});
    } catch (err) {
      this.#log.error({ call: rec.id, err }, 'hang-up failed');
    }
  }

  #ended_(rec: CallRecord, reason: EndReason, detail: string): void {
    this.#calls.delete(rec.id);
    // Never set up: the request failed, its error went to the caller and its actors are gone.
    if (rec.info === undefined) return;
    this.#ended.push({ id: rec.id, transport: rec.transport, endedAt: new Date().toISOString(), reason, detail });
    if (this.#ended.length > ENDED_CALLS_KEPT) this.#ended.shift();
    this.#host.countEnded(rec.transport, reason);
    const fields = { call: rec.id, transport: rec.transport, reason, detail };
    if (reason === 'worker-failed' || reason === 'actor-failed') this.#log.warn(fields, 'call ended');
    else this.#log.info(fields, 'call ended');
  }
}

/** The sample rate an actor's configuration states (`rateHz`), if any: a call's pcm rings are sized by it. */
function rateOf(config: ActorConfig): number | undefined {
  const r = config['rateHz'];
  return typeof r === 'number' ? r : undefined;
}
