import { MAX_PAYLOAD_BYTES } from '../../frames/PacketRing.ts';

/**
 * The jitter buffer's packets: a fixed number of slots, each with room for
 * one MTU-sized payload, all allocated at construction. A packet's slot is its
 * extended sequence number modulo the capacity, so lookup is one index and
 * the buffer holds any CAPACITY consecutive sequence numbers at once; the
 * JitterBuffer refuses packets outside that window, so memory never grows.
 *
 * ```
 *  payloads  [ slot 0: MAX_PAYLOAD_BYTES ][ slot 1 ] … [ slot CAPACITY−1 ]
 *  per slot  extSeq (−1 = free) · extTs · arrivalMs · length · marker
 * ```
 */
export const STORE_CAPACITY = 64;

export const PutResult = {
  STORED: 0,
  DUPLICATE: 1,
  /** Stored over an older packet left in the slot (counted as discarded by the caller). */
  REPLACED: 2,
} as const;

export class PacketStore {
  readonly capacity = STORE_CAPACITY;
  readonly #payloads = new Uint8Array(STORE_CAPACITY * MAX_PAYLOAD_BYTES);
  /** One full-size view per slot, made once: decoders read `length` bytes of it. */
  readonly #views: Uint8Array[] = [];
  readonly #seq = new Float64Array(STORE_CAPACITY).fill(-1);
  readonly #ts = new Float64Array(STORE_CAPACITY);
  readonly #arrival = new Float64Array(STORE_CAPACITY);
  readonly #length = new Int32Array(STORE_CAPACITY);
  readonly #marker = new Uint8Array(STORE_CAPACITY);
  #count = 0;

  constructor() {
    for (let s = 0; s < STORE_CAPACITY; s++) {
      this.#views.push(new Uint8Array(this.#payloads.buffer, s * MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES));
    }
  }

  get count(): number {
    return this.#count;
  }

  /** Copies a packet in (the caller checked 0 < length ≤ MAX_PAYLOAD_BYTES). */
  put(extSeq: number, extTs: number, arrivalMs: number, marker: boolean, payload: Uint8Array, length: number): number {
    const slot = extSeq % STORE_CAPACITY;
    const held = this.#seq[slot]!;
    if (held === extSeq) return PutResult.DUPLICATE;
    const result = held >= 0 ? PutResult.REPLACED : PutResult.STORED;
    if (held < 0) this.#count++;
    this.#seq[slot] = extSeq;
    this.#ts[slot] = extTs;
    this.#arrival[slot] = arrivalMs;
    this.#length[slot] = length;
    this.#marker[slot] = marker ? 1 : 0;
    const view = this.#views[slot]!;
    if (length === payload.length) view.set(payload);
    else for (let i = 0; i < length; i++) view[i] = payload[i]!;
    return result;
  }

  /** The slot holding `extSeq`, or −1. */
  find(extSeq: number): number {
    const slot = extSeq % STORE_CAPACITY;
    return this.#seq[slot] === extSeq ? slot : -1;
  }

  /** The slot of the smallest buffered sequence number ≥ `extSeq`, or −1. */
  firstFrom(extSeq: number): number {
    let best = -1;
    let bestSeq = Infinity;
    for (let s = 0; s < STORE_CAPACITY; s++) {
      const q = this.#seq[s]!;
      if (q >= extSeq && q < bestSeq) {
        bestSeq = q;
        best = s;
      }
    }
    return best;
  }

  /** Frees every slot below `extSeq`; returns how many it freed. */
  dropBelow(extSeq: number): number {
    let n = 0;
    for (let s = 0; s < STORE_CAPACITY; s++) {
      const q = this.#seq[s]!;
      if (q >= 0 && q < extSeq) {
        this.#seq[s] = -1;
        n++;
      }
    }
    this.#count -= n;
    return n;
  }

  /** The largest buffered timestamp, or −Infinity when empty. */
  newestTs(): number {
    let ts = -Infinity;
    for (let s = 0; s < STORE_CAPACITY; s++) if (this.#seq[s]! >= 0 && this.#ts[s]! > ts) ts = this.#ts[s]!;
    return ts;
  }

  release(slot: number): void {
    if (this.#seq[slot]! < 0) return;
    this.#seq[slot] = -1;
    this.#count--;
  }

  clear(): void {
    this.#seq.fill(-1);
    this.#count = 0;
  }

  seqOf(slot: number): number {
    return this.#seq[slot]!;
  }
  tsOf(slot: number): number {
    return this.#ts[slot]!;
  }
  arrivalOf(slot: number): number {
    return this.#arrival[slot]!;
  }
  lengthOf(slot: number): number {
    return this.#length[slot]!;
  }
  markerOf(slot: number): boolean {
    return this.#marker[slot] === 1;
  }
  /** The slot's payload bytes (the first `lengthOf(slot)` are the packet's). */
  payloadOf(slot: number): Uint8Array {
    return this.#views[slot]!;
  }
}
