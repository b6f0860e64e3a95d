import type { Logger } from 'pino';
import type { ActorCommand } from '../protocol.ts';
import type { ActorStatsView } from '../supervisor/Runtime.ts';
import { newMemberPlan, planSyncDelays, type SyncMemberFigures, type SyncMemberPlan } from './syncPlan.ts';

/** How often the groups are re-planned: the stats it reads move once a frame, the fits once a second. */
export const SYNC_INTERVAL_MS = 200;
/** Members of one group: a conference's limit. */
export const MAX_SYNC_MEMBERS = 32;
const GROUP_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** What the groups need of the runtime: calls' actors, their stats slots, and commands to them. */
export interface SyncHost {
  getCall(id: string): { actors: readonly string[] } | undefined;
  actorStats(actorId: string): ActorStatsView | undefined;
  commandActor(actorId: string, command: ActorCommand): Promise<void>;
}

/** One member as /status shows it. */
export interface SyncMemberStatus {
  call: string;
  /** True when its samples are placed by SRs (RFC 3550 §6.4.1); false: by arrival time. */
  mapped: boolean;
  /** When it plays a sample less when the sample was taken (sender wallclock, or earliest arrival), ms; null before it plays. */
  lagMs: number | null;
  /** Delay held beyond its own jitter target to align with the group, ms. */
  syncDelayMs: number;
  /** Its sender's media clock against ours, ppm, and the 95% half-width; null until fitted (RTP legs only). */
  clockDriftPpm: number | null;
  clockDriftCiPpm: number | null;
  /** Its sender's wallclock less ours (less the least one-way delay), ms, by its SRs; null without them. */
  clockOffsetMs: number | null;
  /** How long its frames wait past its buffer before they are heard (a conference mixer's pick-up), ms; null when not known. */
  heardAfterMs: number | null;
}

/** How a member's frames reach the ear, where something stands between its buffer and playout. */
export interface SyncMemberOptions {
  /** How long its frames wait past its jitter buffer before they are heard, ms (NaN: not known yet). Read at control rate. */
  heardAfterMs?: () => number;
}

export interface SyncGroupStatus {
  group: string;
  /** Largest lag difference between playing members, ms. */
  spreadMs: number;
  members: SyncMemberStatus[];
}

interface Member {
  readonly call: string;
  readonly plan: SyncMemberPlan;
  readonly heardAfterMs: (() => number) | undefined;
  /** A command is on its way: do not send another until it lands. */
  sending: boolean;
}

interface Group {
  readonly members: Member[];
  spreadMs: number;
}

/** Which error `join` throws; the HTTP layer maps it (RequestError). */
export class SyncGroupError extends Error {
  override name = 'SyncGroupError';
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sync groups: streams played aligned to their senders' clocks (syncPlan.ts).
 * A call joins one group at a time; every SYNC_INTERVAL_MS each group is
 * planned from its members' stats slots (read in place, no message) and a
 * member whose sync delay should change gets a `syncDelay` command on its
 * jitter actor. A call that ended leaves its group by itself; an actor
 * re-created after its worker failed starts at no sync delay, and the next
 * pass gives it its delay again.
 *
 * The mixer needs nothing more: it reads each member's jitter output ring
 * every 20 ms, and the rings already hold aligned audio. What a member's
 * frames wait in that ring before the mixer takes them is part of when they
 * are heard: a member that gives `heardAfterMs` (conferenceSync.ts) has it
 * counted in its lag (syncPlan.ts).
 */
export class SyncGroups {
  readonly #host: SyncHost;
  readonly #log: Logger;
  readonly #groups = new Map<string, Group>();
  readonly #groupOf = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(host: SyncHost, log: Logger) {
    this.#host = host;
    this.#log = log;
  }

  /** Adds the call to `group` (made on first use), leaving any group it was in. */
  join(group: string, callId: string, opts: SyncMemberOptions = {}): void {
    if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
      throw new SyncGroupError(400, 'a sync group name is 1–64 characters of A–Z a–z 0–9 . _ -');
    }
    const call = this.#host.getCall(callId);
    if (call === undefined) throw new SyncGroupError(404, `no such call [call:${callId}]`);
    if (this.#jitterOf(call) === undefined) throw new SyncGroupError(409, `call ${callId} has no inbound stream to align`);
    const was = this.#groups.get(group)?.members.find((m) => m.call === callId);
    if (was !== undefined && was.heardAfterMs === opts.heardAfterMs) return;
    const g = this.#groups.get(group) ?? { members: [], spreadMs: 0 };
    if (was === undefined && g.members.length >= MAX_SYNC_MEMBERS) throw new SyncGroupError(409, `sync group ${group} is full [members:${MAX_SYNC_MEMBERS}]`);
    this.leave(callId);
    g.members.push({ call: callId, plan: newMemberPlan(), heardAfterMs: opts.heardAfterMs, sending: false });
    this.#groups.set(group, g);
    this.#groupOf.set(callId, group);
    this.#schedule();
  }

  /** Takes the call out of its group and its buffer back to its own delay; false when it was in none. */
  leave(callId: string): boolean {
    const name = this.#groupOf.get(callId);
    if (name === undefined) return false;
    this.#groupOf.delete(callId);
    const g = this.#groups.get(name)!;
    const i = g.members.findIndex((m) => m.call === callId);
    if (i >= 0) g.members.splice(i, 1);
    if (g.members.length === 0) this.#groups.delete(name);
    const call = this.#host.getCall(callId);
    const jitter = call && this.#jitterOf(call);
    if (jitter !== undefined) this.#send(jitter, 0, undefined);
    return true;
  }

  /** The group a call is in, if any. */
  groupOf(callId: string): string | undefined {
    return this.#groupOf.get(callId);
  }

  status(): SyncGroupStatus[] {
    const out: SyncGroupStatus[] = [];
    for (const [group, g] of this.#groups) {
      out.push({
        group,
        spreadMs: g.spreadMs,
        members: g.members.map((m) => {
          const rtp = this.#stats(m.call, 'rtp');
          return {
            call: m.call,
            mapped: m.plan.mapped,
            lagMs: Number.isFinite(m.plan.lagMs) ? m.plan.lagMs : null,
            syncDelayMs: m.plan.delayMs,
            clockDriftPpm: finite(rtp && read(rtp, 'clockDriftPpm')),
            clockDriftCiPpm: finite(rtp && read(rtp, 'clockDriftCiPpm')),
            clockOffsetMs: finite(rtp && read(rtp, 'clockOffsetMs')),
            heardAfterMs: finite(m.heardAfterMs?.()),
          };
        }),
      });
    }
    return out;
  }

  /** One planning pass over every group (the timer's; tests call it to step without waiting). */
  plan(): void {
    for (const g of this.#groups.values()) {
      for (let i = g.members.length - 1; i >= 0; i--) {
        const m = g.members[i]!;
        if (this.#host.getCall(m.call) === undefined) this.leave(m.call);
      }
      const figures = g.members.map((m) => this.#figures(m.call, m.heardAfterMs?.() ?? 0));
      g.spreadMs = planSyncDelays(
        figures,
        g.members.map((m) => m.plan),
      );
      g.members.forEach((m, i) => {
        const f = figures[i];
        const jitter = this.#jitterOf(this.#host.getCall(m.call));
        if (f === undefined || jitter === undefined || m.sending) return;
        if (Math.abs(f.syncDelayMs - m.plan.delayMs) >= 1) this.#send(jitter, m.plan.delayMs, m);
      });
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#groups.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        return;
      }
      this.plan();
    }, SYNC_INTERVAL_MS);
    this.#timer.unref();
  }

  #send(jitterActor: string, ms: number, m: Member | undefined): void {
    if (m !== undefined) m.sending = true;
    this.#host.commandActor(jitterActor, { type: 'syncDelay', ms }).then(
      () => {
        if (m !== undefined) m.sending = false;
      },
      (err: unknown) => {
        // Its worker is being replaced (the actor comes back at no sync delay) or the call ended: the next pass sees.
        if (m !== undefined) m.sending = false;
        this.#log.debug({ err, actor: jitterActor }, 'sync delay not applied');
      },
    );
  }

  #jitterOf(call: { actors: readonly string[] } | undefined): string | undefined {
    return call?.actors.find((id) => this.#host.actorStats(id)?.kind === 'jitter');
  }

  #stats(callId: string, kind: string): ActorStatsView | undefined {
    const call = this.#host.getCall(callId);
    if (call === undefined) return undefined;
    for (const id of call.actors) {
      const v = this.#host.actorStats(id);
      if (v?.kind === kind) return v;
    }
    return undefined;
  }

  #figures(callId: string, heardAfterMs: number): SyncMemberFigures | undefined {
    const j = this.#stats(callId, 'jitter');
    if (j === undefined) return undefined;
    const playedTs = read(j, 'playedRtpTimestamp');
    const playedAtMs = read(j, 'playedAtMs');
    if (!Number.isFinite(playedTs) || !Number.isFinite(playedAtMs)) return undefined;
    const rtp = this.#stats(callId, 'rtp');
    let wallclock = Number.NaN;
    if (rtp !== undefined) {
      const srNtp = read(rtp, 'srNtpMs');
      const srRtp = read(rtp, 'srRtpTimestamp');
      const clockHz = read(j, 'rtpClockHz');
      // RFC 3550 §6.4.1: the played sample's sender wallclock, a signed 32-bit RTP step from the SR's pair.
      if (Number.isFinite(srNtp) && Number.isFinite(srRtp) && clockHz > 0) wallclock = srNtp + ((((playedTs >>> 0) - srRtp) | 0) / clockHz) * 1000;
    }
    return {
      playedRtpTimestamp: playedTs,
      playedAtMs,
      playedDelayMs: read(j, 'playedDelayMs'),
      ownTargetDelayMs: read(j, 'ownTargetDelayMs'),
      syncDelayMs: read(j, 'syncDelayMs'),
      playedWallclockMs: wallclock,
      heardAfterMs,
    };
  }
}

function read(v: ActorStatsView, name: string): number {
  const i = v.names.indexOf(name);
  return i < 0 ? Number.NaN : v.values[i]!;
}

function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}
