import { FrameFlags, type FrameRing } from '../frames/FrameRing.ts';
import { epochMs, madeStamp, tickDueMs } from '../frames/epochClock.ts';
export { RECORD_AGENT_ROLE, RECORD_CALLER_ROLE } from '../frames/edges.ts';

/** Audio a tap holds between going out and its tick on the recording's timeline: a Twilio leg's lead is at most 2 s. */
const QUEUE_MS = 2560;

/**
 * One channel of a call's recording, written by the actor that sees it (the
 * jitter/PLC actor: what the caller said, as conditioned; a leg: what went on
 * the wire to the caller) into a `record` ring that the recording writer
 * thread drains (src/recording/). Exactly one frame per tick, so the
 * channel's timeline is the tick clock: the frame's sequence is the tick
 * index and its timestamp when its tick was due (epochClock's tickDueMs as a madeStamp: µs mod 2^32), from which the writer
 * places the channel's first frame against the other channel's; after that
 * the tick index alone places a frame, so a frame the ring had no room for
 * (the writer thread or its disk fell behind: counted in the ring's
 * `overflows`) is a gap of silence, never a shift of one channel against the
 * other.
 *
 * Real-time path: `write`, `push`, `clear` and `tick` allocate nothing and
 * never throw; a full ring only costs the recording a frame.
 */
export class RecordTap {
  readonly #ring: FrameRing;
  readonly #rateHz: number;
  readonly #spf: number;
  /** FIFO of samples that went out ahead of their time (`push`), `#queued` of them from `#head`. */
  readonly #queue: Int16Array;
  #head = 0;
  #queued = 0;
  readonly #frame: Int16Array;
  /** Samples pushed with no room in the queue (a leg far ahead of its lead). */
  overrunSamples = 0;

  constructor(ring: FrameRing, rateHz: number, tickMs: number) {
    this.#ring = ring;
    this.#rateHz = rateHz;
    this.#spf = Math.round((rateHz * tickMs) / 1000);
    this.#queue = new Int16Array(Math.ceil((rateHz * QUEUE_MS) / 1000));
    this.#frame = new Int16Array(this.#spf);
  }

  /** Samples per frame of this channel. */
  get samplesPerFrame(): number {
    return this.#spf;
  }

  /** This tick's frame is `frame` (the jitter output, the frame an RTP leg sent). */
  write(tickIndex: number, frame: Int16Array, count: number, flags: number): boolean {
    // When the tick was due (a late tick in a catch-up burst still says its own time); the time now outside a tick (tests).
    const due = tickDueMs();
    return this.#ring.write(frame, count, tickIndex >>> 0, madeStamp(due > 0 ? due : epochMs()), this.#rateHz, flags);
  }

  /** Audio that went out now but plays over the next ticks (a Twilio leg's chunks, sent ahead by its lead). */
  push(samples: Int16Array, count: number): void {
    const q = this.#queue;
    for (let i = 0; i < count; i++) {
      if (this.#queued === q.length) {
        this.overrunSamples += count - i;
        return;
      }
      q[(this.#head + this.#queued) % q.length] = samples[i]!;
      this.#queued++;
    }
  }

  /** A barge-in: what went out and had not played yet never plays (the peer was told to clear). */
  clear(): void {
    this.#queued = 0;
  }

  /** Writes this tick's frame from the pushed audio, silence where there is none. */
  tick(tickIndex: number): boolean {
    const q = this.#queue;
    const f = this.#frame;
    const n = this.#queued < this.#spf ? this.#queued : this.#spf;
    for (let i = 0; i < n; i++) f[i] = q[(this.#head + i) % q.length]!;
    f.fill(0, n);
    this.#head = (this.#head + n) % q.length;
    this.#queued -= n;
    return this.write(tickIndex, f, this.#spf, n === 0 ? FrameFlags.SILENCE : FrameFlags.SPEECH);
  }
}

/** The tap of an actor that records, if its call records (its optional `role` ring was made). */
export function recordTapOf(rings: Readonly<Record<string, FrameRing>>, role: string, rateHz: number, tickMs: number): RecordTap | undefined {
  const ring = rings[role];
  return ring === undefined ? undefined : new RecordTap(ring, rateHz, tickMs);
}
