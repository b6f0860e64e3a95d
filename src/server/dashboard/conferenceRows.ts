import type { ConferenceInfo } from '../../conferences/conferenceInfo.ts';

/** A conference's entry in the dashboard feed, in order (the page reads them by position). */
export const CONFERENCE_COLUMNS = ['id', 'rateHz', 'dominant', 'members'] as const;
/** A member's entry: level in dBFS (tenths), talking and muted as 0/1, ducking in dB (tenths). */
export const MEMBER_COLUMNS = ['call', 'levelDbfs', 'talking', 'muted', 'duckDb'] as const;

/**
 * The live conferences as the feed's `conferences` array: each member's level
 * and talk state, refreshed every sample someone watches. Small by nature (a
 * conference holds at most 32 members), so ids are sent as they are.
 */
export function conferenceRows(conferences: readonly ConferenceInfo[]): string {
  return JSON.stringify(
    conferences.map((c) => [c.id, c.rateHz, c.dominant, c.members.map((m) => [m.call, m.levelDbfs, m.talking ? 1 : 0, m.muted ? 1 : 0, m.duckDb])]),
  );
}
