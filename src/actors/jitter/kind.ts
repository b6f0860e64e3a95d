import type { ActorKind } from '../ActorKind.ts';
import { JITTER_STAT_NAMES } from './JitterStats.ts';
import { MAX_PAYLOAD_BYTES } from './PacketDecoder.ts';

/**
 * The jitter/PLC actor: one per inbound stream, on a media worker.
 *
 * Rings:
 * - `in`: RTP packets from the leg (RTP session or Twilio leg), one per slot.
 *   A packet is not PCM, so its slot's header fields mean:
 *
 *   | slot field   | holds                                                             |
 *   |--------------|-------------------------------------------------------------------|
 *   | sequence     | bits 0–15: RTP sequence number; bits 16–31: `ssrcTag(ssrc)`        |
 *   | timestamp    | RTP timestamp                                                      |
 *   | rateHz       | arrival time: `epochMs()` when the leg received it, mod 2^32 (ms)  |
 *   | sampleCount  | payload length in bytes (1–MAX_PAYLOAD_BYTES)                      |
 *   | flags        | bit 8: RTP marker; bits 16–23: codec number (1 Opus, 2 µ-law,      |
 *   |              | 3 A-law, 4 G.722, 5 L16, as the raw stream protocol); 0 = unstated |
 *
 *   The payload bytes are packed into the slot's int16 area in memory order
 *   (slot byte k = payload byte k). Arrival time travels with the packet,
 *   stamped by the leg on receipt, so the delay manager sees network jitter
 *   rather than the actor's 20 ms tick. `PacketWriter` (JitterActor.ts) writes
 *   this layout.
 * - `out`: the decoded stream, one 20 ms PCM frame per tick at the configured
 *   rate; flags CONCEALED, COMFORT_NOISE or SILENCE say what a frame is;
 *   timestamp is the output sample clock.
 *
 * Config: `{ codec: 'PCMU'|'PCMA'|'G722'|'opus'|'L16', rateHz?, minDelayMs?
 * (20), maxDelayMs? (200), startDelayMs? (60) }`; rateHz defaults to the
 * codec's audio rate (8000 for G.711, 16000 for G.722 and L16, 48000 for Opus).
 */

/** 64 packet slots: 1.28 s of 20 ms packets; the actor drains the ring every tick. */
const PACKET_RING_SLOTS = 64;
/** 64 frames of output: a consumer may lag 1.28 s before frames are dropped. */
const FRAME_RING_SLOTS = 64;

export const PACKET_FLAG_MARKER = 1 << 8;
export const PACKET_CODEC_SHIFT = 16;

export const jitterKind: ActorKind = {
  name: 'jitter',
  pool: 'media',
  entry: './jitter/jitter.worker',
  rings: [
    { name: 'in', slots: PACKET_RING_SLOTS, maxSamples: MAX_PAYLOAD_BYTES },
    { name: 'out', slots: FRAME_RING_SLOTS, maxSamples: 960 },
  ],
  stats: [...JITTER_STAT_NAMES, 'ringOverflows', 'packetsRejected'],
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
