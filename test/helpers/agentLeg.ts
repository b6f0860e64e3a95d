import { vi } from 'vitest';
import { FrameFlags, FrameMeta, type FrameRing } from '../../src/frames/FrameRing.ts';

/**
 * The test thread playing an agent's leg, as a Twilio leg behaves: feeds the
 * agent's `in` ring at real-time pace, takes its `out` frames, "plays" each
 * `playLagMs` after taking it (the audio Twilio still buffers), writes the
 * `heard` count as frames play, and on a CLEAR drops what has not played and
 * answers with the final CLEAR-flagged heard count `clearAnswerMs` later
 * (never, when undefined). `heard` frames go out as the count advances.
 */
export interface OutFrame {
  seq: number;
  flags: number;
  samples: Int16Array;
  atMs: number;
  /** Set once the frame "played" (heard by the caller). */
  heard: boolean;
}

export class AgentLeg {
  readonly out: OutFrame[] = [];
  /** CLEAR frames taken, with the index in `out` of the first frame after each. */
  readonly clears: Array<{ seq: number; sampleCount: number; atMs: number; outIndex: number }> = [];
  /** Heard count written to the agent (frames with sequence below it played). */
  heard = 0;
  /** What feeds `in`: a source of frames; silence when it runs out. */
  source: Int16Array[] = [];
  #fed = 0;
  #sourceAt = 0;
  readonly #t0 = performance.now();
  readonly #meta = new FrameMeta();
  readonly #pending: OutFrame[] = [];
  #finalAtMs: number | undefined;

  constructor(
    readonly rings: { in: FrameRing; out: FrameRing; heard: FrameRing },
    readonly rateHz: number,
    readonly opts: { playLagMs: number; clearAnswerMs: number | undefined; claimAllOnClear?: boolean },
  ) {}

  get spf(): number {
    return this.rateHz / 50;
  }
  nowMs(): number {
    return performance.now() - this.#t0;
  }

  /** Starts feeding `frames` now (what was left of the previous source is dropped). */
  say(frames: Int16Array[]): void {
    this.source = frames;
    this.#sourceAt = 0;
  }

  step(): void {
    const now = this.nowMs();
    const spf = this.spf;
    const due = Math.floor(now / 20);
    while (this.#fed < due && this.rings.in.space() > 0) {
      const f = this.#sourceAt < this.source.length ? this.source[this.#sourceAt++]! : new Int16Array(spf);
      this.rings.in.write(f, spf, this.#fed, this.#fed * spf, this.rateHz, 0);
      this.#fed++;
    }
    while (this.rings.out.available() > 0) {
      const buf = new Int16Array(spf);
      this.rings.out.read(buf, this.#meta);
      const m = this.#meta;
      if (m.flags & FrameFlags.CLEAR) {
        // Drop what has not played; the final count follows after a while.
        // A leg that claims everything it took was heard (an RTP leg whose
        // frames were all on the wire already) counts the rest as played.
        if (this.opts.claimAllOnClear === true) {
          for (const p of this.#pending) (p.heard = true), (this.heard = p.seq + 1);
        }
        this.#pending.length = 0;
        this.clears.push({ seq: m.sequence, sampleCount: m.sampleCount, atMs: now, outIndex: this.out.length });
        if (this.opts.clearAnswerMs !== undefined) this.#finalAtMs = now + this.opts.clearAnswerMs;
        continue;
      }
      const f: OutFrame = { seq: m.sequence, flags: m.flags, samples: buf, atMs: now, heard: false };
      this.out.push(f);
      this.#pending.push(f);
    }
    while (this.#pending.length > 0 && this.#pending[0]!.atMs + this.opts.playLagMs <= now) {
      const f = this.#pending.shift()!;
      f.heard = true;
      this.heard = f.seq + 1;
      this.rings.heard.write(new Int16Array(1), 0, this.heard, 0, this.rateHz, 0);
    }
    if (this.#finalAtMs !== undefined && now >= this.#finalAtMs) {
      this.#finalAtMs = undefined;
      this.rings.heard.write(new Int16Array(1), 0, this.heard, 0, this.rateHz, FrameFlags.CLEAR);
    }
  }

  /** Steps every 5 ms until `done()` or `maxMs`; rejects on time-out. */
  runUntil(done: () => boolean, maxMs: number, what: string): Promise<void> {
    const stepUnlessDone = (): void => {
      if (done()) return;
      this.step();
      throw new Error(`timed out waiting for ${what}`);
    };
    return vi.waitFor(stepUnlessDone, { timeout: maxMs, interval: 5 });
  }

  async runFor(ms: number): Promise<void> {
    const end = performance.now() + ms;
    await this.runUntil(() => performance.now() >= end, ms + 1000, 'time');
  }

  /** Agent-audio frames (not silence) taken so far / heard so far. */
  audio(): OutFrame[] {
    return this.out.filter((f) => (f.flags & FrameFlags.SILENCE) === 0);
  }
  heardAudio(): number {
    return this.audio().filter((f) => f.heard).length;
  }
  /** Agent-audio frames heard before the `n`th CLEAR (the interrupted audio's share). */
  heardBeforeClear(n = 0): number {
    const end = this.clears[n]?.outIndex ?? this.out.length;
    return this.out.slice(0, end).filter((f) => f.heard && (f.flags & FrameFlags.SILENCE) === 0).length;
  }
}

export function framesOf(samples: Int16Array, spf: number): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let i = 0; i + spf <= samples.length; i += spf) frames.push(samples.slice(i, i + spf));
  return frames;
}
