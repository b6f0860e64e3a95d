/**
 * The two rings between a Twilio leg (on a network worker) and its Media
 * Stream's WebSocket (on the main thread, where the HTTP server is: a socket
 * cannot move to a worker thread). The main thread only parses and frames
 * messages; pacing, mark accounting and µ-law coding happen on the worker.
 *
 * `wire` (leg → main thread), one outbound message per slot, in send order;
 * `WireWriter` on the leg, `WireReader` on the main thread:
 *
 * | message | FLAGS      | other slot words (layout.ts)                              |
 * |---------|------------|-----------------------------------------------------------|
 * | media   | bit 8      | µ-law bytes packed in the data area, BYTE_LENGTH of them; |
 * |         | (+SPEECH)  | SEQUENCE the chunk's number; RATE_HZ 8000; a raw stream  |
 * |         |            | leg's frames (any codec, larger slots) add TIMESTAMP, ms  |
 * | mark    | bit 9      | SEQUENCE the mark's slot: its name is `markName(slot)`    |
 * | clear   | CLEAR      | —                                                         |
 *
 * `echo` (main thread → leg), what came back, in receive order;
 * `EchoWriter` on the main thread, `EchoReader` on the leg:
 *
 * | message | FLAGS      | meaning                                                   |
 * |---------|------------|-----------------------------------------------------------|
 * | mark    | 0          | a mark came back: SEQUENCE is its slot                    |
 * | fence   | CLEAR      | the `clear` just went out on the socket; echoes after     |
 * |         |            | this one may be Twilio's flush, not playout. SEQUENCE:    |
 * |         |            | µs since the newest mark echo came (NO_ECHO: none yet)    |
 */
import { FrameMeta } from './FrameMeta.ts';
import type { FrameRing } from './FrameRing.ts';
import { FrameFlags } from './layout.ts';

const MEDIA_FLAG = 1 << 8;
const MARK_FLAG = 1 << 9;

/** What `WireReader.read` took from the ring. */
export const WireMessage = { NONE: 0, MEDIA: 1, MARK: 2, CLEAR: 3 } as const;
/** A fence's SEQUENCE when no mark echo had come before the clear. */
const NO_ECHO = 0xffffffff;
/** What `EchoReader.read` took from the ring. */
export const EchoMessage = { NONE: 0, MARK: 1, FENCE: 2 } as const;

/** One 20 ms µ-law chunk; a wire slot holds it as 80 int16 words. */
export const WIRE_CHUNK_BYTES = 160;
export const WIRE_SLOT_WORDS = WIRE_CHUNK_BYTES / 2;
/** Twilio's bidirectional streams carry µ-law at 8 kHz. */
export const WIRE_RATE_HZ = 8000;

/** Marks outstanding at most (the pacer's ring): 20 s of 20 ms chunks, far beyond its lead. */
export const MAX_MARKS = 1024;
/** Mark names: short, ours, and parsed back without a lookup table. */
export const MARK_PREFIX = 'sb';

const NAMES: readonly string[] = Array.from({ length: MAX_MARKS }, (_, i) => `${MARK_PREFIX}${i}`);

export function markName(slot: number): string {
  return NAMES[slot] ?? `${MARK_PREFIX}${slot}`;
}

/** The slot of one of our mark names, or -1 for any other name. */
export function markSlot(name: string): number {
  if (!name.startsWith(MARK_PREFIX) || name.length > MARK_PREFIX.length + 4) return -1;
  const digits = name.slice(MARK_PREFIX.length);
  if (!/^(?:0|[1-9]\d*)$/.test(digits)) return -1;
  const slot = Number(digits);
  return slot < MAX_MARKS ? slot : -1;
}

/** The leg's side of `wire`. Each write is false when the ring is full. Allocates only in its constructor. */
export class WireWriter {
  /** Where the leg puts the next media chunk's bytes before `media`. */
  readonly chunk: Uint8Array;
  readonly #ring: FrameRing;
  readonly #words: Int16Array;
  readonly #none = new Int16Array(1);

  constructor(ring: FrameRing) {
    this.#ring = ring;
    // A slot's data area: WIRE_SLOT_WORDS on a Twilio leg's ring, larger on a raw stream leg's (edges.ts).
    this.#words = new Int16Array(ring.maxSamples);
    this.chunk = new Uint8Array(this.#words.buffer);
  }

  /**
   * Sends the first `byteLength` bytes of `chunk` as one media message;
   * `timestamp` and the SPEECH flag travel with it for a
   * leg whose wire format carries them (the raw stream's header).
   */
  media(byteLength: number, sequence: number, timestamp = 0, flags = 0): boolean {
    return this.#ring.writeStamped(this.#words, (byteLength + 1) >> 1, sequence, timestamp, WIRE_RATE_HZ, MEDIA_FLAG | (flags & FrameFlags.SPEECH), 0, byteLength, 0);
  }

  mark(slot: number): boolean {
    return this.#ring.writeStamped(this.#none, 0, slot, 0, 0, MARK_FLAG, 0, 0, 0);
  }

  clear(): boolean {
    return this.#ring.writeStamped(this.#none, 0, 0, 0, 0, FrameFlags.CLEAR, 0, 0, 0);
  }

  /** Free slots (a snapshot). */
  space(): number {
    return this.#ring.space();
  }
}

/** The main thread's side of `wire`. Allocates only in its constructor. */
export class WireReader {
  /** The last media message's µ-law bytes, in its first `byteLength` bytes. */
  readonly bytes: Uint8Array;
  byteLength = 0;
  /** The last mark's slot. */
  markSlot = 0;
  /** The last media message's sequence, timestamp and SPEECH flag (as WireWriter.media took them). */
  sequence = 0;
  timestamp = 0;
  flags = 0;
  readonly #ring: FrameRing;
  readonly #words: Int16Array;
  readonly #meta = new FrameMeta();

  constructor(ring: FrameRing) {
    this.#ring = ring;
    this.#words = new Int16Array(ring.maxSamples);
    this.bytes = new Uint8Array(this.#words.buffer);
  }

  /** Messages waiting (a snapshot). */
  available(): number {
    return this.#ring.available();
  }

  /** Takes the oldest message: a `WireMessage` (NONE when the ring is empty, counted as an underflow). */
  read(): number {
    const meta = this.#meta;
    if (!this.#ring.readStamped(this.#words, meta)) return WireMessage.NONE;
    if ((meta.flags & FrameFlags.CLEAR) !== 0) return WireMessage.CLEAR;
    if ((meta.flags & MARK_FLAG) !== 0) {
      this.markSlot = meta.sequence;
      return WireMessage.MARK;
    }
    // Only the words that fit here were copied: never more bytes than those.
    const copied = Math.min(2 * meta.sampleCount, this.bytes.length);
    this.byteLength = Math.min(meta.byteLength, copied);
    this.sequence = meta.sequence;
    this.timestamp = meta.timestamp;
    this.flags = meta.flags & FrameFlags.SPEECH;
    return WireMessage.MEDIA;
  }
}

/** The main thread's side of `echo`. Each write is false when the ring is full. */
export class EchoWriter {
  readonly #ring: FrameRing;
  readonly #none = new Int16Array(1);

  constructor(ring: FrameRing) {
    this.#ring = ring;
  }

  /** Mark `slot` came back from Twilio. */
  mark(slot: number): boolean {
    return this.#ring.write(this.#none, 0, slot, 0, 0, 0);
  }

  /** The `clear` went out on the socket, `sinceEchoMs` after the newest mark echo came (NaN: none has). */
  fence(sinceEchoMs = Number.NaN): boolean {
    const us = sinceEchoMs >= 0 ? Math.min(Math.round(sinceEchoMs * 1000), NO_ECHO - 1) : NO_ECHO;
    return this.#ring.write(this.#none, 0, us, 0, 0, FrameFlags.CLEAR);
  }
}

/** The leg's side of `echo`. */
export class EchoReader {
  /** The last mark echo's slot. */
  slot = 0;
  /** At the last fence: ms between the newest mark echo and the clear (NaN when none had come). */
  sinceEchoMs = Number.NaN;
  readonly #ring: FrameRing;
  readonly #none = new Int16Array(1);
  readonly #meta = new FrameMeta();

  constructor(ring: FrameRing) {
    this.#ring = ring;
  }

  /** Takes the oldest echo: an `EchoMessage` (NONE when the ring is empty, counted as an underflow). */
  read(): number {
    const meta = this.#meta;
    if (!this.#ring.read(this.#none, meta)) return EchoMessage.NONE;
    if ((meta.flags & FrameFlags.CLEAR) !== 0) {
      this.sinceEchoMs = meta.sequence === NO_ECHO ? Number.NaN : meta.sequence / 1000;
      return EchoMessage.FENCE;
    }
    this.slot = meta.sequence;
    return EchoMessage.MARK;
  }
}
