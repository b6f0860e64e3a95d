import { Prng } from './prng.ts';

/**
 * What the network does to a caller's packets on the way into the daemon,
 * decided per packet from a seeded PRNG, so a run replays exactly.
 *
 * - Loss: the two-state Gilbert-Elliott model in its Gilbert form (every
 *   packet in the bad state is lost, none in the good one). With loss
 *   fraction P and mean burst length L: q = P(bad → good) = 1/L and
 *   p = P(good → bad) = q·P/(1 − P), whose stationary loss is p/(p + q) = P
 *   and whose bursts are geometric with mean 1/q = L. Without a burst length
 *   losses are independent (q = 1 − P: the chain forgets its state).
 *   @see E. N. Gilbert, "Capacity of a burst-noise channel" (1960);
 *        ITU-T G.107 §7.6 (the burst ratio the E-model takes from L and P);
 *        RFC 3611 §4.7.2 (the same two-state model in RTCP XR).
 * - Jitter: each packet waits an extra delay uniform on [0, jitterMs], and
 *   never overtakes the packet before it (a queue, not a shuffle).
 * - Reorder: a packet held back by one frame, the jitter bound and a
 *   millisecond, so the next one overtakes it whatever its own delay.
 * - Duplicate: a packet sent twice.
 */
export interface ImpairmentSettings {
  lossPct: number;
  /** Mean loss burst length in packets (≥ 1); undefined: independent losses. */
  burstPackets?: number;
  jitterMs: number;
  reorderPct: number;
  duplicatePct: number;
}

export const NO_IMPAIRMENTS: ImpairmentSettings = { lossPct: 0, jitterMs: 0, reorderPct: 0, duplicatePct: 0 };

/** The chain's transition probabilities for a loss fraction and mean burst; throws a RangeError naming an impossible pair. */
export function gilbertElliott(lossPct: number, burstPackets: number | undefined): { p: number; q: number } {
  const loss = lossPct / 100;
  if (loss <= 0) return { p: 0, q: 1 };
  if (loss >= 1) throw new RangeError(`loss must be below 100% [loss:${lossPct}]`);
  if (burstPackets === undefined) return { p: loss, q: 1 - loss };
  if (!(burstPackets >= 1)) throw new RangeError(`the mean burst length is at least one packet [burst:${burstPackets}]`);
  const q = 1 / burstPackets;
  const p = (q * loss) / (1 - loss);
  if (p > 1) {
    // p ≤ 1 needs P ≤ L/(L + 1): short bursts cannot make up a large loss.
    throw new RangeError(`loss ${lossPct}% cannot come in bursts of ${burstPackets} packets on average (at most ${((100 * burstPackets) / (burstPackets + 1)).toFixed(1)}%)`);
  }
  return { p, q };
}

/** One stream's impairment decisions; `decide` allocates nothing. */
export class Impairments {
  /** Set by `decide`: send the packet twice. */
  duplicate = false;
  /** Set by `decide`: held back so the next packet overtakes it. */
  reordered = false;

  readonly #prng: Prng;
  readonly #p: number;
  readonly #q: number;
  readonly #jitterMs: number;
  readonly #reorder: number;
  readonly #duplicate: number;
  readonly #frameMs: number;
  #bad: boolean;
  /** Release time of the last packet that kept its place: later ones wait behind it. */
  #lastReleaseMs = -Infinity;

  constructor(settings: ImpairmentSettings, seed: number, frameMs = 20) {
    const { p, q } = gilbertElliott(settings.lossPct, settings.burstPackets);
    this.#prng = new Prng(seed);
    this.#p = p;
    this.#q = q;
    this.#jitterMs = settings.jitterMs;
    this.#reorder = settings.reorderPct / 100;
    this.#duplicate = settings.duplicatePct / 100;
    this.#frameMs = frameMs;
    // Start in the stationary distribution, so a short stream's loss is unbiased.
    this.#bad = p > 0 && this.#prng.next() < p / (p + q);
  }

  /** Whether any packet could be delayed (the sender then needs a release queue). */
  get delays(): boolean {
    return this.#jitterMs > 0 || this.#reorder > 0;
  }

  /**
   * The fate of the packet sent at `nowMs`: -1 when it is lost, else the time
   * to release it (≥ nowMs); `duplicate` and `reordered` describe it.
   */
  decide(nowMs: number): number {
    const lost = this.#bad;
    // The state of the next packet.
    const u = this.#prng.next();
    this.#bad = this.#bad ? u >= this.#q : u < this.#p;
    this.duplicate = false;
    this.reordered = false;
    if (lost) return -1;
    let release = nowMs;
    if (this.#jitterMs > 0) release += this.#prng.next() * this.#jitterMs;
    if (this.#reorder > 0 && this.#prng.next() < this.#reorder) {
      this.reordered = true;
      release = Math.max(release, this.#lastReleaseMs) + this.#frameMs + this.#jitterMs + 1;
    } else {
      if (release < this.#lastReleaseMs) release = this.#lastReleaseMs;
      this.#lastReleaseMs = release;
    }
    if (this.#duplicate > 0 && this.#prng.next() < this.#duplicate) this.duplicate = true;
    return release;
  }
}
