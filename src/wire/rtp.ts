/**
 * RTP fixed header, CSRC list, header extension and padding.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  (X = 1)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            payload  ...   | padding | count   |  (P = 1)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * The extension length counts 32-bit words after its 4-byte header; the
 * last padding octet counts the padding octets, itself included.
 * @see RFC 3550 §5.1 (fixed header), §5.3.1 (header extension).
 *
 * The per-packet path is {@link parseRtpInto} and {@link serializeRtpInto}:
 * they fill or read a reusable {@link RtpPacketView} that points into the
 * caller's buffer, allocate nothing, and return a code instead of throwing.
 */

import { randomFillSync } from 'node:crypto';

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;
export const RTP_MAX_CSRC = 15;

/** Result codes of {@link parseRtpInto}; 0 is success. */
export const RtpParse = {
  OK: 0,
  TOO_SHORT: 1,
  BAD_VERSION: 2,
  CSRC_PAST_END: 3,
  EXTENSION_PAST_END: 4,
  BAD_PADDING: 5,
} as const;
export type RtpParseCode = (typeof RtpParse)[keyof typeof RtpParse];

const CODE_NAMES = ['ok', 'too short', 'bad version', 'CSRC list past the end', 'extension past the end', 'bad padding'];

/** A short name for a result code, for logs and metric labels. */
export function rtpParseCodeName(code: number): string {
  return CODE_NAMES[code] ?? 'unknown';
}

/**
 * One parsed packet: header fields plus offsets into the buffer it was
 * parsed from (nothing is copied). Reuse one per receive loop.
 */
export class RtpPacketView {
  padding = false;
  extension = false;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  csrcCount = 0;
  readonly csrc = new Uint32Array(RTP_MAX_CSRC);
  /** The 16-bit "defined by profile" field (0xBEDE: RFC 8285 one-byte form). */
  extensionProfile = 0;
  /** Offset and byte length of the extension data after its 4-byte header. */
  extensionOffset = 0;
  extensionLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /** Padding octets at the end, the count octet included (0 without P). */
  paddingLength = 0;

  /** Resets to an empty header, for building a packet to send. */
  clear(): void {
    this.padding = this.extension = this.marker = false;
    this.payloadType = this.sequenceNumber = this.timestamp = this.ssrc = this.csrcCount = 0;
    this.extensionProfile = this.extensionOffset = this.extensionLength = 0;
    this.payloadOffset = this.payloadLength = this.paddingLength = 0;
  }
}

/**
 * Parses `buf[0, len)` into `view`. Never throws, never allocates; returns
 * {@link RtpParse.OK} or the reason the packet is malformed (the view is then
 * partly filled and must not be used).
 * @see RFC 3550 §5.1, §5.3.1; validity checks from RFC 3550 A.1.
 */
export function parseRtpInto(buf: Uint8Array, len: number, view: RtpPacketView): RtpParseCode {
  if (len < RTP_HEADER_BYTES || len > buf.length) return RtpParse.TOO_SHORT;
  const b0 = buf[0]!;
  if (b0 >>> 6 !== RTP_VERSION) return RtpParse.BAD_VERSION;
  const cc = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + 4 * cc;
  if (offset > len) return RtpParse.CSRC_PAST_END;
  const b1 = buf[1]!;
  view.padding = (b0 & 0x20) !== 0;
  view.extension = (b0 & 0x10) !== 0;
  view.marker = (b1 & 0x80) !== 0;
  view.payloadType = b1 & 0x7f;
  view.sequenceNumber = (buf[2]! << 8) | buf[3]!;
  view.timestamp = readU32(buf, 4);
  view.ssrc = readU32(buf, 8);
  view.csrcCount = cc;
  for (let i = 0; i < cc; i++) view.csrc[i] = readU32(buf, RTP_HEADER_BYTES + 4 * i);
  if (view.extension) {
    if (offset + 4 > len) return RtpParse.EXTENSION_PAST_END;
    view.extensionProfile = (buf[offset]! << 8) | buf[offset + 1]!;
    const bytes = 4 * ((buf[offset + 2]! << 8) | buf[offset + 3]!);
    offset += 4;
    if (offset + bytes > len) return RtpParse.EXTENSION_PAST_END;
    view.extensionOffset = offset;
    view.extensionLength = bytes;
    offset += bytes;
  } else {
    view.extensionProfile = view.extensionOffset = view.extensionLength = 0;
  }
  let padding = 0;
  if (view.padding) {
    padding = buf[len - 1]!;
    if (padding === 0 || padding > len - offset) return RtpParse.BAD_PADDING;
  }
  view.paddingLength = padding;
  view.payloadOffset = offset;
  view.payloadLength = len - offset - padding;
  return RtpParse.OK;
}

/** Bytes {@link serializeRtpInto} writes for `view`. */
export function rtpSerializedLength(view: RtpPacketView): number {
  return (
    RTP_HEADER_BYTES +
    4 * view.csrcCount +
    (view.extension ? 4 + view.extensionLength : 0) +
    view.payloadLength +
    (view.padding ? view.paddingLength : 0)
  );
}

/**
 * Writes the packet `view` describes into `out`, taking the extension data
 * and payload from `src` at the view's offsets (typically the buffer it was
 * parsed from). Padding octets are written as zeros with the count last.
 * Returns the byte count, or -1 when `out` is too small or the view is not
 * serializable (extension length not a multiple of 4, padding of 0 or above
 * 255 with P set, more than 15 CSRCs). Never throws, never allocates.
 */
export function serializeRtpInto(view: RtpPacketView, src: Uint8Array, out: Uint8Array): number {
  const cc = view.csrcCount;
  const pad = view.padding ? view.paddingLength : 0;
  if (cc > RTP_MAX_CSRC || (view.extension && (view.extensionLength & 3) !== 0)) return -1;
  if (view.padding && (pad < 1 || pad > 255)) return -1;
  const total = rtpSerializedLength(view);
  if (total > out.length) return -1;
  if (view.payloadOffset + view.payloadLength > src.length) return -1;
  if (view.extension && view.extensionOffset + view.extensionLength > src.length) return -1;
  out[0] = (RTP_VERSION << 6) | (view.padding ? 0x20 : 0) | (view.extension ? 0x10 : 0) | cc;
  out[1] = (view.marker ? 0x80 : 0) | (view.payloadType & 0x7f);
  out[2] = (view.sequenceNumber >>> 8) & 0xff;
  out[3] = view.sequenceNumber & 0xff;
  writeU32(out, 4, view.timestamp);
  writeU32(out, 8, view.ssrc);
  let offset = RTP_HEADER_BYTES;
  for (let i = 0; i < cc; i++, offset += 4) writeU32(out, offset, view.csrc[i]!);
  if (view.extension) {
    out[offset] = (view.extensionProfile >>> 8) & 0xff;
    out[offset + 1] = view.extensionProfile & 0xff;
    const words = view.extensionLength >>> 2;
    out[offset + 2] = (words >>> 8) & 0xff;
    out[offset + 3] = words & 0xff;
    offset += 4;
    copyBytes(src, view.extensionOffset, out, offset, view.extensionLength);
    offset += view.extensionLength;
  }
  copyBytes(src, view.payloadOffset, out, offset, view.payloadLength);
  offset += view.payloadLength;
  if (pad > 0) {
    out.fill(0, offset, offset + pad - 1);
    out[offset + pad - 1] = pad;
    offset += pad;
  }
  return offset;
}

/**
 * RFC 5761 §4 demultiplexing of RTP and RTCP on one port: a second octet of
 * 192–223 (payload type 64–95 with the marker bit) is RTCP, which keeps the
 * RTCP packet types 200–204 apart from any RTP payload type in use.
 */
export function isRtcp(buf: Uint8Array, len = buf.length): boolean {
  if (len < 2) return false;
  const b1 = buf[1]!;
  return b1 >= 192 && b1 <= 223;
}

/**
 * A random SSRC, first sequence number and first timestamp for a new stream:
 * RFC 3550 §5.1 wants the initial values unpredictable (it makes known-
 * plaintext attacks on encrypted streams harder) and §8.1 wants SSRCs that
 * do not collide. Allocates; called once per stream.
 */
export interface RtpStart {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
}

export function randomRtpStart(): RtpStart {
  const r = randomFillSync(new Uint32Array(3));
  return { ssrc: r[0]!, sequenceNumber: r[1]! & 0xffff, timestamp: r[2]! };
}

/** A packet as plain data, for tools and tests (allocates; not the per-packet path). */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrc: number[];
  /** Present when X is set: the profile field and the raw extension data (a multiple of 4 bytes). */
  headerExtension?: { profile: number; data: Uint8Array };
  payload: Uint8Array;
  /** Padding octets to append, the count octet included; 0 for none. */
  paddingLength: number;
}

/** Parses a packet into a new {@link RtpPacket}; throws a RangeError naming the byte counts. */
export function parseRtp(buf: Uint8Array): RtpPacket {
  const view = new RtpPacketView();
  const code = parseRtpInto(buf, buf.length, view);
  if (code !== RtpParse.OK) throw new RangeError(describeRtpError(buf, code));
  return {
    marker: view.marker,
    payloadType: view.payloadType,
    sequenceNumber: view.sequenceNumber,
    timestamp: view.timestamp,
    ssrc: view.ssrc,
    csrc: Array.from(view.csrc.subarray(0, view.csrcCount)),
    ...(view.extension && {
      headerExtension: {
        profile: view.extensionProfile,
        data: buf.slice(view.extensionOffset, view.extensionOffset + view.extensionLength),
      },
    }),
    payload: buf.slice(view.payloadOffset, view.payloadOffset + view.payloadLength),
    paddingLength: view.paddingLength,
  };
}

/** Serializes an {@link RtpPacket} into a new buffer; throws a RangeError when it cannot be. */
export function serializeRtp(packet: RtpPacket): Uint8Array {
  const ext = packet.headerExtension;
  const extBytes = ext?.data.length ?? 0;
  const src = new Uint8Array(extBytes + packet.payload.length);
  if (ext) src.set(ext.data, 0);
  src.set(packet.payload, extBytes);
  const view = new RtpPacketView();
  view.marker = packet.marker;
  view.payloadType = packet.payloadType;
  view.sequenceNumber = packet.sequenceNumber;
  view.timestamp = packet.timestamp;
  view.ssrc = packet.ssrc;
  if (packet.csrc.length > RTP_MAX_CSRC) {
    throw new RangeError(`too many CSRCs [count:${packet.csrc.length}, max:${RTP_MAX_CSRC}]`);
  }
  view.csrcCount = packet.csrc.length;
  view.csrc.set(packet.csrc);
  if (ext) {
    if ((extBytes & 3) !== 0) throw new RangeError(`extension data not a multiple of 4 bytes [length:${extBytes}]`);
    view.extension = true;
    view.extensionProfile = ext.profile;
    view.extensionOffset = 0;
    view.extensionLength = extBytes;
  }
  view.payloadOffset = extBytes;
  view.payloadLength = packet.payload.length;
  if (packet.paddingLength > 0) {
    if (packet.paddingLength > 255) throw new RangeError(`padding too long [length:${packet.paddingLength}, max:255]`);
    view.padding = true;
    view.paddingLength = packet.paddingLength;
  }
  const out = new Uint8Array(rtpSerializedLength(view));
  serializeRtpInto(view, src, out);
  return out;
}

/** The message a malformed packet's RangeError carries, with the byte counts. */
export function describeRtpError(buf: Uint8Array, code: number, len = buf.length): string {
  switch (code) {
    case RtpParse.TOO_SHORT:
      return `RTP packet too short [length:${len}, minimum:${RTP_HEADER_BYTES}]`;
    case RtpParse.BAD_VERSION:
      return `RTP version is not 2 [version:${buf[0]! >>> 6}, length:${len}]`;
    case RtpParse.CSRC_PAST_END: {
      const cc = buf[0]! & 0x0f;
      return `CSRC list past the end [csrcCount:${cc}, needed:${RTP_HEADER_BYTES + 4 * cc}, length:${len}]`;
    }
    case RtpParse.EXTENSION_PAST_END: {
      const start = RTP_HEADER_BYTES + 4 * (buf[0]! & 0x0f);
      const needed = start + 4 > len ? start + 4 : start + 4 + 4 * ((buf[start + 2]! << 8) | buf[start + 3]!);
      return `header extension past the end [offset:${start}, needed:${needed}, length:${len}]`;
    }
    case RtpParse.BAD_PADDING:
      return `padding length invalid [padding:${buf[len - 1]}, available:${len - rtpHeaderEnd(buf, len)}, length:${len}]`;
    default:
      return `RTP packet malformed [code:${code}, length:${len}]`;
  }
}

function rtpHeaderEnd(buf: Uint8Array, len: number): number {
  let offset = RTP_HEADER_BYTES + 4 * (buf[0]! & 0x0f);
  if (buf[0]! & 0x10 && offset + 4 <= len) offset += 4 + 4 * ((buf[offset + 2]! << 8) | buf[offset + 3]!);
  return offset;
}

export function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/** Byte copy without `subarray` (which would allocate a view per packet). */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (src === dst) {
    dst.copyWithin(to, from, from + n);
    return;
  }
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}
