import type { ActorConfig, MixerMemberConfig } from '../../protocol.ts';
import { SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';
import { checkMember } from './ConferenceMixer.ts';
import type { DuckingSettings } from './Ducker.ts';
import { MAX_MEMBERS } from './kind.ts';

/** A mixer's configuration (its actor record keeps it current, so a restarted mixer comes back with its members). */
export interface MixerConfig {
  /** The lowest conference rate; members of a higher rate raise it. */
  rateHz: number;
  ducking: DuckingSettings | undefined;
  members: MixerMemberConfig[];
}

/** Checks a mixer's configuration (control time): RangeError naming what is wrong. */
export function parseMixerConfig(config: ActorConfig): MixerConfig {
  const rateHz = config['rateHz'] ?? 8000;
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`mixer: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [rateHz:${String(rateHz)}]`);
  }
  const members = config['members'] ?? [];
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) throw new RangeError(`mixer: members must be an array of at most ${MAX_MEMBERS}`);
  for (const m of members as MixerMemberConfig[]) checkMember(m, MAX_MEMBERS);
  return { rateHz, ducking: parseDucking(config['ducking']), members: members as MixerMemberConfig[] };
}

function parseDucking(d: unknown): DuckingSettings | undefined {
  if (d === undefined || d === false) return undefined;
  if (typeof d !== 'object' || d === null) throw new RangeError('mixer: ducking must be false or { depthDb, attackMs, releaseMs }');
  const s = d as Record<string, unknown>;
  const num = (k: string, lo: number, hi: number): number => {
    const v = s[k];
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new RangeError(`mixer: ducking.${k} must be a number in ${lo}..${hi} [got:${String(v)}]`);
    return v;
  };
  return { depthDb: num('depthDb', 0, 40), attackMs: num('attackMs', 0, 5000), releaseMs: num('releaseMs', 0, 10_000) };
}
