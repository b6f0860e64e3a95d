import { DelayPeakDetector } from './DelayPeakDetector.ts';

/**
 * The target playout delay of one stream, from the distribution of its
 * packets' relative arrival delays, after NetEq's DelayManager and its
 * UnderrunOptimizer: each packet's transit time (arrival − RTP timestamp, in
 * ms) is taken relative to the smallest transit seen over a recent window; the
 * relative delays go into a histogram that forgets exponentially, and the
 * target is the histogram's quantile (0.95 by default), clamped to
 * [minDelayMs, maxDelayMs].
 *
 * Relative delay is what a fixed playout schedule must absorb: a packet whose
 * transit exceeds the fastest packet's by r ms arrives r ms after the
 * earliest possible playout of its timestamp. The minimum is taken over a
 * window of blocks (WINDOW_BLOCKS × BLOCK_MS) rather than since the start, so
 * sender/receiver clock drift (±100 ppm = ±6 ms a minute) moves it along.
 *
 * Isolated delay peaks are kept out of the target (DelayPeakDetector.ts, after
 * NetEq's delay peak detector): the packets of a peak go into the full
 * histogram only, the rest into an ordinary one too, and the target and
 * `lateMs` come from the ordinary one unless peaks are being covered (they
 * recur, or one was just seen). A single 1 s stall (50 packets arriving
 * together) puts ~3.5% of the weight above the 99th percentile, which
 * forgetting alone takes ~35 s to shed, at up to maxDelayMs on every packet
 * meanwhile; kept out, it stops counting PEAK_HOLD_MS after its backlog.
 *
 * Allocates only in its constructor; `update` is per packet and allocation-free.
 */

/** Histogram resolution: fine enough that the quantile is not rounded up by a whole 20 ms frame. */
export const BUCKET_MS = 2;
/** 256 buckets × 2 ms = 512 ms; anything slower lands in the last bucket. */
const BUCKETS = 256;
/**
 * Per-packet forgetting factor in steady state: 0.9993^1000 ≈ 0.5, so the
 * histogram's half-life is ~1000 packets (20 s of 20 ms packets), NetEq's
 * kForgetFactor (32745/32768).
 */
const FORGET_FACTOR = 32745 / 32768;
/** Blocks of the minimum-transit window; 8 × 1250 ms = a 10 s window. */
const WINDOW_BLOCKS = 8;
const BLOCK_MS = 1250;
/** Packets before the histogram is trusted; until then the target is at least the start delay. */
const WARMUP_PACKETS = 50;
/**
 * A missing packet whose delay already exceeds this quantile of relative
 * delay is taken as lost (see `lateMs`). Half the 1% late-loss budget the
 * delay goal (and bench/lib/oracle.ts) allows: the forgetting histogram
 * learns a heavy tail late, and at 0.99 Pareto jitter left 1.1% late.
 */
export const LATE_QUANTILE = 0.995;

export interface DelayLimits {
  minDelayMs: number;
  maxDelayMs: number;
  startDelayMs: number;
  /** The quantile of relative delay to cover (default 0.95). */
  quantile?: number;
}

export class DelayManager {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly startDelayMs: number;
  readonly quantile: number;

  /** Every packet's relative delay. */
  readonly #hist = new Float64Array(BUCKETS);
  /** Relative delays of the packets that were not part of a delay peak. */
  readonly #ordinary = new Float64Array(BUCKETS);
  readonly #peaks = new DelayPeakDetector();
  #ordinaryPackets = 0;
  /** The ordinary histogram's quantile, unclamped: what a packet outside any peak takes. */
  #ordinaryMs = 0;
  readonly #blockMin = new Float64Array(WINDOW_BLOCKS);
  #block = 0;
  #blockStartMs = 0;
  #minTransitMs = Infinity;
  #packets = 0;
  #targetMs: number;
  #lateMs = 0;
  #lastRelativeMs = 0;

  constructor(limits: DelayLimits) {
    const { minDelayMs, maxDelayMs, startDelayMs } = limits;
    const quantile = limits.quantile ?? 0.95;
    if (!(minDelayMs >= 0 && minDelayMs <= maxDelayMs && maxDelayMs <= 2000)) {
      throw new RangeError(`DelayManager: need 0 ≤ minDelayMs ≤ maxDelayMs ≤ 2000 [min:${minDelayMs}, max:${maxDelayMs}]`);
    }
    if (!(startDelayMs >= minDelayMs && startDelayMs <= maxDelayMs)) {
      throw new RangeError(`DelayManager: startDelayMs must be within [minDelayMs, maxDelayMs] [start:${startDelayMs}]`);
    }
    if (!(quantile > 0 && quantile < 1)) throw new RangeError(`DelayManager: quantile must be in (0, 1) [got:${quantile}]`);
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.startDelayMs = startDelayMs;
    this.quantile = quantile;
    this.#targetMs = startDelayMs;
    this.#blockMin.fill(Infinity);
  }

  /** The delay to hold, ms. */
  get targetMs(): number {
    return this.#targetMs;
  }

  /**
   * The relative delay (ms) that a LATE_QUANTILE share of packets arrive
   * within, unclamped by the delay limits: a packet still missing this long
   * after its earliest possible arrival is more likely lost than late, so the
   * playout stops waiting for it. 0 before any packet.
   */
  get lateMs(): number {
    return this.#lateMs;
  }

  /** The smallest transit (arrival − timestamp, ms) in the window: the zero of relative delay. Infinity before any packet. */
  get minTransitMs(): number {
    return this.#minTransitMs;
  }

  /** The last packet's relative delay, ms. */
  get lastRelativeDelayMs(): number {
    return this.#lastRelativeMs;
  }

  get packets(): number {
    return this.#packets;
  }

  /** True while the target covers delay peaks (they recur, or one was just seen). */
  get coveringPeaks(): boolean {
    return this.#peaks.covering;
  }

  /** True while delay peaks recur (NetEq's peak mode). */
  get peakMode(): boolean {
    return this.#peaks.peakMode;
  }

  /** One packet arrived at `arrivalMs` carrying media timestamp `timestampMs` (the unwrapped RTP timestamp in ms). */
  update(arrivalMs: number, timestampMs: number): void {
    const transit = arrivalMs - timestampMs;
    if (!Number.isFinite(transit)) return;
    this.#advanceWindow(arrivalMs);
    const b = this.#block;
    if (transit < this.#blockMin[b]!) this.#blockMin[b] = transit;
    if (transit < this.#minTransitMs) this.#minTransitMs = transit;
    const rel = transit - this.#minTransitMs;
    this.#lastRelativeMs = rel;

    // Forget, then add this packet with the weight forgetting took away, so
    // the histogram keeps summing to 1. Early on the factor is 1 − 1/n (a
    // plain average), so the first packets are not drowned by the empty start.
    this.#packets++;
    addTo(this.#hist, rel, Math.min(FORGET_FACTOR, 1 - 1 / this.#packets));
    if (!this.#peaks.update(arrivalMs, rel, this.#ordinaryMs)) {
      this.#ordinaryPackets++;
      addTo(this.#ordinary, rel, Math.min(FORGET_FACTOR, 1 - 1 / this.#ordinaryPackets));
    }
    this.#targetMs = this.#computeTarget();
  }

  /** Forgets the stream's timing (a new SSRC: another timestamp base); keeps the delay histogram. */
  resetTiming(): void {
    this.#blockMin.fill(Infinity);
    this.#minTransitMs = Infinity;
    this.#blockStartMs = 0;
    this.#block = 0;
  }

  #computeTarget(): number {
    const q = this.quantile;
    const lateQ = q > LATE_QUANTILE ? q : LATE_QUANTILE;
    this.#ordinaryMs = quantileMs(this.#ordinary, q);
    let target = this.#ordinaryMs;
    let hist = this.#ordinary;
    if (this.#ordinaryPackets === 0 || this.#peaks.covering) {
      hist = this.#hist;
      target = quantileMs(hist, q);
    }
    // Rounding must not push the late quantile past the last bucket it reaches.
    this.#lateMs = quantileMs(hist, lateQ - 1e-9);
    if (this.#packets < WARMUP_PACKETS && target < this.startDelayMs) target = this.startDelayMs;
    if (target < this.minDelayMs) target = this.minDelayMs;
    if (target > this.maxDelayMs) target = this.maxDelayMs;
    return target;
  }

  /** Moves to a new block when its time has come; the window minimum is the least of the live blocks. */
  #advanceWindow(nowMs: number): void {
    if (this.#minTransitMs === Infinity) {
      this.#blockStartMs = nowMs;
      return;
    }
    if (nowMs - this.#blockStartMs < BLOCK_MS) return;
    // A long silence may skip several blocks: each skipped one starts empty.
    let steps = Math.floor((nowMs - this.#blockStartMs) / BLOCK_MS);
    if (steps > WINDOW_BLOCKS) steps = WINDOW_BLOCKS;
    for (let s = 0; s < steps; s++) {
      this.#block = (this.#block + 1) % WINDOW_BLOCKS;
      this.#blockMin[this.#block] = Infinity;
    }
    this.#blockStartMs = nowMs;
    let min = Infinity;
    for (let i = 0; i < WINDOW_BLOCKS; i++) if (this.#blockMin[i]! < min) min = this.#blockMin[i]!;
    this.#minTransitMs = min;
  }
}

/** Forgets `hist` by `f` and adds a packet of relative delay `relMs` with the weight taken away. */
function addTo(hist: Float64Array, relMs: number, f: number): void {
  for (let i = 0; i < BUCKETS; i++) hist[i]! *= f;
  let bucket = Math.floor(relMs / BUCKET_MS);
  if (bucket >= BUCKETS) bucket = BUCKETS - 1;
  hist[bucket]! += 1 - f;
}

/** The upper edge of the bucket where `hist` reaches `q`: it covers every delay counted in it. */
function quantileMs(hist: Float64Array, q: number): number {
  let acc = 0;
  for (let i = 0; i < BUCKETS; i++) {
    acc += hist[i]!;
    if (acc >= q) return (i + 1) * BUCKET_MS;
  }
  return BUCKETS * BUCKET_MS;
}
