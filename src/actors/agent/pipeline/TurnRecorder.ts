import { Vad } from '../../../dsp/vad.ts';

/** Longest caller turn kept; a longer one ends there (and is transcribed as it is). */
export const MAX_TURN_MS = 30_000;
/**
 * The VAD says "speech" only after its onset frames; the frames just before
 * are kept and put at the start of the turn so the first syllable reaches the
 * transcription.
 */
export const PREROLL_FRAMES = 5;

/** What `push` reports for a frame. */
export const TurnEdge = {
  NONE: 0,
  /** The caller started speaking (the VAD's silence → speech edge). */
  STARTED: 1,
  /** The turn ended (speech → silence after the hangover): `take()` has it. */
  ENDED: 2,
} as const;

/**
 * The caller's turns, found by our VAD: frames before the speech onset are
 * kept in a preroll, the turn is recorded from there until the VAD's hangover
 * runs out. `push` runs per frame, allocates nothing and never throws; `take`
 * copies the finished turn out (once per turn).
 */
export class TurnRecorder {
  readonly vad: Vad;
  readonly #spf: number;
  readonly #turn: Int16Array;
  readonly #preroll: Int16Array;
  #prerollFrames = 0;
  #prerollAt = 0;
  #recorded = 0;
  #inTurn = false;

  constructor(rateHz: number, frameMs: number, hangoverMs: number) {
    this.vad = new Vad(rateHz, { frameMs, hangoverFrames: Math.round(hangoverMs / frameMs) });
    this.#spf = (rateHz * frameMs) / 1000;
    this.#turn = new Int16Array((rateHz * MAX_TURN_MS) / 1000);
    this.#preroll = new Int16Array(PREROLL_FRAMES * this.#spf);
  }

  get inTurn(): boolean {
    return this.#inTurn;
  }

  /** One caller frame (`samplesPerFrame` samples); returns a TurnEdge. */
  push(frame: Int16Array): number {
    const spf = this.#spf;
    const speech = this.vad.process(frame);
    let edge: number = TurnEdge.NONE;
    if (speech && !this.#inTurn) {
      this.#inTurn = true;
      this.#recorded = 0;
      edge = TurnEdge.STARTED;
      // The oldest kept frame first.
      for (let f = this.#prerollFrames; f > 0; f--) {
        const from = ((this.#prerollAt - f + PREROLL_FRAMES) % PREROLL_FRAMES) * spf;
        for (let i = 0; i < spf; i++) this.#turn[this.#recorded + i] = this.#preroll[from + i]!;
        this.#recorded += spf;
      }
      this.#prerollFrames = 0;
    }
    if (!this.#inTurn) {
      const at = this.#prerollAt * spf;
      for (let i = 0; i < spf; i++) this.#preroll[at + i] = frame[i]!;
      this.#prerollAt = (this.#prerollAt + 1) % PREROLL_FRAMES;
      if (this.#prerollFrames < PREROLL_FRAMES) this.#prerollFrames++;
      return edge;
    }
    const n = Math.min(spf, this.#turn.length - this.#recorded);
    for (let i = 0; i < n; i++) this.#turn[this.#recorded + i] = frame[i]!;
    this.#recorded += n;
    if (!speech || this.#recorded >= this.#turn.length) {
      this.#inTurn = false;
      return TurnEdge.ENDED;
    }
    return edge;
  }

  /** A copy of the finished turn (allocates; once per turn). */
  take(): Int16Array {
    return this.#turn.slice(0, this.#recorded);
  }

  destroy(): void {
    this.vad.destroy();
  }
}
