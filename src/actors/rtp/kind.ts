import { RECORD_AGENT_ROLE } from '../../frames/edges.ts';
import { ENGINE_LATENCY_STATS } from '../engineLatency.ts';
import type { ActorKind } from '../ActorKind.ts';

/**
 * The RTP leg of one call (an RTP session, RFC 3550), on a network worker.
 *
 * Rings (both shared with the call's other actors):
 * - `packets`: the jitter actor's `in` ring; the leg writes each good RTP
 *   packet there with `PacketWriter` (frames/PacketRing.ts), stamped with its arrival time.
 * - `in`: the agent's `out` ring; the leg reads one 20 ms PCM frame per tick
 *   at the codec's rate, encodes it and sends it — unless it is silence or
 *   there is no peer yet: then it only skips it (nothing encoded or sent).
 * - `heard`: the agent's `heard` ring; after each frame sent, how many of the
 *   agent's frames are out (agent/kind.ts), and at a CLEAR the final count.
 *
 * Config: see `parseRtpLegConfig` (RtpLegConfig.ts).
 */
export const RTP_STATS = [
  'localPort',
  'remotePort',
  'packetsIn',
  'bytesIn',
  'packetsOut',
  'bytesOut',
  'droppedTooShort',
  'droppedBadVersion',
  'droppedCsrcPastEnd',
  'droppedExtensionPastEnd',
  'droppedBadPadding',
  'droppedWrongSource',
  'droppedWrongPayloadType',
  'droppedSsrcSwitch',
  'droppedSequenceJump',
  'droppedSrtpAuth',
  'droppedSrtpReplay',
  'droppedSrtpMalformed',
  'droppedRingFull',
  'droppedBadRtcp',
  // Latch mode: packets of a source still on probation, and sources outside latchCidr.
  'droppedLatchProbation',
  'droppedLatchRefused',
  'dtmfDigits',
  'dtmfLastEvent',
  'rtcpIn',
  'rtcpOut',
  'byeReceived',
  // The agent's frames not sent: silence (RFC 3551 §4.1 silence suppression), and
  // frames with no peer yet, of the wrong length, or beyond the backlog.
  'silenceFramesSkipped',
  'framesSkipped',
  'framesEncoded',
  'jitterMs',
  'lossFraction',
  'cumulativeLost',
  'peerLossFraction',
  'peerCumulativeLost',
  'peerJitterMs',
  'rttMs',
  'opusBitrateBps',
  'opusFec',
  'dtmfSent',
  // The outbound stream's identity and clock, kept here (the block outlives the actor) so a leg
  // re-created after its worker died goes on with the same SSRC, sequence and timestamp clock.
  'senderSsrc',
  'senderNextSequence',
  'senderTimestamp',
  'senderTimestampAtMs',
  ...ENGINE_LATENCY_STATS,
] as const;
export type RtpStatName = (typeof RTP_STATS)[number];

export const rtpKind: ActorKind = {
  name: 'rtp',
  pool: 'network',
  entry: './rtp/rtp.worker',
  stage: 2,
  perCall: true,
  rings: [
    // Packets to the jitter actor; the agent's audio in; `heard`: frames put on the wire are frames the caller hears.
    { name: 'packets', edge: 'packets' },
    { name: 'in', edge: 'pcm' },
    { name: 'heard', edge: 'heard' },
    // The agent's channel of the call's recording (actors/RecordTap.ts): what went out, only when the call records.
    { name: RECORD_AGENT_ROLE, edge: 'record', optional: true },
  ],
  stats: RTP_STATS,
  qos: ['packetsIn', 'packetsOut', 'jitterMs', 'lossFraction', 'peerLossFraction', 'rttMs', 'opusBitrateBps'],
};
