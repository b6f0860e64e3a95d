/**
 * A stream's RTP timestamps mapped to its sender's wallclock by its sender
 * reports (RFC 3550 §6.4.1: an SR's NTP timestamp and RTP timestamp are the
 * same instant, "used by media-independent receivers to estimate the
 * nominal RTP clock frequency" and for synchronization).
 *
 * An SR only moves the mapping when it agrees with the one in use: its NTP
 * step, its RTP step (at the nominal clock rate) and the step in our arrival
 * time must be the same elapsed time, within CONSISTENT_MS plus
 * CONSISTENT_RATE of the step. One that does not (an absurd NTP time, a
 * timestamp jump, a replayed or forged report) is held aside; a second SR
 * that agrees with the held one, and not with the mapping, means the sender
 * really reset its clocks (as RFC 3550 A.1 confirms a sequence restart with
 * a second packet), and the mapping moves to it. The first mapping is made
 * the same way, by two SRs that agree. So one hostile report never changes
 * (or makes) the mapping, and a genuine start or restart costs one report
 * interval.
 *
 * Nothing here allocates; `offer` runs per SR, `wallclockMsOf` at control rate.
 */

/** What `offer` did with an SR. */
export const SrVerdict = {
  /** It agreed with the mapping (or was the first): the mapping is now this SR. */
  ACCEPTED: 0,
  /** NTP time zero (RFC 3550 §6.4.1: a sender without wallclock), before 2000, or not finite: never used. */
  NO_WALLCLOCK: 1,
  /** It disagreed with the mapping: held aside, the mapping unchanged. */
  INCONSISTENT: 2,
  /** It confirmed the SR held aside: the sender reset its clocks, the mapping moved. */
  RESTARTED: 3,
  /** Older than the SR in use (reordered or replayed): ignored. */
  STALE: 4,
  /** The first SR, or one after it that disagreed: held until the next confirms it (no mapping yet). */
  PROBATION: 5,
} as const;
export type SrVerdictCode = (typeof SrVerdict)[keyof typeof SrVerdict];

/** Tolerance between the steps of two SRs: network jitter between their arrivals. */
export const CONSISTENT_MS = 80;
/** …plus this share of the step: 5000 ppm, fifty times the drift of a bad crystal. */
export const CONSISTENT_RATE = 0.005;
/** Unix ms of 2000-01-01: an NTP time before it is a sender without a real clock. */
const EARLIEST_WALLCLOCK_MS = 946_684_800_000;

export class SenderClock {
  readonly clockRateHz: number;
  #have = false;
  #ntpMs = 0;
  #rtp = 0;
  #arrivalMs = 0;
  #pending = false;
  #pNtpMs = 0;
  #pRtp = 0;
  #pArrivalMs = 0;
  /** The largest (sender NTP − our arrival) over the last SRs: clock offset less the least one-way delay. */
  readonly #offsets = new Float64Array(8);
  #offsetCount = 0;
  accepted = 0;
  rejected = 0;

  constructor(clockRateHz: number) {
    this.clockRateHz = clockRateHz;
  }

  /** True once an SR is in use. */
  get valid(): boolean {
    return this.#have;
  }

  /**
   * The sender's clock less ours, ms, from the SR least delayed of the last
   * eight: the two clocks' offset minus the least one-way network delay. NaN
   * before any SR.
   */
  get offsetMs(): number {
    if (this.#offsetCount === 0) return Number.NaN;
    let best = -Infinity;
    const n = Math.min(this.#offsetCount, this.#offsets.length);
    for (let i = 0; i < n; i++) if (this.#offsets[i]! > best) best = this.#offsets[i]!;
    return best;
  }

  /** The SR in use: its NTP time (Unix ms) and RTP timestamp. */
  get ntpMs(): number {
    return this.#ntpMs;
  }
  get rtpTimestamp(): number {
    return this.#rtp;
  }

  /** One SR: its NTP time as Unix ms, its RTP timestamp, and our arrival time (ms). Returns an SrVerdict. */
  offer(ntpMs: number, rtpTimestamp: number, arrivalMs: number): SrVerdictCode {
    if (!Number.isFinite(ntpMs) || ntpMs < EARLIEST_WALLCLOCK_MS || !Number.isFinite(arrivalMs)) {
      this.rejected++;
      return SrVerdict.NO_WALLCLOCK;
    }
    const rtp = rtpTimestamp >>> 0;
    if (!this.#have) {
      if (this.#confirmsPending(ntpMs, rtp, arrivalMs)) return this.#use(ntpMs, rtp, arrivalMs, SrVerdict.ACCEPTED);
      this.#hold(ntpMs, rtp, arrivalMs);
      return SrVerdict.PROBATION;
    }
    if (ntpMs <= this.#ntpMs && this.#stepsAgree(this.#ntpMs, this.#rtp, ntpMs, rtp, 0)) {
      this.rejected++;
      return SrVerdict.STALE;
    }
    if (this.#agrees(this.#ntpMs, this.#rtp, this.#arrivalMs, ntpMs, rtp, arrivalMs)) {
      this.#pending = false;
      return this.#use(ntpMs, rtp, arrivalMs, SrVerdict.ACCEPTED);
    }
    if (this.#confirmsPending(ntpMs, rtp, arrivalMs)) {
      this.#offsetCount = 0;
      return this.#use(ntpMs, rtp, arrivalMs, SrVerdict.RESTARTED);
    }
    this.#hold(ntpMs, rtp, arrivalMs);
    this.rejected++;
    return SrVerdict.INCONSISTENT;
  }

  #confirmsPending(ntpMs: number, rtp: number, arrivalMs: number): boolean {
    if (!this.#pending || !(ntpMs > this.#pNtpMs) || !this.#agrees(this.#pNtpMs, this.#pRtp, this.#pArrivalMs, ntpMs, rtp, arrivalMs)) return false;
    this.#pending = false;
    return true;
  }

  #hold(ntpMs: number, rtp: number, arrivalMs: number): void {
    this.#pending = true;
    this.#pNtpMs = ntpMs;
    this.#pRtp = rtp;
    this.#pArrivalMs = arrivalMs;
  }

  /**
   * The sender's wallclock (Unix ms) at which the sample stamped
   * `rtpTimestamp` was taken (§6.4.1); NaN before any SR. The RTP step is
   * read as a signed 32-bit difference, so it holds across the wrap.
   */
  wallclockMsOf(rtpTimestamp: number): number {
    if (!this.#have) return Number.NaN;
    return this.#ntpMs + ((((rtpTimestamp >>> 0) - this.#rtp) | 0) / this.clockRateHz) * 1000;
  }

  /** Forgets the mapping (a new source). */
  reset(): void {
    this.#have = false;
    this.#pending = false;
    this.#offsetCount = 0;
  }

  #agrees(ntp0: number, rtp0: number, at0: number, ntp1: number, rtp1: number, at1: number): boolean {
    const arrivalStep = at1 - at0;
    const tol = CONSISTENT_MS + CONSISTENT_RATE * Math.abs(arrivalStep);
    return this.#stepsAgree(ntp0, rtp0, ntp1, rtp1, arrivalStep) && Math.abs(ntp1 - ntp0 - arrivalStep) <= tol;
  }

  /** The NTP and RTP steps between two SRs are the same elapsed time (`spanMs` sets the rate tolerance). */
  #stepsAgree(ntp0: number, rtp0: number, ntp1: number, rtp1: number, spanMs: number): boolean {
    const ntpStep = ntp1 - ntp0;
    const rtpStep = (((rtp1 - rtp0) | 0) / this.clockRateHz) * 1000;
    return Math.abs(ntpStep - rtpStep) <= CONSISTENT_MS + CONSISTENT_RATE * Math.max(Math.abs(spanMs), Math.abs(ntpStep));
  }

  #use(ntpMs: number, rtp: number, arrivalMs: number, verdict: SrVerdictCode): SrVerdictCode {
    this.#have = true;
    this.#ntpMs = ntpMs;
    this.#rtp = rtp;
    this.#arrivalMs = arrivalMs;
    this.#offsets[this.#offsetCount % this.#offsets.length] = ntpMs - arrivalMs;
    this.#offsetCount++;
    this.accepted++;
    return verdict;
  }
}
