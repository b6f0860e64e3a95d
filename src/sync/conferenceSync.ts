import type { Logger } from 'pino';
import { memberStatIndex } from '../actors/mixer/kind.ts';
import { SyncGroupError, type SyncGroups } from './SyncGroups.ts';

/** The sync group a conference's members form: `conference.<id>` (a conference id is a UUID, so the name fits the groups' pattern). */
export function conferenceSyncGroup(conferenceId: string): string {
  return `conference.${conferenceId}`;
}

/**
 * Conferences and stream sync (issue 13 §2): a conference's members form a
 * sync group, so the mixer hears two members that sent the same instant at
 * the same instant (SR mapping, RFC 3550 §6.4.1; arrival time for members
 * without SRs). A member's frames wait in its ring until the mixer picks
 * them up — a frame of worker phase, more after a stall — and that wait is
 * part of when it is heard, so the group reads it from the mixer's stats
 * slots (`inWaitMs`, read in place at control rate; the mixer's actor
 * record and stats outlive a restart of its worker).
 */
export class ConferenceSync {
  readonly #sync: SyncGroups;
  readonly #mixerStats: (mixerId: string) => Float64Array | undefined;
  readonly #log: Logger;

  constructor(sync: SyncGroups, mixerStats: (mixerId: string) => Float64Array | undefined, log: Logger) {
    this.#sync = sync;
    this.#mixerStats = mixerStats;
    this.#log = log;
  }

  /** The call joined the conference, mixed at `slot` by `mixerId`: it joins the conference's sync group. */
  memberJoined(conferenceId: string, callId: string, mixerId: string, slot: number): void {
    const at = memberStatIndex(slot, 'inWaitMs');
    try {
      this.#sync.join(conferenceSyncGroup(conferenceId), callId, { heardAfterMs: () => this.#mixerStats(mixerId)?.[at] ?? Number.NaN });
    } catch (err) {
      // A member with no inbound stream to align (none yet on some transports) is mixed as it comes: it costs the others nothing.
      if (!(err instanceof SyncGroupError)) throw err;
      this.#log.info({ conference: conferenceId, call: callId, reason: err.message }, 'conference member mixed by arrival, not aligned');
    }
  }

  /** The call left the conference (or the conference went): it leaves the group, its buffer back to its own delay. */
  memberLeft(conferenceId: string, callId: string): void {
    if (this.#sync.groupOf(callId) === conferenceSyncGroup(conferenceId)) this.#sync.leave(callId);
  }
}
