/**
 * The reply's sentences as the caller hears them: each sentence queued for
 * speech gets an ordinal; every `out` frame records the ordinal it carried
 * (-1 for silence); the leg's heard count (HeardTracker) credits heard frames
 * to their sentence. After a barge-in, `heardText` is the reply cut to what
 * was really heard: whole sentences heard to their end, then the sentence
 * that was interrupted cut in proportion to the share of its audio heard
 * (at a word boundary), then nothing.
 *
 * The last SLOTS sentences are kept (the agent synthesises at most a few
 * sentences ahead of playback); the sequence map covers SEQ_MAP_FRAMES
 * frames, far more than a leg keeps unheard. `played` and `heardFrames` run
 * per frame and allocate nothing.
 */
const SLOTS = 64;
const SEQ_MAP_FRAMES = 4096;

export class SpokenSentences {
  readonly #text: string[] = new Array<string>(SLOTS).fill('');
  readonly #ordinals = new Int32Array(SLOTS).fill(-1);
  /** Audio of each sentence, ms (as synthesised); -1 while it is still arriving. */
  readonly #ms = new Float64Array(SLOTS);
  readonly #receivedMs = new Float64Array(SLOTS);
  readonly #heardFrames = new Float64Array(SLOTS);
  readonly #seqOrdinal = new Int32Array(SEQ_MAP_FRAMES).fill(-1);
  #next = 0;

  /** A sentence queued for speech; returns its ordinal. */
  add(text: string): number {
    const ordinal = this.#next++;
    const slot = ordinal % SLOTS;
    this.#text[slot] = text;
    this.#ordinals[slot] = ordinal;
    this.#ms[slot] = -1;
    this.#receivedMs[slot] = 0;
    this.#heardFrames[slot] = 0;
    return ordinal;
  }

  get nextOrdinal(): number {
    return this.#next;
  }

  /** `ms` of the sentence's audio arrived. */
  received(ordinal: number, ms: number): void {
    const slot = this.#slot(ordinal);
    if (slot >= 0) this.#receivedMs[slot]! += ms;
  }

  /** The sentence's audio is complete. */
  ended(ordinal: number): void {
    const slot = this.#slot(ordinal);
    if (slot >= 0) this.#ms[slot] = this.#receivedMs[slot]!;
  }

  /** Out frame `seq` carried sentence `ordinal` (-1: silence). */
  played(seq: number, ordinal: number): void {
    this.#seqOrdinal[seq % SEQ_MAP_FRAMES] = ordinal;
  }

  ordinalAt(seq: number): number {
    return seq < 0 ? -1 : this.#seqOrdinal[seq % SEQ_MAP_FRAMES]!;
  }

  /** Out frames with sequence in [from, to) were heard: credit each to its sentence. */
  heardFrames(from: number, to: number): void {
    for (let s = Math.max(from, to - SEQ_MAP_FRAMES); s < to; s++) {
      const slot = this.#slot(this.#seqOrdinal[s % SEQ_MAP_FRAMES]!);
      if (slot >= 0) this.#heardFrames[slot]!++;
    }
  }

  heardFramesOf(ordinal: number): number {
    const slot = this.#slot(ordinal);
    return slot < 0 ? 0 : this.#heardFrames[slot]!;
  }

  /**
   * The text of sentences [first, end) the caller heard, `frameMs` per frame:
   * a sentence heard for its whole audio counts whole; the first one heard in
   * part is cut to the same share of its characters and ends the text.
   */
  heardText(first: number, end: number, frameMs: number): string {
    const parts: string[] = [];
    for (let o = first; o < end; o++) {
      const slot = this.#slot(o);
      if (slot < 0) continue;
      const text = this.#text[slot]!;
      const heardMs = this.#heardFrames[slot]! * frameMs;
      const totalMs = this.#ms[slot]! >= 0 ? this.#ms[slot]! : this.#receivedMs[slot]!;
      // The last frame of a sentence is padded with silence: up to a frame more than its audio.
      if (totalMs > 0 && heardMs >= totalMs) {
        parts.push(text);
        continue;
      }
      const cut = cutAtWord(text, totalMs > 0 ? heardMs / totalMs : 0);
      if (cut !== '') parts.push(cut);
      break;
    }
    return parts.join(' ');
  }

  /** The text of sentences [first, end), heard or not. */
  textOf(first: number, end: number): string {
    const parts: string[] = [];
    for (let o = first; o < end; o++) {
      const slot = this.#slot(o);
      if (slot >= 0) parts.push(this.#text[slot]!);
    }
    return parts.join(' ');
  }

  #slot(ordinal: number): number {
    return ordinal >= 0 && this.#ordinals[ordinal % SLOTS] === ordinal ? ordinal % SLOTS : -1;
  }
}

/** The first `share` (0–1) of `text`'s characters, ending at the word boundary nearest that point. */
export function cutAtWord(text: string, share: number): string {
  if (share <= 0) return '';
  if (share >= 1) return text;
  const at = Math.round(text.length * share);
  // The boundary closest to `at`: the end of the word there, or the one before.
  const before = text.lastIndexOf(' ', at);
  const after = text.indexOf(' ', at);
  let end: number;
  if (after < 0) end = at - Math.max(before, 0) <= text.length - at ? Math.max(before, 0) : text.length;
  else if (before < 0) end = after;
  else end = at - before <= after - at ? before : after;
  return text.slice(0, end).trim();
}
