import { FrameMeta } from './FrameMeta.ts';
import type { FrameRing } from './FrameRing.ts';
import { arrivalFromStamp, arrivalStamp, epochMs } from './epochClock.ts';

/**
 * The packet ring: RTP payloads from a leg (an RTP session on a network
 * worker, or a Twilio Media Stream's socket on the main thread) to the jitter
 * actor of its stream, one packet per slot. `PacketWriter` is the leg's side,
 * `PacketReader` the jitter actor's; the slot words (layout.ts) hold:
 *
 * | slot word    | holds                                                            |
 * |--------------|------------------------------------------------------------------|
 * | SEQUENCE     | RTP sequence number (16 bits)                                    |
 * | TIMESTAMP    | RTP timestamp                                                    |
 * | RATE_HZ      | 0: a payload, not samples (its clock is the codec's)             |
 * | SAMPLE_COUNT | ⌈BYTE_LENGTH / 2⌉                                                |
 * | FLAGS        | bit 8: RTP marker; bit 9: a continuation; bits 16–23: PACKET_CODEC_NUMBER, 0 = unstated; bits 24–27: the packet's slot count |
 * | ARRIVAL_MS   | when the leg received the packet (epochClock.ts)                 |
 * | BYTE_LENGTH  | payload length, 1–MAX_PAYLOAD_BYTES                              |
 * | SOURCE       | RTP SSRC                                                         |
 *
 * The payload bytes are packed into the slot's data area in memory order
 * (slot byte k = payload byte k). A slot holds PACKET_SLOT_BYTES: a 20 ms
 * G.711, G.722 or Opus packet at speech rates fits one; a larger packet (up
 * to an MTU: RFC 3551 §4.2 has receivers take up to 200 ms per packet) takes
 * consecutive slots, the first with the header above and its slot count,
 * the rest flagged as continuations. The writer puts all of a packet's slots
 * in or none; the reader takes a packet only once all of them are there.
 * Small slots keep a call's ring (64 packets, 1.28 s of 20 ms packets) at
 * 24 KB rather than 96 KB of 1500-byte slots, and resident memory with it.
 * Arrival time travels with the packet,
 * stamped by the leg on receipt, so the jitter buffer's delay estimate sees
 * network jitter rather than the actor's 20 ms tick.
 */

/** Largest payload a packet slot holds: an Ethernet MTU. */
export const MAX_PAYLOAD_BYTES = 1500;
/** Payload bytes one slot holds: 40 ms of G.711, 20 ms of L16 at 8 kHz. */
export const PACKET_SLOT_BYTES = 320;
/** The int16 words of a packet ring slot's data area. */
export const PACKET_SLOT_WORDS = PACKET_SLOT_BYTES / 2;
/** Slots the largest packet takes. */
export const MAX_PACKET_SLOTS = Math.ceil(MAX_PAYLOAD_BYTES / PACKET_SLOT_BYTES);

export const PACKET_FLAG_MARKER = 1 << 8;
/** A slot that carries the rest of the packet begun in the slot before it. */
export const PACKET_FLAG_CONTINUATION = 1 << 9;
export const PACKET_CODEC_SHIFT = 16;
const SLOTS_SHIFT = 24;

/** Codec numbers in a packet slot's flags: the raw stream protocol's (DESIGN). */
export const PACKET_CODEC_NUMBER = { opus: 1, PCMU: 2, PCMA: 3, G722: 4, L16: 5 } as const;
export type PacketCodec = keyof typeof PACKET_CODEC_NUMBER;

/** The leg's side of a packet ring. Allocates only in its constructor. */
export class PacketWriter {
  readonly #ring: FrameRing;
  readonly #slotWords: number;
  readonly #words: Int16Array;
  readonly #bytes: Uint8Array;
  /** The staging words of each slot of a packet. */
  readonly #parts: Int16Array[] = [];
  readonly #codecBits: number;

  constructor(ring: FrameRing, codec: PacketCodec) {
    this.#ring = ring;
    this.#slotWords = ring.maxSamples;
    const slots = Math.ceil(MAX_PAYLOAD_BYTES / (2 * ring.maxSamples));
    this.#words = new Int16Array(slots * ring.maxSamples);
    this.#bytes = new Uint8Array(this.#words.buffer);
    for (let k = 0; k < slots; k++) this.#parts.push(this.#words.subarray(k * ring.maxSamples, (k + 1) * ring.maxSamples));
    this.#codecBits = PACKET_CODEC_NUMBER[codec] << PACKET_CODEC_SHIFT;
  }

  /** False when the ring has no room for the whole packet, or the payload is empty or larger than MAX_PAYLOAD_BYTES. */
  write(seq: number, rtpTimestamp: number, payload: Uint8Array, length: number, marker: boolean, ssrc: number, arrivalMs = epochMs()): boolean {
    if (!(length > 0 && length <= MAX_PAYLOAD_BYTES && length <= payload.length)) return false;
    const words = (length + 1) >> 1;
    const slots = Math.ceil(words / this.#slotWords);
    const ring = this.#ring;
    // All or nothing: one producer, so room seen now only grows until the last slot is written.
    if (slots > 1 && ring.space() < slots) return ring.refuse();
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) bytes[i] = payload[i]!;
    const flags = this.#codecBits | (marker ? PACKET_FLAG_MARKER : 0) | (slots << SLOTS_SHIFT);
    const arrival = arrivalStamp(arrivalMs);
    let left = words;
    for (let k = 0; k < slots; k++) {
      const n = left < this.#slotWords ? left : this.#slotWords;
      const f = k === 0 ? flags : flags | PACKET_FLAG_CONTINUATION;
      if (!ring.writeStamped(this.#parts[k]!, n, seq & 0xffff, rtpTimestamp >>> 0, 0, f, arrival, length, ssrc >>> 0)) return false;
      left -= n;
    }
    return true;
  }
}

/**
 * The jitter actor's side of a packet ring: `read` takes the oldest packet
 * and leaves its fields here, and its payload in the first `byteLength`
 * bytes of `bytes`, until the next read. Allocates only in its constructor.
 */
export class PacketReader {
  /** The last packet's payload, in its first `byteLength` bytes. */
  readonly bytes: Uint8Array;
  byteLength = 0;
  /** RTP sequence number, 16 bits. */
  sequence = 0;
  rtpTimestamp = 0;
  ssrc = 0;
  marker = false;
  /** PACKET_CODEC_NUMBER of the payload; 0 when the leg did not say. */
  codec = 0;
  /** Epoch milliseconds when the leg received it. */
  arrivalMs = 0;
  /** Continuation slots found where a packet should begin (a writer out of step), skipped. */
  strays = 0;
  readonly #ring: FrameRing;
  readonly #words: Int16Array;
  readonly #parts: Int16Array[] = [];
  readonly #meta = new FrameMeta();
  /** A packet's first slot header, kept while its other slots are read into `#meta`. */
  readonly #first = new FrameMeta();

  constructor(ring: FrameRing) {
    this.#ring = ring;
    const slots = Math.ceil(MAX_PAYLOAD_BYTES / (2 * ring.maxSamples));
    this.#words = new Int16Array(slots * ring.maxSamples);
    for (let k = 0; k < slots; k++) this.#parts.push(this.#words.subarray(k * ring.maxSamples));
    this.bytes = new Uint8Array(this.#words.buffer);
  }

  /**
   * Takes the oldest packet; false when the ring is empty (the ring counts an
   * underflow). `nowMs` is this thread's `epochMs()`, against which the
   * arrival stamp is unwrapped.
   */
  read(nowMs: number): boolean {
    const meta = this.#meta;
    const ring = this.#ring;
    for (;;) {
      if (!ring.peek(meta)) return false;
      // Never the start of a packet: a writer out of step (or a foreign writer); skipped, counted.
      const stray = (meta.flags & PACKET_FLAG_CONTINUATION) !== 0 || ((meta.flags >>> SLOTS_SHIFT) & 0xf) > this.#parts.length;
      if (!stray) break;
      ring.read(this.#words, meta);
      this.strays++;
    }
    const slots = (meta.flags >>> SLOTS_SHIFT) & 0xf || 1;
    // The rest of the packet is not published yet: it is taken next time, whole.
    if (slots > ring.available()) return false;
    ring.readStamped(slots === 1 ? this.#words : this.#parts[0]!, meta);
    let words = meta.sampleCount;
    if (slots === 1) {
      this.#fill(meta, words, nowMs);
      return true;
    }
    const first = this.#first;
    first.sequence = meta.sequence;
    first.timestamp = meta.timestamp;
    first.flags = meta.flags;
    first.arrivalMs = meta.arrivalMs;
    first.byteLength = meta.byteLength;
    first.source = meta.source;
    for (let k = 1; k < slots; k++) {
      ring.read(this.#parts[k]!, meta);
      words += meta.sampleCount;
    }
    this.#fill(first, words, nowMs);
    return true;
  }

  #fill(meta: FrameMeta, words: number, nowMs: number): void {
    this.sequence = meta.sequence & 0xffff;
    this.rtpTimestamp = meta.timestamp;
    this.ssrc = meta.source;
    this.marker = (meta.flags & PACKET_FLAG_MARKER) !== 0;
    this.codec = (meta.flags >>> PACKET_CODEC_SHIFT) & 0xff;
    this.arrivalMs = arrivalFromStamp(meta.arrivalMs, nowMs);
    // Only the words the slots said they used were copied: never more bytes than those.
    const copied = 2 * words;
    this.byteLength = meta.byteLength < copied ? meta.byteLength : copied;
  }
}
