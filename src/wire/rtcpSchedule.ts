/**
 * When to send the next RTCP report: the interval computation of RFC 3550
 * §6.3.1, written after its Appendix A.7 `rtcp_interval()`.
 *
 * RTCP gets 5% of the session bandwidth. When senders are at most a quarter
 * of the members they share a quarter of it and receivers the rest, so a new
 * participant learns the senders' CNAMEs quickly. The deterministic interval
 * is floored at 5 s (2.5 s before the first report) and then spread uniformly
 * over [0.5, 1.5] of itself, so that reports from many members do not
 * synchronize; dividing by e − 3/2 compensates for timer reconsideration
 * (§6.3.6) pulling the average interval below the target.
 * @see RFC 3550 §6.2, §6.3.1, §6.3.3, A.7.
 */

export const RTCP_BANDWIDTH_FRACTION = 0.05;
export const RTCP_SENDER_BANDWIDTH_FRACTION = 0.25;
export const RTCP_MIN_INTERVAL_S = 5;
/** e − 3/2 (§6.3.1 and A.7). */
export const RTCP_COMPENSATION = Math.E - 1.5;
/** IPv4 + UDP header octets, which §6.3.3 counts in the average RTCP packet size. */
export const UDP_IPV4_OVERHEAD_BYTES = 28;

export interface RtcpIntervalInput {
  /** Members of the session, ourselves included (2 for a call). */
  members: number;
  /** Members that sent RTP since the last two reports, ourselves included if we did. */
  senders: number;
  /** Session bandwidth in bits/s, e.g. 64 000 for PCMU plus headers rounds to 80 000. */
  sessionBandwidthBps: number;
  /** Whether we sent RTP since our last two reports. */
  weSent: boolean;
  /** Average compound RTCP packet size in octets, UDP/IP headers included (§6.3.3). */
  avgRtcpSizeBytes: number;
  /** True before our first report: the minimum is halved. */
  initial: boolean;
  /** A smaller minimum (the §6.2 "360 / session kbit/s" reduced minimum); 5 s by default. */
  minIntervalS?: number;
}

/**
 * Seconds until the next report. `random` returns uniform values in [0, 1)
 * and is injectable so the schedule is testable; pass a seeded one in tests.
 * Pure: no clock and no state.
 */
export function rtcpIntervalSeconds(input: RtcpIntervalInput, random: () => number = Math.random): number {
  const { members, senders, weSent, avgRtcpSizeBytes, initial } = input;
  let minS = input.minIntervalS ?? RTCP_MIN_INTERVAL_S;
  if (initial) minS /= 2;
  // Octets per second available to RTCP.
  let rtcpBw = (input.sessionBandwidthBps / 8) * RTCP_BANDWIDTH_FRACTION;
  let n = Math.max(1, members);
  if (senders <= n * RTCP_SENDER_BANDWIDTH_FRACTION) {
    if (weSent) {
      rtcpBw *= RTCP_SENDER_BANDWIDTH_FRACTION;
      n = senders;
    } else {
      rtcpBw *= 1 - RTCP_SENDER_BANDWIDTH_FRACTION;
      n -= senders;
    }
  }
  let t = rtcpBw > 0 ? (avgRtcpSizeBytes * n) / rtcpBw : minS;
  if (!(t >= minS)) t = minS;
  t *= random() + 0.5;
  return t / RTCP_COMPENSATION;
}

/**
 * The running average of §6.3.3: avg = 1/16 × size + 15/16 × avg, where size
 * is the compound packet just sent or received plus UDP/IP overhead.
 */
export function updateAvgRtcpSize(avgBytes: number, packetBytes: number, overheadBytes = UDP_IPV4_OVERHEAD_BYTES): number {
  return (packetBytes + overheadBytes) / 16 + (avgBytes * 15) / 16;
}
