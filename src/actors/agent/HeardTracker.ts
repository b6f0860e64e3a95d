import { FrameFlags, FrameMeta, type FrameRing } from '../../frames/FrameRing.ts';

/**
 * How long an agent waits, after its CLEAR, for the leg's final heard count
 * before it settles for the latest one. Twilio echoes every outstanding mark
 * as soon as it gets `clear`, and an RTP leg answers at once, so a second of
 * silence means the leg or its network is stuck, not slow.
 */
export const HEARD_FINAL_TIMEOUT_MS = 1000;

/** What `poll` reports. */
export const Heard = {
  /** Nothing settled this time. */
  NONE: 0,
  /** The leg's CLEAR-flagged heard frame came: `final` is exact. */
  FINAL: 1,
  /** No final frame within HEARD_FINAL_TIMEOUT_MS: `final` is the latest count. */
  TIMED_OUT: 2,
} as const;

/** Called for every advance of the heard count: out frames with sequence in [from, to) were heard. */
export type HeardListener = (from: number, to: number) => void;

/**
 * The agent's end of the `heard` ring (protocol in kind.ts): how many of the
 * agent's `out` frames the caller has heard, and the barge-in handshake.
 *
 * Between a CLEAR and the leg's final answer, only frames before the CLEAR
 * can count. When the answer comes, the frames between it and the CLEAR were
 * dropped by the leg and never heard; the count jumps over them, so the audio
 * after the CLEAR (which reuses the CLEAR's sequence number) is counted from
 * there. `poll` allocates nothing and never throws.
 */
export class HeardTracker {
  /** Out frames with a sequence below this have been heard (or were dropped by a CLEAR). */
  heard = 0;
  /** After `poll` returned FINAL or TIMED_OUT: the heard count at which the interrupted audio stopped. */
  final = 0;
  readonly #ring: FrameRing | undefined;
  readonly #onHeard: HeardListener | undefined;
  readonly #meta = new FrameMeta();
  readonly #scratch = new Int16Array(1);
  /** The pending CLEAR's sequence, or -1. */
  #clearSeq = -1;
  #deadlineMs = 0;

  constructor(ring: FrameRing | undefined, onHeard?: HeardListener) {
    this.#ring = ring;
    this.#onHeard = onHeard;
  }

  /** True between a CLEAR and its final heard count. */
  get pending(): boolean {
    return this.#clearSeq >= 0;
  }

  /**
   * A CLEAR went out with sequence `clearSeq` at `nowMs`. A barge-in still
   * pending is settled first with the count so far; returns true when that
   * happened (then `final` holds it).
   */
  clear(clearSeq: number, nowMs: number): boolean {
    const settled = this.pending;
    if (settled) this.#settle();
    this.#clearSeq = clearSeq;
    this.#deadlineMs = nowMs + HEARD_FINAL_TIMEOUT_MS;
    return settled;
  }

  /** Drains the ring; call once per tick. Returns a `Heard` value. */
  poll(nowMs: number): number {
    let result: number = Heard.NONE;
    const ring = this.#ring;
    if (ring !== undefined) {
      const meta = this.#meta;
      while (ring.available() > 0 && ring.read(this.#scratch, meta)) {
        if (this.#clearSeq >= 0) {
          this.#advance(Math.min(meta.sequence, this.#clearSeq));
          if ((meta.flags & FrameFlags.CLEAR) !== 0) {
            this.#settle();
            result = Heard.FINAL;
          }
        } else {
          this.#advance(meta.sequence);
        }
      }
    }
    if (this.#clearSeq >= 0 && nowMs >= this.#deadlineMs) {
      this.#settle();
      result = Heard.TIMED_OUT;
    }
    return result;
  }

  #advance(to: number): void {
    if (to <= this.heard) return;
    const from = this.heard;
    this.heard = to;
    this.#onHeard?.(from, to);
  }

  #settle(): void {
    this.final = this.heard;
    // The frames the leg dropped at the CLEAR were never heard: skip them.
    if (this.heard < this.#clearSeq) this.heard = this.#clearSeq;
    this.#clearSeq = -1;
  }
}
