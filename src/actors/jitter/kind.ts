import type { ActorKind } from '../ActorKind.ts';
import { JITTER_STAT_NAMES } from './JitterStats.ts';
import { RECORD_CALLER_ROLE } from '../../frames/edges.ts';

/**
 * The jitter/PLC actor: one per inbound stream, on a media worker.
 *
 * Rings:
 * - `in`: RTP packets from the leg (RTP session or Twilio leg), one per slot,
 *   laid out as frames/PacketRing.ts says (PacketWriter on the leg's side,
 *   PacketReader here).
 * - `out`: the decoded stream, one 20 ms PCM frame per tick at the configured
 *   rate; flags CONCEALED, COMFORT_NOISE or SILENCE say what a frame is;
 *   timestamp is the output sample clock.
 *
 * Config: `{ codec: 'PCMU'|'PCMA'|'G722'|'opus'|'L16', rateHz?, minDelayMs?
 * (20), maxDelayMs? (200), startDelayMs? (60) }`; rateHz defaults to the
 * codec's audio rate (8000 for G.711, 16000 for G.722 and L16, 48000 for Opus).
 */

export const jitterKind: ActorKind = {
  name: 'jitter',
  pool: 'media',
  entry: './jitter/jitter.worker',
  stage: 0,
  perCall: true,
  rings: [
    { name: 'in', edge: 'packets' },
    { name: 'out', edge: 'pcm' },
    // The caller's channel of the call's recording (actors/RecordTap.ts), only when the call records.
    { name: RECORD_CALLER_ROLE, edge: 'record', optional: true },
  ],
  // levelDbfs: the played stream's RMS level, VU-smoothed (InboundLevel.ts); a figure to look at, not to sum, so not in `qos`.
  stats: [...JITTER_STAT_NAMES, 'ringOverflows', 'packetsRejected', 'levelDbfs'],
  qos: [
    'packetsReceived',
    'packetsLost',
    'packetsLate',
    'jitterMs',
    'concealedSamples',
    'concealmentEvents',
    'currentDelayMs',
    'targetDelayMs',
    'interruptionCount',
  ],
};
