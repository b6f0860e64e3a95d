import type { ActorKind } from '../ActorKind.ts';

/** Members a conference holds at most (issue: up to 32). */
export const MAX_MEMBERS = 32;

/** The mixer's own figures, then one block of MEMBER_STATS per member slot. */
export const MIXER_STATS = ['members', 'rateHz', 'ticks', 'mixUs', 'maxMixUs', 'dominantSlot', 'commands'] as const;

/**
 * Per member slot: its level (dBFS, VU-smoothed), whether it is talking (the
 * VAD), how far ducking lowers it (dB, ≤ 0), frames mixed, frames that were
 * not there in time (silence mixed in their place), frames dropped to keep
 * its delay bounded, and mix-minus frames its leg had no room for.
 */
export const MEMBER_STATS = ['levelDbfs', 'talking', 'duckDb', 'framesIn', 'framesMissing', 'framesDropped', 'outOverflows'] as const;

export type MemberStat = (typeof MEMBER_STATS)[number];

/** Index in the mixer's stats of a member slot's figure. */
export function memberStatIndex(slot: number, name: MemberStat): number {
  return MIXER_STATS.length + slot * MEMBER_STATS.length + MEMBER_STATS.indexOf(name);
}

/**
 * A conference's mixer: one per conference, on a media worker (the call
 * workers under the `call` placement, the jitter/PLC workers under `kind`).
 * It has no rings of its own at creation: each member brings two, its
 * jitter/PLC output (`in.<slot>`) and its leg's input (`out.<slot>`), taken
 * over from the member call's agent, and handed over by `member.join`
 * commands (src/protocol.ts). Each ring stays single-producer
 * single-consumer: the mixer reads members on other workers through them,
 * and a member whose frame is not there in time is mixed as silence.
 *
 * Config: `{ rateHz, ducking: false | { depthDb, attackMs, releaseMs }, members: MixerMemberConfig[] }`.
 */
export const mixerKind: ActorKind = {
  name: 'mixer',
  pool: 'media',
  entry: './jitter/jitter.worker',
  media: true,
  stage: 3,
  rings: [],
  stats: [
    ...MIXER_STATS,
    ...Array.from({ length: MAX_MEMBERS }, (_, slot) => MEMBER_STATS.map((n) => `m${slot}.${n}`)).flat(),
  ],
};
