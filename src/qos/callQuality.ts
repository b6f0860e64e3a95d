import { CODEC_IMPAIRMENT, mosFromR, rFactor, type EModelCodec } from './emodel.ts';

/** One packet's audio: the packetization delay on top of the network's and the buffer's. */
const FRAME_MS = 20;

/**
 * A call's E-model rating (ITU-T G.107) from what its actors measured: the
 * jitter/PLC actor's real buffer delay and the loss its decoder saw (lost in
 * the network plus arrived too late), plus half the RTT where the leg knows it
 * (RTCP on RTP legs; a Twilio stream has none, so its network delay is not
 * counted). Undefined when the call has no jitter actor or an unrated codec.
 */
export function callQuality(
  codec: unknown,
  jitter: Readonly<Record<string, number>> | undefined,
  rttMs: number | undefined,
): { rFactor: number; mos: number; oneWayDelayMs: number; lossPct: number } | undefined {
  if (jitter === undefined || typeof codec !== 'string' || !(codec in CODEC_IMPAIRMENT)) return undefined;
  const received = jitter['packetsReceived'] ?? 0;
  const lost = Math.max(0, jitter['packetsLost'] ?? 0) + (jitter['packetsLate'] ?? 0);
  const lossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
  const oneWayDelayMs = Math.max(0, rttMs ?? 0) / 2 + Math.max(0, jitter['currentDelayMs'] ?? 0) + FRAME_MS;
  const r = rFactor({ codec: codec as EModelCodec, oneWayDelayMs, lossPct });
  return { rFactor: r, mos: mosFromR(r), oneWayDelayMs, lossPct };
}
