/**
 * The raw audio stream's binary frame (DESIGN: "The raw audio stream
 * protocol", `WS /v1/stream`, subprotocol `audio-stream-v1`): an 8-byte
 * big-endian header, then one encoded frame.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    timestamp (ms, wrapping)                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       sequence (wrapping)     |     codec     |  flags  |res|S|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 encoded frame (1–MAX bytes) ...               |
 * ```
 *
 * codec: 1 Opus, 2 µ-law, 3 A-law, 4 G.722, 5 L16 (network byte order, as
 * RFC 3551 §4.5.11); flags bit 0 (S): the frame holds speech. Parsing is a
 * view over the bytes with an error code, never a throw (the shape of
 * rtp.ts): the caller answers each code with a close code.
 */
import { PACKET_CODEC_NUMBER, type PacketCodec } from '../frames/PacketRing.ts';

export const STREAM_HEADER_BYTES = 8;
/** The speech bit of the flags byte. */
export const STREAM_FLAG_SPEECH = 0x01;
/** The largest encoded frame a stream may carry: an Ethernet MTU, what a jitter buffer slot chain holds (PacketRing.ts). */
export const STREAM_MAX_FRAME_BYTES = 1500;

/** Codec numbers on the wire: the packet ring's (PacketRing.ts), which were taken from this protocol. */
export const STREAM_CODEC_NUMBER = PACKET_CODEC_NUMBER;
/** The codec of a wire number, by number. */
const CODEC_OF_NUMBER: ReadonlyArray<PacketCodec | undefined> = (() => {
  const out: Array<PacketCodec | undefined> = [];
  for (const [name, n] of Object.entries(PACKET_CODEC_NUMBER)) out[n] = name as PacketCodec;
  return out;
})();

export function streamCodecOf(number: number): PacketCodec | undefined {
  return CODEC_OF_NUMBER[number];
}

/** Why a binary frame did not parse. */
export const StreamHeaderError = {
  OK: 0,
  /** Fewer than 8 bytes: no header at all. */
  TRUNCATED: 1,
  /** A header and nothing after it. */
  EMPTY_FRAME: 2,
  /** A frame longer than STREAM_MAX_FRAME_BYTES. */
  FRAME_TOO_LARGE: 3,
  /** A codec byte this protocol does not define. */
  UNKNOWN_CODEC: 4,
} as const;
export type StreamHeaderError = (typeof StreamHeaderError)[keyof typeof StreamHeaderError];

/** The fields of one parsed header; reused across frames (nothing allocated per frame). */
export class StreamHeaderView {
  timestampMs = 0;
  sequence = 0;
  codec = 0;
  flags = 0;
  /** Where the encoded frame starts in the message, and how long it is. */
  payloadOffset = STREAM_HEADER_BYTES;
  payloadLength = 0;

  get speech(): boolean {
    return (this.flags & STREAM_FLAG_SPEECH) !== 0;
  }
}

/** Reads the header of `bytes[0..length)` into `view`; StreamHeaderError.OK or why not. */
export function parseStreamHeader(bytes: Uint8Array, length: number, view: StreamHeaderView): StreamHeaderError {
  if (length < STREAM_HEADER_BYTES) return StreamHeaderError.TRUNCATED;
  view.timestampMs = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  view.sequence = (bytes[4]! << 8) | bytes[5]!;
  view.codec = bytes[6]!;
  view.flags = bytes[7]!;
  view.payloadOffset = STREAM_HEADER_BYTES;
  view.payloadLength = length - STREAM_HEADER_BYTES;
  if (CODEC_OF_NUMBER[view.codec] === undefined) return StreamHeaderError.UNKNOWN_CODEC;
  if (view.payloadLength === 0) return StreamHeaderError.EMPTY_FRAME;
  if (view.payloadLength > STREAM_MAX_FRAME_BYTES) return StreamHeaderError.FRAME_TOO_LARGE;
  return StreamHeaderError.OK;
}

/** Writes a header into `out[0..8)`. */
export function writeStreamHeader(out: Uint8Array, timestampMs: number, sequence: number, codec: number, flags: number): void {
  const ts = timestampMs >>> 0;
  out[0] = ts >>> 24;
  out[1] = (ts >>> 16) & 0xff;
  out[2] = (ts >>> 8) & 0xff;
  out[3] = ts & 0xff;
  out[4] = (sequence >>> 8) & 0xff;
  out[5] = sequence & 0xff;
  out[6] = codec & 0xff;
  out[7] = flags & 0xff;
}

/** What the socket is closed with for each error (RFC 6455 §7.4.1): 1007 data not consistent with the type, 1003 a kind of data not accepted, 1009 too big. */
export const STREAM_HEADER_CLOSE: Readonly<Record<Exclude<StreamHeaderError, 0>, number>> = {
  [StreamHeaderError.TRUNCATED]: 1007,
  [StreamHeaderError.EMPTY_FRAME]: 1007,
  [StreamHeaderError.FRAME_TOO_LARGE]: 1009,
  [StreamHeaderError.UNKNOWN_CODEC]: 1003,
};

/** The metric reason of each error. */
export const STREAM_HEADER_REASON: Readonly<Record<Exclude<StreamHeaderError, 0>, string>> = {
  [StreamHeaderError.TRUNCATED]: 'truncated-header',
  [StreamHeaderError.EMPTY_FRAME]: 'empty-frame',
  [StreamHeaderError.FRAME_TOO_LARGE]: 'frame-too-large',
  [StreamHeaderError.UNKNOWN_CODEC]: 'unknown-codec',
};
