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
 * | FLAGS        | bit 8: RTP marker; bits 16–23: PACKET_CODEC_NUMBER, 0 = unstated |
 * | ARRIVAL_MS   | when the leg received the packet (epochClock.ts)                 |
 * | BYTE_LENGTH  | payload length, 1–MAX_PAYLOAD_BYTES                              |
 * | SOURCE       | RTP SSRC                                                         |
 *
 * The payload bytes are packed into the slot's data area in memory order
 * (slot byte k = payload byte k). Arrival time travels with the packet,
 * stamped by the leg on receipt, so the jitter buffer's delay estimate sees
 * network jitter rather than the actor's 20 ms tick.
 */

/** Largest payload a packet slot holds: an Ethernet MTU. */
export const MAX_PAYLOAD_BYTES = 1500;
/** The int16 words of a slot's data area a packet needs at most. */
export const PACKET_SLOT_WORDS = MAX_PAYLOAD_BYTES / 2;

export const PACKET_FLAG_MARKER = 1 << 8;
export const PACKET_CODEC_SHIFT = 16;

/** Codec numbers in a packet slot's flags: the raw stream protocol's (DESIGN). */
export const PACKET_CODEC_NUMBER = { opus: 1, PCMU: 2, PCMA: 3, G722: 4, L16: 5 } as const;
export type PacketCodec = keyof typeof PACKET_CODEC_NUMBER;

/** The leg's side of a packet ring. Allocates only in its constructor. */
export class PacketWriter {
  readonly #ring: FrameRing;
  readonly #words = new Int16Array(PACKET_SLOT_WORDS);
  readonly #bytes = new Uint8Array(this.#words.buffer);
  readonly #codecBits: number;

  constructor(ring: FrameRing, codec: PacketCodec) {
    this.#ring = ring;
    this.#codecBits = PACKET_CODEC_NUMBER[codec] << PACKET_CODEC_SHIFT;
  }

  /** False when the ring is full or the payload is empty or larger than MAX_PAYLOAD_BYTES. */
  write(seq: number, rtpTimestamp: number, payload: Uint8Array, length: number, marker: boolean, ssrc: number, arrivalMs = epochMs()): boolean {
    if (!(length > 0 && length <= MAX_PAYLOAD_BYTES && length <= payload.length)) return false;
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) bytes[i] = payload[i]!;
    const flags = this.#codecBits | (marker ? PACKET_FLAG_MARKER : 0);
    return this.#ring.writeStamped(this.#words, (length + 1) >> 1, seq & 0xffff, rtpTimestamp >>> 0, 0, flags, arrivalStamp(arrivalMs), length, ssrc >>> 0);
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
  readonly #ring: FrameRing;
  readonly #words: Int16Array;
  readonly #meta = new FrameMeta();

  constructor(ring: FrameRing) {
    this.#ring = ring;
    this.#words = new Int16Array(ring.maxSamples);
    this.bytes = new Uint8Array(this.#words.buffer);
  }

  /**
   * Takes the oldest packet; false when the ring is empty (the ring counts an
   * underflow). `nowMs` is this thread's `epochMs()`, against which the
   * arrival stamp is unwrapped.
   */
  read(nowMs: number): boolean {
    const meta = this.#meta;
    if (!this.#ring.readStamped(this.#words, meta)) return false;
    this.sequence = meta.sequence & 0xffff;
    this.rtpTimestamp = meta.timestamp;
    this.ssrc = meta.source;
    this.marker = (meta.flags & PACKET_FLAG_MARKER) !== 0;
    this.codec = (meta.flags >>> PACKET_CODEC_SHIFT) & 0xff;
    this.arrivalMs = arrivalFromStamp(meta.arrivalMs, nowMs);
    // Only the words the slot said it used were copied: never more bytes than those.
    const copied = 2 * meta.sampleCount;
    this.byteLength = meta.byteLength < copied ? meta.byteLength : copied;
    return true;
  }
}
