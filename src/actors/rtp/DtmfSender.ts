import { DTMF_DIGITS, dtmfPackets, type DtmfPacket } from '../../wire/dtmf.ts';

/**
 * Digits to send as RFC 4733 telephone-events. Packets are built when digits
 * are queued (control time); on each tick the leg asks `next()` whether this
 * frame's slot carries an event packet instead of audio. While an event
 * plays, the agent's audio is dropped (§2.5.1.1: the event replaces the
 * audio), and a short gap of audio separates two digits.
 */

/** Audio frames between two digits (40 ms), so the receiver sees two keypresses. */
const GAP_FRAMES = 2;

export class DtmfSender {
  readonly #clockRateHz: number;
  #queue: Array<DtmfPacket | null> = [];
  #at = 0;
  /** The running event's start timestamp (its first packet's media timestamp). */
  eventTimestamp = 0;
  sent = 0;

  constructor(clockRateHz: number) {
    this.#clockRateHz = clockRateHz;
  }

  /** Queues digits (throws a RangeError naming bad input; control time). */
  queue(digits: string): void {
    if (!DTMF_DIGITS.test(digits)) {
      throw new RangeError(`dtmf: expected 1–32 of 0-9 * # A-D [got:${JSON.stringify(digits)}]`);
    }
    const rest = this.#queue.slice(this.#at);
    for (const d of digits) {
      // Timestamps are set when each event starts; the payloads do not carry them.
      rest.push(...dtmfPackets(d, 0, { clockRateHz: this.#clockRateHz }));
      for (let i = 0; i < GAP_FRAMES; i++) rest.push(null);
    }
    this.#queue = rest;
    this.#at = 0;
  }

  get pending(): boolean {
    return this.#at < this.#queue.length;
  }

  /**
   * The event packet for this frame, or null for audio. `mediaTimestamp` is
   * the timestamp this frame would have: a new event starts there.
   */
  next(mediaTimestamp: number): DtmfPacket | null {
    if (this.#at >= this.#queue.length) return null;
    const p = this.#queue[this.#at++]!;
    if (p !== null) {
      if (p.marker) this.eventTimestamp = mediaTimestamp;
      this.sent++;
    }
    return p;
  }
}
