import { readRtcpCompound, RtcpParse, type RtcpPacket, type RtcpReportBlock, type RtcpSenderReport } from '../../wire/rtcp.ts';
import { SrVerdict } from '../../wire/senderClock.ts';
import { rtcpReportCompound, writeRtcpPacket } from '../../wire/rtcpWrite.ts';
import { rtcpIntervalSeconds, updateAvgRtcpSize } from '../../wire/rtcpSchedule.ts';
import { ntpFromUnixMs, NtpTime, rttMsFromReportBlock, srRtpTimestamp, type RtpSourceStats } from '../../wire/rtpStats.ts';
import type { RtpSender } from './RtpSender.ts';
import { STAT } from './RtpReceiver.ts';

/** A first guess at the average compound size (SR + one block + SDES), octets with UDP/IP, before any is sent (§6.3.2). */
const INITIAL_AVG_RTCP_BYTES = 100;

/** What the peer last told us about our stream (its report block on our SSRC). */
export class PeerView {
  lossFraction = 0;
  cumulativeLost = 0;
  jitterMs = 0;
  /** −1 until the peer echoes one of our SRs. */
  rttMs = -1;
  reports = 0;
}

/**
 * The RTCP side of one RTP session (RFC 3550 §6): when to report (§6.3,
 * randomized, 5 % of the session bandwidth), what to report (SR with our
 * sender info since we always send, a report block on the peer's stream,
 * SDES CNAME, and BYE when leaving: §6.4, §6.5, §6.6), and what the peer
 * reports about us (loss, jitter, RTT from LSR/DLSR, §6.4.1). Report
 * building allocates (a few objects every few seconds); the per-frame path
 * only calls `due`.
 */
export class RtcpSession {
  readonly peer = new PeerView();
  readonly #sender: RtpSender;
  readonly #stats: Float64Array;
  readonly #cname: string;
  readonly #sessionBandwidthBps: number;
  readonly #minIntervalS: number;
  readonly #random: () => number;
  readonly #ntp = new NtpTime();
  readonly #parsed: RtcpPacket[] = [];
  #avgRtcpBytes = INITIAL_AVG_RTCP_BYTES;
  #initial = true;
  #nextAtMs: number;

  constructor(opts: {
    sender: RtpSender;
    stats: Float64Array;
    cname: string;
    sessionBandwidthBps: number;
    minIntervalS: number;
    nowMs: number;
    random?: () => number;
  }) {
    this.#sender = opts.sender;
    this.#stats = opts.stats;
    this.#cname = opts.cname;
    this.#sessionBandwidthBps = opts.sessionBandwidthBps;
    this.#minIntervalS = opts.minIntervalS;
    this.#random = opts.random ?? Math.random;
    this.#nextAtMs = opts.nowMs + this.#intervalMs(false);
  }

  due(nowMs: number): boolean {
    return nowMs >= this.#nextAtMs;
  }

  #intervalMs(weHeardPeer: boolean): number {
    const s = rtcpIntervalSeconds(
      {
        members: 2,
        senders: weHeardPeer ? 2 : 1,
        sessionBandwidthBps: this.#sessionBandwidthBps,
        weSent: true,
        avgRtcpSizeBytes: this.#avgRtcpBytes,
        initial: this.#initial,
        minIntervalS: this.#minIntervalS,
      },
      this.#random,
    );
    return s * 1000;
  }

  /**
   * Writes our next compound into `out` (SR + report block + SDES, and BYE
   * when `bye`), schedules the one after, and returns its length. `source`
   * is the peer's stream (no report block before its first packet).
   */
  writeReport(out: Uint8Array, nowMs: number, source: RtpSourceStats | undefined, bye: boolean): number {
    const snd = this.#sender;
    const reports: RtcpReportBlock[] = [];
    if (source !== undefined) {
      const block = source.reportBlock(nowMs);
      reports.push(block);
      this.#stats[STAT.lossFraction] = block.fractionLost / 256;
      this.#stats[STAT.cumulativeLost] = block.cumulativeLost;
      this.#stats[STAT.jitterMs] = source.jitterMs;
    }
    const ntp = ntpFromUnixMs(nowMs, this.#ntp);
    const packets = rtcpReportCompound({
      ssrc: snd.ssrc,
      cname: this.#cname,
      sender: {
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        // §6.4.1: the RTP clock at the NTP time. Before our first packet the sender's own clock (it runs
        // through the silence before a peer or before the agent speaks); after, the last packet's
        // timestamp carried forward by the wall clock.
        rtpTimestamp:
          snd.lastSentAtMs === 0 ? snd.timestamp : srRtpTimestamp(snd.lastTimestamp, snd.lastSentAtMs, nowMs, snd.format.clockRateHz),
        packetCount: snd.packetCount >>> 0,
        octetCount: snd.octetCount >>> 0,
      },
      reports,
      bye: bye ? { reason: 'hang-up' } : undefined,
    });
    let n = 0;
    for (const p of packets) n = writeRtcpPacket(p, out, n);
    this.#avgRtcpBytes = updateAvgRtcpSize(this.#avgRtcpBytes, n);
    this.#initial = false;
    this.#nextAtMs = nowMs + this.#intervalMs(source !== undefined);
    this.#stats[STAT.rtcpOut]++;
    return n;
  }

  /**
   * One compound from the peer (already authenticated under SRTCP): notes
   * its SR for our LSR/DLSR, and its report block on our SSRC. Returns false
   * (and counts it) when it does not parse; true when it carried a report
   * block about us, so the caller can adapt.
   */
  onCompound(buf: Uint8Array, len: number, nowMs: number, source: RtpSourceStats | undefined): boolean {
    const parsed = this.#parsed;
    parsed.length = 0;
    if (readRtcpCompound(buf, len, parsed) !== RtcpParse.OK) {
      this.#stats[STAT.droppedBadRtcp]++;
      return false;
    }
    this.#stats[STAT.rtcpIn]++;
    this.#avgRtcpBytes = updateAvgRtcpSize(this.#avgRtcpBytes, len);
    const ours = this.#sender.ssrc;
    let aboutUs = false;
    for (const p of parsed) {
      if (p.type === 'bye') {
        this.#stats[STAT.byeReceived]++;
        continue;
      }
      if (p.type !== 'sr' && p.type !== 'rr') continue;
      if (p.type === 'sr' && source !== undefined) {
        if (p.ssrc === source.ssrc) this.#onSenderReport(p, nowMs, source);
        else this.#stats[STAT.srForeignSsrc]++;
      }
      for (const b of p.reports) {
        if (b.ssrc !== ours) continue;
        const peer = this.peer;
        peer.lossFraction = b.fractionLost / 256;
        peer.cumulativeLost = b.cumulativeLost;
        peer.jitterMs = (b.jitter / this.#sender.format.clockRateHz) * 1000;
        const rtt = rttMsFromReportBlock(b, nowMs);
        if (rtt >= 0) peer.rttMs = rtt;
        peer.reports++;
        aboutUs = true;
      }
    }
    return aboutUs;
  }

  /** The peer's SR on its stream: the mapping takes it or refuses it (senderClock.ts); either way counted. */
  #onSenderReport(sr: RtcpSenderReport, nowMs: number, source: RtpSourceStats): void {
    const verdict = source.onSenderReport(sr, nowMs);
    const st = this.#stats;
    if (verdict === SrVerdict.ACCEPTED || verdict === SrVerdict.RESTARTED) st[STAT.srAccepted]++;
    else if (verdict !== SrVerdict.PROBATION) st[STAT.srRejected]++;
    const clock = source.clock;
    st[STAT.srNtpMs] = clock.ntpMs;
    st[STAT.srRtpTimestamp] = clock.rtpTimestamp;
    st[STAT.clockOffsetMs] = clock.offsetMs;
  }
}
