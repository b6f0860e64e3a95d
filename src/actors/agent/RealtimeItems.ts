/**
 * The assistant items whose audio the `openai` agent plays, and which item
 * each `out` frame carried, so a barge-in can be truncated in the item's own
 * audio: frames of that item the caller heard — not silence written while
 * its audio ran late, not frames of earlier items.
 *
 * Items get increasing ordinals; the last ITEM_SLOTS are kept (more than can
 * be queued or awaiting truncation at once). The sequence → ordinal map
 * covers SEQ_MAP_FRAMES frames, far more than a leg keeps unheard.
 * `played`, `ordinalAt` and `heardFrames` run per frame and allocate nothing.
 */
const ITEM_SLOTS = 8;
const SEQ_MAP_FRAMES = 4096;
/** Interrupted item ids remembered (their late deltas are dropped). */
const INTERRUPTED_KEPT = 64;

export class RealtimeItems {
  readonly #ids: Array<string | undefined> = new Array<string | undefined>(ITEM_SLOTS).fill(undefined);
  readonly #ordinals = new Int32Array(ITEM_SLOTS).fill(-1);
  readonly #bytes = new Float64Array(ITEM_SLOTS);
  readonly #heard = new Float64Array(ITEM_SLOTS);
  readonly #seqOrdinal = new Int32Array(SEQ_MAP_FRAMES).fill(-1);
  readonly #interrupted = new Set<string>();
  #next = 0;
  #receiving = -1;
  #receivingEnded = false;

  /** Counts `bytes` of socket audio for `itemId`; returns its ordinal (a new item gets the next one). */
  receive(itemId: string, bytes: number): number {
    if (this.#receiving < 0 || this.#ids[this.#receiving % ITEM_SLOTS] !== itemId) {
      this.#receiving = this.#next++;
      const slot = this.#receiving % ITEM_SLOTS;
      this.#ids[slot] = itemId;
      this.#ordinals[slot] = this.#receiving;
      this.#bytes[slot] = 0;
      this.#heard[slot] = 0;
      this.#receivingEnded = false;
    }
    this.#bytes[this.#receiving % ITEM_SLOTS]! += bytes;
    return this.#receiving;
  }

  /** The ordinal the next new item will get. */
  get nextOrdinal(): number {
    return this.#next;
  }

  /** The item being received has all its audio. */
  endReceiving(): void {
    this.#receivingEnded = true;
  }

  /** True while an item's audio is still coming in (a silence frame now is an underrun). */
  streaming(): boolean {
    if (this.#receiving < 0 || this.#receivingEnded) return false;
    return !this.#interrupted.has(this.#ids[this.#receiving % ITEM_SLOTS]!);
  }

  /** Every item so far is interrupted: their audio still arriving is dropped. */
  interruptAll(): void {
    for (const id of this.#ids) if (id !== undefined) this.#interrupted.add(id);
    while (this.#interrupted.size > INTERRUPTED_KEPT) this.#interrupted.delete(this.#interrupted.values().next().value!);
  }

  isInterrupted(itemId: string): boolean {
    return this.#interrupted.has(itemId);
  }

  /** Out frame `seq` carried item `ordinal` (-1: silence). */
  played(seq: number, ordinal: number): void {
    this.#seqOrdinal[seq % SEQ_MAP_FRAMES] = ordinal;
  }

  ordinalAt(seq: number): number {
    return seq < 0 ? -1 : this.#seqOrdinal[seq % SEQ_MAP_FRAMES]!;
  }

  /** Out frames with sequence in [from, to) were heard: credit each to its item. */
  heardFrames(from: number, to: number): void {
    for (let s = Math.max(from, to - SEQ_MAP_FRAMES); s < to; s++) {
      const ordinal = this.#seqOrdinal[s % SEQ_MAP_FRAMES]!;
      if (ordinal < 0) continue;
      const slot = ordinal % ITEM_SLOTS;
      if (this.#ordinals[slot] === ordinal) this.#heard[slot]!++;
    }
  }

  #slot(ordinal: number): number {
    return ordinal >= 0 && this.#ordinals[ordinal % ITEM_SLOTS] === ordinal ? ordinal % ITEM_SLOTS : -1;
  }

  idOf(ordinal: number): string | undefined {
    const slot = this.#slot(ordinal);
    return slot < 0 ? undefined : this.#ids[slot];
  }

  heardOf(ordinal: number): number {
    const slot = this.#slot(ordinal);
    return slot < 0 ? 0 : this.#heard[slot]!;
  }

  receivedBytesOf(ordinal: number): number {
    const slot = this.#slot(ordinal);
    return slot < 0 ? 0 : this.#bytes[slot]!;
  }
}
