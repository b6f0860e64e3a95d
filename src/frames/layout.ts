/**
 * The memory layout of a frame ring's SharedArrayBuffer. Every offset lives
 * here and nowhere else; `FrameRing` allocates a buffer of
 * `ringByteLength(slots, maxSamples)` bytes and lays it out as follows.
 *
 * ```
 *  byte   0 ┌──────────────────────────────────────────────────────────────┐
 *           │ MAGIC 'SBFR' │ VERSION │ SLOT_COUNT │ MAX_SAMPLES │ SLOT_BYTES │  set once by create(),
 *           │ (reserved to byte 63)                                        │  read-only afterwards
 *  byte  64 ├──────────────────────────────────────────────────────────────┤
 *           │ WRITE_INDEX │ OVERFLOWS │ OVERSIZE   (reserved to byte 127)   │  producer writes
 *  byte 128 ├──────────────────────────────────────────────────────────────┤
 *           │ READ_INDEX │ UNDERFLOWS            (reserved to byte 191)    │  consumer writes
 *  byte 192 ├──────────────────────────────────────────────────────────────┤
 *           │ CONSUMER_WAITING │ PRODUCER_WAITING  (reserved to byte 255)  │  written only around a
 *  byte 256 ├──────────────────────────────────────────────────────────────┤  blocking wait
 *           │ slot 0: SEQUENCE │ TIMESTAMP │ RATE_HZ │ SAMPLE_COUNT │ FLAGS │
 *           │         ARRIVAL_MS │ BYTE_LENGTH │ SOURCE   (32 bytes)        │
 *           │         int16 × maxSamples, padded to a multiple of 64       │
 *           ├──────────────────────────────────────────────────────────────┤
 *           │ slot 1 …  slot SLOT_COUNT−1  (each SLOT_BYTES long)          │
 *           └──────────────────────────────────────────────────────────────┘
 * ```
 *
 * Why the cache lines: the producer stores WRITE_INDEX every frame and the
 * consumer stores READ_INDEX every frame. Were they on one 64-byte line, each
 * store would steal the line from the other core (false sharing) and both
 * sides would stall on every frame. The waiting flags are read on every frame
 * but written only when a side is about to sleep, so their line stays shared
 * in both caches and reading it costs nothing. Slots start on a line and are a
 * whole number of lines long, so a slot the producer is filling never shares a
 * line with one the consumer is reading.
 *
 * A slot's data area holds PCM samples, or bytes (a packet, a µ-law chunk)
 * packed two to an int16 in memory order. Each header word has one meaning on
 * every ring; a ring whose slots have nothing for a word stores 0 there:
 *
 * | word         | holds                                                             |
 * |--------------|-------------------------------------------------------------------|
 * | SEQUENCE     | the producer's number for the slot's content (a frame, a packet,  |
 * |              | a mark), wrapping as the producer's counter does                  |
 * | TIMESTAMP    | the media clock of the first sample (RTP-style), wrapping at 2^32 |
 * | RATE_HZ      | the sample rate of the audio in the data area                     |
 * | SAMPLE_COUNT | int16 words of the data area in use: samples, or ⌈bytes / 2⌉      |
 * | FLAGS        | `FrameFlags` bits, and bits a ring's contract defines above them  |
 * | ARRIVAL_MS   | when the content reached this process: epoch ms mod 2^32          |
 * |              | (epochClock.ts)                                                   |
 * | BYTE_LENGTH  | bytes of content packed in the data area                          |
 * | SOURCE       | the stream the content came from (an RTP SSRC)                    |
 *
 * ARRIVAL_MS, BYTE_LENGTH and SOURCE are the stamp words: only the rings whose
 * contracts use them write and read them (FrameRing's `writeStamped` and
 * `readStamped`: PacketRing.ts, wireRing.ts), so PCM frames cost nothing more.
 *
 * All words are little-endian u32 (the platform order of the typed views).
 * WRITE_INDEX and READ_INDEX are free-running counters that wrap at 2^32; a
 * frame's slot is `index & (SLOT_COUNT − 1)`, which stays continuous across the
 * wrap only because SLOT_COUNT is a power of two.
 */

/** 'SBFR' (Switchboard frame ring) as a little-endian u32. */
export const RING_MAGIC = 0x52464253;
/** Bumped whenever anything in this file changes the bytes another thread sees. */
export const RING_VERSION = 2;

export const CACHE_LINE_BYTES = 64;
const WORDS_PER_LINE = CACHE_LINE_BYTES / 4;

/** Indices of the control words in a `Int32Array` over the whole buffer. */
export const Ctl = {
  MAGIC: 0,
  VERSION: 1,
  SLOT_COUNT: 2,
  MAX_SAMPLES: 3,
  /** The slot stride in bytes, so a reader built with another header size refuses the buffer. */
  SLOT_BYTES: 4,

  WRITE_INDEX: 1 * WORDS_PER_LINE,
  /** Frames refused because the ring was full. */
  OVERFLOWS: 1 * WORDS_PER_LINE + 1,
  /** Frames refused because their sample count did not fit a slot or their source array. */
  OVERSIZE: 1 * WORDS_PER_LINE + 2,

  READ_INDEX: 2 * WORDS_PER_LINE,
  /** Reads that found the ring empty. */
  UNDERFLOWS: 2 * WORDS_PER_LINE + 1,

  /** Non-zero while the consumer sleeps (or is about to) on WRITE_INDEX. */
  CONSUMER_WAITING: 3 * WORDS_PER_LINE,
  /** Non-zero while the producer sleeps (or is about to) on READ_INDEX. */
  PRODUCER_WAITING: 3 * WORDS_PER_LINE + 1,
} as const;

export const CONTROL_BYTES = 4 * CACHE_LINE_BYTES;

/** Word offsets of a slot's header fields, relative to the slot's first word. */
export const Slot = {
  SEQUENCE: 0,
  TIMESTAMP: 1,
  RATE_HZ: 2,
  SAMPLE_COUNT: 3,
  FLAGS: 4,
  ARRIVAL_MS: 5,
  BYTE_LENGTH: 6,
  SOURCE: 7,
} as const;

/** Eight words: the PCM that follows is 32-byte aligned. */
export const SLOT_HEADER_BYTES = 32;

/** 20 ms at 48 kHz, the largest frame the engine moves by default. */
export const DEFAULT_MAX_SAMPLES = 960;
/** 120 ms at 48 kHz, the longest Opus frame. */
export const MAX_MAX_SAMPLES = 5760;
export const MIN_SLOTS = 2;
export const MAX_SLOTS = 1 << 16;

/**
 * What a frame's flags word means. Bits combine: a concealed frame of comfort
 * noise is `CONCEALED | COMFORT_NOISE`.
 */
export const FrameFlags = {
  /** The voice activity detector (or the source) says this frame holds speech. */
  SPEECH: 1 << 0,
  /** Synthesised by packet-loss concealment, not received. */
  CONCEALED: 1 << 1,
  /** Digital silence inserted where there was no audio at all. */
  SILENCE: 1 << 2,
  /** Comfort noise (RFC 3389 or a codec's DTX) rather than the talker's audio. */
  COMFORT_NOISE: 1 << 3,
  /** The first frame after a gap or a source change (RTP marker bit, SSRC change). */
  DISCONTINUITY: 1 << 4,
  /** The last frame of its stream; nothing follows on this edge. */
  END_OF_STREAM: 1 << 5,
  /**
   * The producer was interrupted (barge-in): the consumer drops what it holds
   * of this stream (queued audio, audio already handed to the network where
   * the network can take it back, as Twilio's `clear`). A CLEAR frame carries
   * no samples; the frames after it are the new audio.
   */
  CLEAR: 1 << 6,
} as const;

/** Bytes from one slot to the next: header plus PCM, rounded up to whole cache lines. */
export function slotBytes(maxSamples: number): number {
  const raw = SLOT_HEADER_BYTES + maxSamples * Int16Array.BYTES_PER_ELEMENT;
  return Math.ceil(raw / CACHE_LINE_BYTES) * CACHE_LINE_BYTES;
}

/** Byte offset of slot `slot`'s header. */
export function slotByteOffset(slot: number, maxSamples: number): number {
  return CONTROL_BYTES + slot * slotBytes(maxSamples);
}

/** Byte offset of slot `slot`'s first PCM sample. */
export function slotPcmByteOffset(slot: number, maxSamples: number): number {
  return slotByteOffset(slot, maxSamples) + SLOT_HEADER_BYTES;
}

/** Size of the whole buffer for a ring of `slots` slots of `maxSamples` samples. */
export function ringByteLength(slots: number, maxSamples: number): number {
  return CONTROL_BYTES + slots * slotBytes(maxSamples);
}

/** A description of what is wrong with a ring's geometry, or undefined when it is valid. */
export function geometryError(slots: number, maxSamples: number): string | undefined {
  if (!Number.isInteger(slots) || slots < MIN_SLOTS || slots > MAX_SLOTS || (slots & (slots - 1)) !== 0) {
    return `slots must be a power of two in [${MIN_SLOTS}, ${MAX_SLOTS}] [slots:${slots}]`;
  }
  if (!Number.isInteger(maxSamples) || maxSamples < 1 || maxSamples > MAX_MAX_SAMPLES) {
    return `maxSamples must be an integer in [1, ${MAX_MAX_SAMPLES}] [maxSamples:${maxSamples}]`;
  }
  return undefined;
}
