/** Marks the client may have waiting at once; past it the oldest is echoed at once (and counted). */
export const MAX_CLIENT_MARKS = 64;
/** A timestamp gap longer than this is a pause or a restart of the client's clock, not lost audio the buffer conceals. */
const MAX_GAP_MS = 1000;
const TS_WRAP = 2 ** 32;

/**
 * When the raw stream's client marks are due back: a mark is echoed once the
 * audio the client sent before it has been played, as Twilio does for ours
 * (DESIGN: "echoed once the audio before it has played"). The agent hears the
 * caller through the jitter buffer, which plays in real time, so this keeps
 * the same playout estimate TwilioPacer keeps for the other direction: each
 * frame ends `durationMs` after the one before it ended, or — after a pause —
 * after its own arrival plus the buffer's current delay; a sequence gap is
 * played as concealment, so its time counts too. A mark is due at the
 * playout end of the last frame before it; one with no audio before it at
 * once. Pure logic: the clock comes in the calls, names in a fixed ring.
 */
export class ClientMarks {
  readonly #names: string[] = new Array<string>(MAX_CLIENT_MARKS).fill('');
  readonly #dueMs = new Float64Array(MAX_CLIENT_MARKS);
  #head = 0;
  #count = 0;
  #playoutEndMs = -Infinity;
  /** Where on the client's clock (header ms) the last frame ended; NaN before the first. */
  #nextTsMs = Number.NaN;
  /** Marks echoed early because MAX_CLIENT_MARKS were waiting. */
  overflows = 0;

  get pending(): number {
    return this.#count;
  }

  /** A frame taken for the jitter buffer: `tsMs` its header timestamp, `delayMs` the buffer's delay now. */
  frame(nowMs: number, tsMs: number, durationMs: number, delayMs: number): void {
    // The header's clock wraps at 2^32 ms. A frame from before the last one (reordered) adds
    // nothing: the gap it falls in was counted when the frame after it came.
    const gap = Number.isNaN(this.#nextTsMs) ? 0 : (tsMs - this.#nextTsMs + TS_WRAP) % TS_WRAP;
    if (gap >= TS_WRAP / 2) return;
    const concealedMs = gap <= MAX_GAP_MS ? gap : 0;
    this.#playoutEndMs = Math.max(this.#playoutEndMs + concealedMs, nowMs + delayMs) + durationMs;
    this.#nextTsMs = (tsMs + durationMs) % TS_WRAP;
  }

  /**
   * A client mark: queued until due. Returns the name of a mark that must go
   * back at once to make room (the oldest), or undefined.
   */
  mark(name: string, nowMs: number): string | undefined {
    let evicted: string | undefined;
    if (this.#count === MAX_CLIENT_MARKS) {
      evicted = this.#names[this.#head];
      this.#head = (this.#head + 1) % MAX_CLIENT_MARKS;
      this.#count--;
      this.overflows++;
    }
    const slot = (this.#head + this.#count) % MAX_CLIENT_MARKS;
    this.#names[slot] = name;
    this.#dueMs[slot] = Math.max(nowMs, this.#playoutEndMs);
    this.#count++;
    return evicted;
  }

  /** The oldest mark whose audio has played by `nowMs` (taken off the queue), or undefined. */
  due(nowMs: number): string | undefined {
    if (this.#count === 0 || this.#dueMs[this.#head]! > nowMs) return undefined;
    const name = this.#names[this.#head]!;
    this.#names[this.#head] = '';
    this.#head = (this.#head + 1) % MAX_CLIENT_MARKS;
    this.#count--;
    return name;
  }
}
