import { MAX_PAYLOAD_BYTES } from '../../frames/PacketRing.ts';

/**
 * The jitter buffer's packets: a fixed number of slots for what is known of
 * each packet, and one byte arena for their payloads, all allocated at
 * construction. A packet's slot is its extended sequence number modulo the
 * capacity, so lookup is one index and the buffer holds any CAPACITY
 * consecutive sequence numbers at once; the JitterBuffer refuses packets
 * outside that window, so memory never grows.
 *
 * Payloads go into the arena in arrival order, as a circular buffer of
 * bytes: each packet's bytes are contiguous, one that would not fit before
 * the end starts at 0, and writing over bytes a stored packet still holds
 * evicts that packet (counted in `evicted`). The arena is sized from the
 * stream (`arenaBytesFor`) to hold its packets for far longer than the
 * playout delay, so what is evicted was never going to play; what a packet
 * costs is its own size, not an MTU. Any payload up
 * to MAX_PAYLOAD_BYTES is stored (RFC 3551 §4.2: receivers accept packets of
 * 0–200 ms).
 *
 * ```
 *  arena     [ … p7 | p8 | p9 ·free· | p4 | p5 | p6 |·end too short for p10·]
 *                                ^ next write   (p10 goes to 0, evicting p7)
 *  scratch   [ MAX_PAYLOAD_BYTES ]  payloadOf copies a packet here for decoders
 *  per slot  extSeq (−1 = free) · extTs · arrivalMs · offset · length · marker
 * ```
 */
export const STORE_CAPACITY = 64;

/** The least arena: any packet fits, with room for the one before it. */
export const MIN_ARENA_BYTES = 2 * MAX_PAYLOAD_BYTES;

/**
 * The arena for a stream of at most `bytesPerSecond` of payload
 * (PacketDecoder.maxPayloadBytesPerSecond) played at most `maxDelayMs` late:
 * twice the delay, and at least 1 s. A packet stays stored from its arrival
 * until it plays, at most maxDelayMs after it could have; a burst after a
 * stall arrives up to as much early again. With the 16 KB floor, G.711,
 * G.722, Opus and 8 kHz L16 take 16 KB (at the default 200 ms delay), L16
 * at 48 kHz 96 KB.
 */
export function arenaBytesFor(bytesPerSecond: number, maxDelayMs: number): number {
  const ms = Math.max(1000, 2 * maxDelayMs);
  return Math.max(MIN_ARENA_BYTES, ARENA_FLOOR_BYTES, Math.ceil((bytesPerSecond * ms) / 1000));
}

/** At least ten MTU-sized packets whatever the stream's rate. */
const ARENA_FLOOR_BYTES = 16 * 1024;

export const PutResult = {
  STORED: 0,
  DUPLICATE: 1,
  /** Stored over an older packet left in the slot (counted as discarded by the caller). */
  REPLACED: 2,
} as const;

export class PacketStore {
  readonly capacity = STORE_CAPACITY;
  /** Payload bytes the arena holds. */
  readonly arenaBytes: number;
  /** Packets evicted so far because the arena came round to their bytes (never reset). */
  evicted = 0;
  /** The arena followed by the scratch a packet is copied to for reading, in one buffer so the copy is a `copyWithin`. */
  readonly #bytes: Uint8Array;
  /** The scratch: decoders read its first `lengthOf(slot)` bytes. */
  readonly #scratch: Uint8Array;
  readonly #seq = new Float64Array(STORE_CAPACITY).fill(-1);
  readonly #ts = new Float64Array(STORE_CAPACITY);
  readonly #arrival = new Float64Array(STORE_CAPACITY);
  readonly #offset = new Int32Array(STORE_CAPACITY);
  readonly #length = new Int32Array(STORE_CAPACITY);
  readonly #marker = new Uint8Array(STORE_CAPACITY);
  #count = 0;
  /** Where the next payload goes. */
  #head = 0;

  constructor(arenaBytes: number) {
    if (!Number.isInteger(arenaBytes) || arenaBytes < MIN_ARENA_BYTES) {
      throw new RangeError(`PacketStore: the arena needs at least ${MIN_ARENA_BYTES} bytes [arenaBytes:${arenaBytes}]`);
    }
    this.arenaBytes = arenaBytes;
    this.#bytes = new Uint8Array(arenaBytes + MAX_PAYLOAD_BYTES);
    this.#scratch = this.#bytes.subarray(arenaBytes);
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
    // The slot's old packet is replaced, not evicted: its bytes are simply abandoned.
    if (held >= 0) this.#release(slot);
    let at = this.#head;
    if (at + length > this.arenaBytes) at = 0;
    this.#evictOverlapping(at, at + length);
    this.#head = at + length;
    this.#count++;
    this.#seq[slot] = extSeq;
    this.#ts[slot] = extTs;
    this.#arrival[slot] = arrivalMs;
    this.#offset[slot] = at;
    this.#length[slot] = length;
    this.#marker[slot] = marker ? 1 : 0;
    const bytes = this.#bytes;
    if (length === payload.length) bytes.set(payload, at);
    else for (let i = 0; i < length; i++) bytes[at + i] = payload[i]!;
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
    this.#release(slot);
  }

  clear(): void {
    this.#seq.fill(-1);
    this.#count = 0;
    this.#head = 0;
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

  /**
   * The slot's payload, copied to the start of a MAX_PAYLOAD_BYTES scratch
   * (the first `lengthOf(slot)` bytes are the packet's). The scratch is
   * shared: it holds this packet until the next call.
   */
  payloadOf(slot: number): Uint8Array {
    const at = this.#offset[slot]!;
    this.#bytes.copyWithin(this.arenaBytes, at, at + this.#length[slot]!);
    return this.#scratch;
  }

  #release(slot: number): void {
    this.#seq[slot] = -1;
    this.#count--;
  }

  /** Evicts every stored packet whose bytes meet [from, to). */
  #evictOverlapping(from: number, to: number): void {
    for (let s = 0; s < STORE_CAPACITY; s++) {
      if (this.#seq[s]! < 0) continue;
      const at = this.#offset[s]!;
      if (at < to && at + this.#length[s]! > from) {
        this.#release(s);
        this.evicted++;
      }
    }
  }
}
