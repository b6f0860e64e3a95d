import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActorCommand, ActorConfig, MixerMemberConfig } from '../protocol.ts';
import type { ActorRecord } from '../supervisor/ActorRecord.ts';
import { RequestError, type DaemonState } from '../supervisor/Runtime.ts';
import type { AgentSeat } from '../calls/CallRegistry.ts';
import { DEFAULT_DUCKING, type DuckingSettings } from '../actors/mixer/Ducker.ts';
import { MAX_MEMBERS } from '../actors/mixer/kind.ts';
import { quote } from '../wire/text.ts';
import {
  memberInfo,
  mixerStat,
  type ConferenceInfo,
  type ConferenceRequest,
  type MemberInfo,
  type MemberPatch,
  type MemberRecord,
  type MemberRequest,
} from './conferenceInfo.ts';

/** What the conference registry uses of the supervisor and its calls. */
export interface ConferenceHost {
  readonly log: Logger;
  state(): DaemonState;
  createActor(kind: string, config: ActorConfig): Promise<string>;
  destroyActor(actorId: string): Promise<boolean>;
  commandActor(actorId: string, command: ActorCommand): Promise<void>;
  actor(actorId: string): ActorRecord | undefined;
  detachAgent(callId: string, conferenceId: string): Promise<AgentSeat>;
  attachAgent(callId: string, seat: AgentSeat): Promise<void>;
}

interface Conference {
  readonly id: string;
  readonly createdAt: string;
  readonly mixerId: string;
  readonly minRateHz: number;
  readonly ducking: DuckingSettings | false;
  readonly record: boolean;
  readonly members: Map<string, MemberRecord & { seat: AgentSeat }>;
  /** Membership changes one at a time (slots are handed out in order). */
  queue: Promise<unknown>;
}

/**
 * The supervisor's conferences: each one a mixer actor on a media worker, and
 * its members — calls whose agent seat the mixer took (their jitter/PLC
 * output in, their leg's input out). The mixer's actor record is kept current
 * (its `members` config and `in.<slot>`/`out.<slot>` rings), so a mixer whose
 * worker restarts comes back with every member.
 */
export class ConferenceRegistry {
  readonly #host: ConferenceHost;
  readonly #conferences = new Map<string, Conference>();
  /** Call id → conference id. */
  readonly #memberOf = new Map<string, string>();

  constructor(host: ConferenceHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#conferences.size;
  }

  async create(req: ConferenceRequest): Promise<ConferenceInfo> {
    const state = this.#host.state();
    if (state !== 'running') throw new RequestError(503, `not taking conferences: the daemon is ${state}`);
    const minRateHz = req.rateHz ?? 8000;
    const ducking = req.ducking === undefined || req.ducking === false ? false : { ...DEFAULT_DUCKING, ...(req.ducking === true ? {} : req.ducking) };
    const config: ActorConfig = { rateHz: minRateHz, ducking, members: [] };
    let mixerId: string;
    try {
      mixerId = await this.#host.createActor('mixer', config);
    } catch (err) {
      if (err instanceof Error && err.name === 'RangeError') throw new RequestError(422, err.message);
      throw err;
    }
    const conf: Conference = {
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      mixerId,
      minRateHz,
      ducking,
      record: req.record ?? false,
      members: new Map(),
      queue: Promise.resolve(),
    };
    this.#conferences.set(conf.id, conf);
    this.#host.log.info({ conference: conf.id, mixer: mixerId, rateHz: minRateHz, ducking }, 'conference created');
    return this.#info(conf);
  }

  list(): ConferenceInfo[] {
    return [...this.#conferences.values()].map((c) => this.#info(c));
  }

  get(id: string): ConferenceInfo | undefined {
    const c = this.#conferences.get(id);
    return c === undefined ? undefined : this.#info(c);
  }

  /** The conference a call is a member of. */
  conferenceOf(callId: string): string | undefined {
    return this.#memberOf.get(callId);
  }

  /** Throws the RequestError a join would (no such conference, full) before a call is made for it. */
  checkJoinable(id: string): void {
    const c = this.#need(id);
    if (c.members.size >= MAX_MEMBERS) throw new RequestError(409, `conference ${id} is full (${MAX_MEMBERS} members)`);
  }

  /** The call joins: its agent's seat goes to the mixer. 404 (no conference, no call), 409 (full, already a member). */
  addMember(id: string, req: MemberRequest): Promise<MemberInfo> {
    const c = this.#need(id);
    return this.#serial(c, async () => {
      if (this.#conferences.get(id) !== c) throw new RequestError(404, `no conference with id ${quote(id)}`);
      const other = this.#memberOf.get(req.call);
      if (other !== undefined) throw new RequestError(409, `call ${req.call} is already a member of conference ${other}`);
      if (c.members.size >= MAX_MEMBERS) throw new RequestError(409, `conference ${id} is full (${MAX_MEMBERS} members)`);
      let slot = 0;
      const taken = new Set([...c.members.values()].map((m) => m.settings.slot));
      while (taken.has(slot)) slot++;
      const seat = await this.#host.detachAgent(req.call, id);
      const settings: MixerMemberConfig = { slot, rateHz: seat.rateHz, gain: req.gain ?? 1, muted: req.muted ?? false, delayFrames: 0 };
      const member = { call: req.call, joinedAt: new Date().toISOString(), settings, seat };
      const mixer = this.#host.actor(c.mixerId);
      try {
        if (mixer === undefined) throw new RequestError(503, `conference ${id} has no mixer`);
        // The record first: a mixer re-created from here on comes back with the member.
        mixer.rings[`in.${slot}`] = seat.rings.in;
        mixer.rings[`out.${slot}`] = seat.rings.out;
        c.members.set(req.call, member);
        this.#syncConfig(c, mixer);
        if (mixer.slot.state === 'ready' && mixer.state === 'running') {
          await this.#host.commandActor(c.mixerId, { type: 'member.join', member: settings, in: seat.rings.in.buffer, out: seat.rings.out.buffer });
        }
      } catch (err) {
        c.members.delete(req.call);
        if (mixer !== undefined) {
          delete mixer.rings[`in.${slot}`];
          delete mixer.rings[`out.${slot}`];
          this.#syncConfig(c, mixer);
        }
        await this.#host.attachAgent(req.call, seat);
        if (err instanceof Error && err.name === 'RangeError') throw new RequestError(422, err.message);
        throw err;
      }
      this.#memberOf.set(req.call, id);
      this.#host.log.info({ conference: id, call: req.call, slot, rateHz: seat.rateHz }, 'conference member joined');
      return memberInfo(member, mixer.stats);
    });
  }

  /** New gain or mute for a member; 404 when either is unknown. */
  updateMember(id: string, callId: string, patch: MemberPatch): Promise<MemberInfo> {
    const c = this.#need(id);
    return this.#serial(c, async () => {
      const m = c.members.get(callId);
      if (m === undefined) throw new RequestError(404, `call ${callId} is not a member of conference ${id}`);
      m.settings = { ...m.settings, ...(patch.gain !== undefined ? { gain: patch.gain } : {}), ...(patch.muted !== undefined ? { muted: patch.muted } : {}) };
      const mixer = this.#host.actor(c.mixerId);
      if (mixer !== undefined) {
        this.#syncConfig(c, mixer);
        if (mixer.slot.state === 'ready' && mixer.state === 'running') await this.#host.commandActor(c.mixerId, { type: 'member.update', member: m.settings });
      }
      return memberInfo(m, mixer?.stats ?? new Float64Array(0));
    });
  }

  /** The member leaves; its call gets its agent back. False when it is not a member. */
  removeMember(id: string, callId: string): Promise<boolean> {
    const c = this.#need(id);
    return this.#serial(c, () => this.#remove(c, callId, true));
  }

  /** Every member leaves (their calls get their agents back) and the mixer goes. False when there is no such conference. */
  async delete(id: string): Promise<boolean> {
    const c = this.#conferences.get(id);
    if (c === undefined) return false;
    this.#conferences.delete(id);
    await this.#serial(c, async () => {
      for (const callId of [...c.members.keys()]) await this.#remove(c, callId, true);
      await this.#host.destroyActor(c.mixerId);
    });
    this.#host.log.info({ conference: id }, 'conference deleted');
    return true;
  }

  /** A member call is ending: the mixer lets go of its rings at once (no agent comes back). */
  callEnding(callId: string): void {
    const id = this.#memberOf.get(callId);
    const c = id === undefined ? undefined : this.#conferences.get(id);
    if (c === undefined) return;
    void this.#serial(c, () => this.#remove(c, callId, false)).catch((err: unknown) => this.#host.log.warn({ conference: id, call: callId, err }, 'member removal failed'));
  }

  async #remove(c: Conference, callId: string, restoreAgent: boolean): Promise<boolean> {
    const m = c.members.get(callId);
    if (m === undefined) return false;
    const slot = m.settings.slot;
    const mixer = this.#host.actor(c.mixerId);
    if (mixer !== undefined) {
      if (mixer.slot.state === 'ready' && mixer.state === 'running') {
        await this.#host.commandActor(c.mixerId, { type: 'member.leave', slot }).catch((err: unknown) => {
          // The worker went down meanwhile: the record below decides what a re-created mixer takes.
          this.#host.log.warn({ conference: c.id, call: callId, err }, 'mixer did not take the leave');
        });
      }
      delete mixer.rings[`in.${slot}`];
      delete mixer.rings[`out.${slot}`];
    }
    c.members.delete(callId);
    this.#memberOf.delete(callId);
    if (mixer !== undefined) this.#syncConfig(c, mixer);
    if (restoreAgent) await this.#host.attachAgent(callId, m.seat);
    this.#host.log.info({ conference: c.id, call: callId, slot }, 'conference member left');
    return true;
  }

  #syncConfig(c: Conference, mixer: ActorRecord): void {
    mixer.config['members'] = [...c.members.values()].map((m) => ({ ...m.settings }));
  }

  #need(id: string): Conference {
    const c = this.#conferences.get(id);
    if (c === undefined) throw new RequestError(404, `no conference with id ${quote(id)}`);
    return c;
  }

  #serial<T>(c: Conference, fn: () => Promise<T>): Promise<T> {
    const run = c.queue.then(fn, fn);
    c.queue = run.catch(() => undefined);
    return run;
  }

  #info(c: Conference): ConferenceInfo {
    const mixer = this.#host.actor(c.mixerId);
    const stats = mixer?.stats ?? new Float64Array(0);
    const members = [...c.members.values()].map((m) => memberInfo(m, stats));
    const dominantSlot = mixerStat(stats, 'dominantSlot');
    return {
      id: c.id,
      createdAt: c.createdAt,
      rateHz: mixerStat(stats, 'rateHz') || c.minRateHz,
      minRateHz: c.minRateHz,
      ducking: c.ducking,
      record: c.record,
      mixer: {
        id: c.mixerId,
        worker: mixer?.slot.id ?? '',
        state: mixer?.state ?? 'stopped',
        ticks: mixerStat(stats, 'ticks'),
        mixUs: mixerStat(stats, 'mixUs'),
        maxMixUs: mixerStat(stats, 'maxMixUs'),
      },
      dominant: members.find((m) => m.slot === dominantSlot)?.call ?? null,
      members,
    };
  }
}
