import { MEMBER_STATS, memberStatIndex, MIXER_STATS } from '../actors/mixer/kind.ts';
import type { DuckingSettings } from '../actors/mixer/Ducker.ts';
import type { MixerMemberConfig } from '../protocol.ts';

/** `POST /v1/conferences` (validated by the route). */
export interface ConferenceRequest {
  /** The lowest conference rate; the highest member rate raises it (default 8000). */
  rateHz?: number;
  /** true: the default ducking; an object: its own settings; false or absent: none. */
  ducking?: boolean | Partial<DuckingSettings>;
  /** Taken and shown; recording a conference is not done here. */
  record?: boolean;
}

/** `POST /v1/conferences/:id/members`. */
export interface MemberRequest {
  call: string;
  /** Linear, 0..16 (1: as it comes). */
  gain?: number;
  muted?: boolean;
}

export type MemberPatch = Partial<Pick<MemberRequest, 'gain' | 'muted'>>;

/** A member as the API shows it: its settings, and its figures from the mixer's stats. */
export interface MemberInfo {
  call: string;
  slot: number;
  rateHz: number;
  gain: number;
  muted: boolean;
  joinedAt: string;
  levelDbfs: number;
  talking: boolean;
  duckDb: number;
  framesIn: number;
  framesMissing: number;
  framesDropped: number;
  outOverflows: number;
}

export interface ConferenceInfo {
  id: string;
  createdAt: string;
  /** The rate it mixes at now. */
  rateHz: number;
  minRateHz: number;
  ducking: DuckingSettings | false;
  record: boolean;
  /** The mixer actor, and its state (a restarting worker: `restarting`). */
  mixer: { id: string; worker: string; state: string; ticks: number; mixUs: number; maxMixUs: number };
  /** The call that has the floor (ducking), if any. */
  dominant: string | null;
  members: MemberInfo[];
}

/** What a member is to the registry. */
export interface MemberRecord {
  readonly call: string;
  readonly joinedAt: string;
  settings: MixerMemberConfig;
}

/** A member's figures from the mixer's stats slots. */
export function memberInfo(m: MemberRecord, stats: Float64Array): MemberInfo {
  const at = (name: (typeof MEMBER_STATS)[number]): number => stats[memberStatIndex(m.settings.slot, name)] ?? 0;
  return {
    call: m.call,
    slot: m.settings.slot,
    rateHz: m.settings.rateHz,
    gain: m.settings.gain,
    muted: m.settings.muted,
    joinedAt: m.joinedAt,
    levelDbfs: Math.round(at('levelDbfs') * 10) / 10,
    talking: at('talking') === 1,
    duckDb: Math.round(at('duckDb') * 10) / 10,
    framesIn: at('framesIn'),
    framesMissing: at('framesMissing'),
    framesDropped: at('framesDropped'),
    outOverflows: at('outOverflows'),
  };
}

/** One of the mixer's own figures. */
export function mixerStat(stats: Float64Array, name: (typeof MIXER_STATS)[number]): number {
  return stats[MIXER_STATS.indexOf(name)] ?? 0;
}
