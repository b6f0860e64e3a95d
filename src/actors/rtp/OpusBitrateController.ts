/**
 * Opus send bitrate and in-band FEC from the peer's RTCP reports: a
 * loss-based controller in the spirit of WebRTC's (Holmer et al.,
 * "A Google Congestion Control Algorithm for Real-Time Communication",
 * draft-ietf-rmcat-gcc §6): back off multiplicatively on loss, probe upward
 * slowly only when the path looks clean and a cool-down has passed, so one
 * good report after a bad one does not undo the back-off. Pure: the caller
 * supplies the time; no I/O.
 */

/** Loss above this (fraction) cuts the rate hard. */
export const ABR_HEAVY_LOSS = 0.05;
export const ABR_HEAVY_FACTOR = 0.7;
/** Loss above this cuts the rate gently. */
export const ABR_LIGHT_LOSS = 0.02;
export const ABR_LIGHT_FACTOR = 0.85;
/** Below this loss (and RTT below ABR_MAX_RTT_FOR_GROWTH_MS) the rate may grow. */
export const ABR_CLEAN_LOSS = 0.01;
export const ABR_GROWTH_FACTOR = 1.1;
/** Growth on a path with a long round trip would react too late to the loss it causes. */
export const ABR_MAX_RTT_FOR_GROWTH_MS = 100;
/** Quiet time after any change before growing: about two RTCP intervals, so growth follows evidence. */
export const ABR_COOL_DOWN_MS = 10_000;
/** libopus speech quality floor (narrowband SILK) and the top of a mono fullband voice stream. */
export const ABR_MIN_BPS = 6_000;
export const ABR_MAX_BPS = 128_000;
export const ABR_START_BPS = 32_000;

export interface OpusBitrateOptions {
  startBps?: number;
  minBps?: number;
  maxBps?: number;
  coolDownMs?: number;
}

export class OpusBitrateController {
  readonly minBps: number;
  readonly maxBps: number;
  readonly coolDownMs: number;
  #bps: number;
  #lastChangeMs = Number.NEGATIVE_INFINITY;
  #fec = false;
  #lossPct = 0;

  constructor(opts: OpusBitrateOptions = {}) {
    this.minBps = opts.minBps ?? ABR_MIN_BPS;
    this.maxBps = opts.maxBps ?? ABR_MAX_BPS;
    this.coolDownMs = opts.coolDownMs ?? ABR_COOL_DOWN_MS;
    if (!(this.minBps > 0 && this.minBps <= this.maxBps)) {
      throw new RangeError(`opus bitrate bounds invalid [min:${this.minBps}, max:${this.maxBps}]`);
    }
    this.#bps = clamp(opts.startBps ?? ABR_START_BPS, this.minBps, this.maxBps);
  }

  get bitrateBps(): number {
    return this.#bps;
  }
  /** In-band FEC: on while the peer reports loss. */
  get fec(): boolean {
    return this.#fec;
  }
  /** The loss libopus should plan its FEC for, percent. */
  get packetLossPct(): number {
    return this.#lossPct;
  }

  /**
   * One report about our stream: `lossFraction` 0–1 (RTCP fraction lost),
   * `rttMs` (negative when unknown: the peer has not echoed an SR yet, which
   * does not hold growth back). Returns true when the bitrate or FEC changed.
   */
  onReport(lossFraction: number, rttMs: number, nowMs: number): boolean {
    if (!Number.isFinite(lossFraction) || !Number.isFinite(nowMs)) return false;
    const loss = Math.min(1, Math.max(0, lossFraction));
    const before = this.#bps;
    const fecBefore = this.#fec;
    let next = before;
    if (loss > ABR_HEAVY_LOSS) next = before * ABR_HEAVY_FACTOR;
    else if (loss > ABR_LIGHT_LOSS) next = before * ABR_LIGHT_FACTOR;
    else if (loss < ABR_CLEAN_LOSS && !(rttMs >= ABR_MAX_RTT_FOR_GROWTH_MS) && nowMs - this.#lastChangeMs >= this.coolDownMs) {
      next = before * ABR_GROWTH_FACTOR;
    }
    next = Math.round(clamp(next, this.minBps, this.maxBps));
    this.#lossPct = Math.ceil(loss * 100);
    this.#fec = this.#lossPct >= 1;
    if (next !== before) {
      this.#bps = next;
      this.#lastChangeMs = nowMs;
    } else if (loss >= ABR_CLEAN_LOSS) {
      // Loss at the floor still counts as a reason not to grow soon.
      this.#lastChangeMs = nowMs;
    }
    return next !== before || this.#fec !== fecBefore;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
