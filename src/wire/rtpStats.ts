/**
 * Receiver-side state of one RTP source, and the clock arithmetic reports need.
 *
 * - Sequence validation with probation and resynchronization after a large
 *   jump (RFC 3550 A.1): a new source is valid after MIN_SEQUENTIAL packets in
 *   order; a jump of MAX_DROPOUT or more forward (or MAX_MISORDER or more
 *   back) is dropped unless the next packet confirms it, which restarts the
 *   count, as when a peer restarts its stream.
 * - Expected, lost and fraction lost (A.3), interarrival jitter (A.8, in the
 *   integer form with 4 fraction bits), and LSR/DLSR (§6.4.1) for report blocks.
 * - Round-trip time from a report block about us (§6.4.1 "A − LSR − DLSR"),
 *   NTP timestamps (§4), and an SR's NTP↔RTP pair used for stream sync.
 *
 * {@link RtpSourceStats.update} is called per packet and allocates nothing.
 * @see RFC 3550 §6.4.1, A.1, A.3, A.8.
 */
import type { RtcpReportBlock, RtcpSenderReport } from './rtcp.ts';
import { SenderClock, type SrVerdictCode } from './senderClock.ts';
import { ClockDriftEstimator } from './clockDrift.ts';

const RTP_SEQ_MOD = 1 << 16;
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
export const MIN_SEQUENTIAL = 2;

/** What {@link RtpSourceStats.update} made of a packet. */
export const SeqUpdate = {
  /** Still on probation: not yet a valid source, not counted. */
  PROBATION: 0,
  /** In order (or a small forward gap): counted. */
  OK: 1,
  /** Late, reordered or duplicated within MAX_MISORDER: counted (A.1 counts duplicates). */
  LATE: 2,
  /** A jump too large to believe yet: dropped until the next packet confirms it. */
  BAD_JUMP: 3,
  /** The jump was confirmed: the source's sequence restarted here; counted. */
  RESTARTED: 4,
} as const;
export type SeqUpdateCode = (typeof SeqUpdate)[keyof typeof SeqUpdate];

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 4_294_967_296;

/** A 64-bit NTP timestamp as its two 32-bit halves; reuse one to avoid allocation. */
export class NtpTime {
  seconds = 0;
  fraction = 0;
}

/** Writes the NTP time of a Unix time in ms (wraps in era 1 after 2036, as RFC 4330 §3 expects). */
export function ntpFromUnixMs(unixMs: number, out: NtpTime = new NtpTime()): NtpTime {
  const totalS = unixMs / 1000 + NTP_UNIX_OFFSET_S;
  const whole = Math.floor(totalS);
  out.seconds = whole % TWO_32 >>> 0;
  out.fraction = Math.min(TWO_32 - 1, Math.round((totalS - whole) * TWO_32)) >>> 0;
  return out;
}

/** Unix ms of an NTP time; seconds with the top bit clear are taken as era 1 (2036–2104). */
export function unixMsFromNtp(seconds: number, fraction: number): number {
  const s = (seconds >>> 0) + ((seconds & 0x80000000) === 0 ? TWO_32 : 0);
  return (s - NTP_UNIX_OFFSET_S) * 1000 + ((fraction >>> 0) / TWO_32) * 1000;
}

/** The middle 32 bits of an NTP timestamp: the compact form LSR and RTT use (1/65536 s units). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** Compact NTP of a Unix time in ms, without allocating. */
export function ntpMiddle32FromUnixMs(unixMs: number): number {
  const units = Math.round((unixMs / 1000 + NTP_UNIX_OFFSET_S) * 65536);
  return units % TWO_32 >>> 0;
}

/**
 * Round-trip time in ms from a report block a peer sent about our stream,
 * received at `arrivalUnixMs`: A − LSR − DLSR in 1/65536 s (§6.4.1).
 * Returns -1 when the peer has not had an SR from us yet (LSR 0). A slightly
 * negative result (the peer's clock rounding) reads as 0.
 */
export function rttMsFromReportBlock(block: RtcpReportBlock, arrivalUnixMs: number): number {
  if (block.lsr === 0) return -1;
  const a = ntpMiddle32FromUnixMs(arrivalUnixMs);
  const units = (a - block.lsr - block.dlsr) | 0;
  return units <= 0 ? 0 : (units / 65536) * 1000;
}

/**
 * One remote source as its receiver sees it. Create it on the first packet
 * of an SSRC; a different SSRC is a different source (the caller decides
 * whether to switch).
 */
export class RtpSourceStats {
  readonly ssrc: number;
  readonly clockRateHz: number;
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation: number;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit = 0;
  #haveTransit = false;
  /** Jitter in timestamp units × 16 (A.8 integer form). */
  #jitter16 = 0;
  #lsr = 0;
  #lastSrArrivalMs = 0;
  /** The RTP → sender wallclock mapping of its SRs (§6.4.1), validated (senderClock.ts). */
  readonly clock: SenderClock;
  /** Its media clock's drift against ours, from packet arrivals (clockDrift.ts). */
  readonly drift: ClockDriftEstimator;

  /**
   * `minSequential`: packets in order before the source counts (A.1 uses 2;
   * 1 takes the first packet at once, for a peer already known from signalling).
   */
  constructor(ssrc: number, firstSeq: number, clockRateHz: number, minSequential = MIN_SEQUENTIAL) {
    this.ssrc = ssrc >>> 0;
    this.clockRateHz = clockRateHz;
    this.clock = new SenderClock(clockRateHz);
    this.drift = new ClockDriftEstimator(clockRateHz);
    this.#initSeq(firstSeq);
    this.#maxSeq = (firstSeq - 1) & 0xffff;
    this.#probation = Math.max(1, minSequential);
  }

  /**
   * Accounts one packet: sequence validation (A.1) then, for packets that
   * count, interarrival jitter (A.8) from its RTP timestamp and arrival time.
   */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): SeqUpdateCode {
    const code = this.#updateSeq(seq & 0xffff);
    if (code === SeqUpdate.PROBATION || code === SeqUpdate.BAD_JUMP) return code;
    // A.8: transit time in timestamp units; only differences matter, so wrapping is harmless.
    const arrival = Math.round((arrivalMs * this.clockRateHz) / 1000) % TWO_32;
    const transit = (arrival - rtpTimestamp) | 0;
    if (this.#haveTransit && code !== SeqUpdate.RESTARTED) {
      let d = (transit - this.#transit) | 0;
      if (d < 0) d = -d;
      this.#jitter16 += d - ((this.#jitter16 + 8) >> 4);
    }
    this.#transit = transit;
    this.#haveTransit = true;
    this.drift.add(arrivalMs, rtpTimestamp);
    return code;
  }

  #initSeq(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  #updateSeq(seq: number): SeqUpdateCode {
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          this.#initSeq(seq);
          this.#received++;
          return SeqUpdate.OK;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = seq;
      }
      return SeqUpdate.PROBATION;
    }
    if (udelta === 0) {
      this.#received++;
      return SeqUpdate.LATE; // a duplicate of the highest
    }
    if (udelta < MAX_DROPOUT) {
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD;
      this.#maxSeq = seq;
      this.#received++;
      return SeqUpdate.OK;
    }
    if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq === this.#badSeq) {
        // Two in a row after the jump: the peer restarted without telling us (A.1).
        this.#initSeq(seq);
        this.#received++;
        this.#haveTransit = false;
        return SeqUpdate.RESTARTED;
      }
      this.#badSeq = (seq + 1) & 0xffff;
      return SeqUpdate.BAD_JUMP;
    }
    this.#received++;
    return SeqUpdate.LATE;
  }

  /** True once probation is over. */
  get valid(): boolean {
    return this.#probation === 0;
  }
  get received(): number {
    return this.#received;
  }
  get extendedHighestSeq(): number {
    return (this.#cycles + this.#maxSeq) >>> 0;
  }
  /** A.3: packets expected since the (re)start of the sequence. */
  get expected(): number {
    return this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }
  /** A.3: expected − received, clamped to the signed 24 bits of a report block. */
  get cumulativeLost(): number {
    return Math.max(-0x800000, Math.min(0x7fffff, this.expected - this.#received));
  }
  /** Interarrival jitter in timestamp units, as a report block carries it. */
  get jitter(): number {
    return this.#jitter16 >> 4;
  }
  get jitterMs(): number {
    return (this.#jitter16 / 16 / this.clockRateHz) * 1000;
  }

  /**
   * A.3 fraction lost since the previous call, in 1/256; advances the
   * interval, so call it once per report sent.
   */
  takeFractionLost(): number {
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    if (expectedInterval === 0 || lostInterval <= 0) return 0;
    return Math.floor((lostInterval * 256) / expectedInterval);
  }

  /**
   * Notes an SR from this source: LSR for our reports (always: the peer
   * measures RTT by it), and its NTP↔RTP pair for sync, which the sender
   * clock takes only when it agrees with the mapping (senderClock.ts).
   */
  onSenderReport(sr: RtcpSenderReport, arrivalMs: number): SrVerdictCode {
    this.#lsr = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    this.#lastSrArrivalMs = arrivalMs;
    const ntpMs = sr.ntpSeconds === 0 && sr.ntpFraction === 0 ? 0 : unixMsFromNtp(sr.ntpSeconds, sr.ntpFraction);
    return this.clock.offer(ntpMs, sr.rtpTimestamp, arrivalMs);
  }

  /**
   * The sender's wallclock (Unix ms) at which the sample stamped
   * `rtpTimestamp` was taken, by its SRs; NaN before any. Streams are
   * synchronized by comparing these (§6.4.1).
   */
  wallclockMsOf(rtpTimestamp: number): number {
    return this.clock.wallclockMsOf(rtpTimestamp);
  }

  /**
   * A report block about this source for an SR or RR sent at `nowMs` (the
   * same clock as `arrivalMs`). Advances the fraction-lost interval.
   */
  reportBlock(nowMs: number): RtcpReportBlock {
    const dlsr = this.#lsr === 0 ? 0 : Math.max(0, Math.round(((nowMs - this.#lastSrArrivalMs) / 1000) * 65536));
    return {
      ssrc: this.ssrc,
      fractionLost: this.takeFractionLost(),
      cumulativeLost: this.cumulativeLost,
      extendedHighestSeq: this.extendedHighestSeq,
      jitter: this.jitter >>> 0,
      lsr: this.#lsr,
      dlsr: Math.min(dlsr, 0xffffffff),
    };
  }
}

/**
 * The RTP timestamp to put in an SR sent at `nowMs`: the last packet's
 * timestamp advanced by the time since it was stamped (§6.4.1: it need not
 * match any packet, only the same clock).
 */
export function srRtpTimestamp(lastRtpTimestamp: number, lastStampedAtMs: number, nowMs: number, clockRateHz: number): number {
  return (lastRtpTimestamp + Math.round(((nowMs - lastStampedAtMs) * clockRateHz) / 1000)) >>> 0;
}
