import { mosFromR, rFactor, type EModelCodec } from '../../qos/emodel.ts';
import { STAT } from './RtpReceiver.ts';

/** One packet's worth of audio: the packetization delay the E-model counts on top of the network's. */
export const FRAME_MS = 20;

/**
 * The call's E-model (ITU-T G.107) rating from what the leg measures:
 * mouth-to-ear delay = RTT/2 (the network one way; 0 until the peer echoes
 * an SR) + the jitter buffer's delay + one frame; loss = the inbound stream's
 * loss, which the PLC has to conceal. The jitter buffer runs on another
 * worker, so its delay is estimated as its rule sets it: the configured floor
 * plus twice the interarrival jitter (NetEq-style targets sit near the
 * jitter's upper percentile). Writes `rFactor` and `mos`.
 */
export function updateCallQuality(
  stats: Float64Array,
  codec: EModelCodec,
  rttMs: number,
  jitterMs: number,
  lossFraction: number,
  bufferFloorMs: number,
): void {
  const bufferMs = bufferFloorMs + 2 * Math.max(0, jitterMs);
  const oneWayDelayMs = Math.max(0, rttMs) / 2 + bufferMs + FRAME_MS;
  const r = rFactor({ codec, oneWayDelayMs, lossPct: 100 * Math.max(0, lossFraction) });
  stats[STAT.rFactor] = r;
  stats[STAT.mos] = mosFromR(r);
}
