/**
 * RTCP compound packets: SR, RR, SDES, BYE and APP, other types passed through.
 *
 * Every RTCP packet starts with the same header; `count` is the report count
 * (SR, RR), source count (SDES, BYE) or subtype (APP), and `length` is the
 * packet's size in 32-bit words minus one, header included.
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |  packet type  |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * A compound packet is valid (RFC 3550 A.2) when every packet is version 2,
 * the first is an SR or RR without padding, only the last may be padded, and
 * the lengths add up to the datagram exactly.
 *
 * RTCP arrives a few times a second per call, so parsing builds plain objects;
 * it never throws on the {@link readRtcpCompound} path.
 * @see RFC 3550 §6.4 (SR, RR), §6.5 (SDES), §6.6 (BYE), §6.7 (APP), A.2 (validity).
 */
import { readU32 } from './rtp.ts';
import { writeRtcpPacket, rtcpPacketBytes } from './rtcpWrite.ts';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const SDES_CNAME = 1;
const HEADER_BYTES = 4;
const REPORT_BLOCK_BYTES = 24;
/** NTP timestamp, RTP timestamp, packet and octet counts. */
const SENDER_INFO_BYTES = 20;

/**
 * Report block (§6.4.1), 24 bytes:
 * ```
 * |                 SSRC_n (source identifier)                    |
 * | fraction lost |       cumulative number of packets lost       |
 * |           extended highest sequence number received           |
 * |                      interarrival jitter                      |
 * |                         last SR (LSR)                         |
 * |                   delay since last SR (DLSR)                  |
 * ```
 */
export interface RtcpReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, in 1/256 (A.3). */
  fractionLost: number;
  /** Signed 24-bit: duplicates can make it negative (A.3). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Timestamp units (A.8). */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp, 0 if none. */
  lsr: number;
  /** Delay since that SR in 1/65536 s. */
  dlsr: number;
}

/**
 * Sender report (§6.4.1) after the header:
 * ```
 * |                         SSRC of sender                        |
 * |              NTP timestamp, most significant word             |
 * |             NTP timestamp, least significant word             |
 * |                         RTP timestamp                         |
 * |                     sender's packet count                     |
 * |                      sender's octet count                     |
 * |                 report blocks (24 bytes each) ...             |
 * |                  profile-specific extensions                  |
 * ```
 */
export interface RtcpSenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension bytes after the report blocks, if any. */
  extension?: Uint8Array;
}

/** Receiver report (§6.4.2): the reporter's SSRC, then report blocks and extensions as in the SR. */
export interface RtcpReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: RtcpReportBlock[];
  extension?: Uint8Array;
}

/**
 * Source description (§6.5): per chunk an SSRC, then items of
 * `type(8) length(8) text(length)`, ended by a zero octet and zero padding to
 * the next 32-bit boundary.
 */
export interface RtcpSdes {
  type: 'sdes';
  chunks: Array<{ ssrc: number; items: Array<{ type: number; text: string }> }>;
}

/** Goodbye (§6.6): the SSRCs leaving, then optionally `length(8) reason`. */
export interface RtcpBye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** Application-defined (§6.7): subtype in the count field, SSRC, four ASCII octets of name, data. */
export interface RtcpApp {
  type: 'app';
  subtype: number;
  ssrc: number;
  name: string;
  data: Uint8Array;
}

/** Any other packet type (feedback, XR, …): its header fields and body, kept as they are. */
export interface RtcpOther {
  type: 'other';
  packetType: number;
  count: number;
  body: Uint8Array;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpApp | RtcpOther;

/** Result codes of {@link readRtcpCompound}; 0 is success. */
export const RtcpParse = {
  OK: 0,
  TOO_SHORT: 1,
  BAD_VERSION: 2,
  FIRST_NOT_REPORT: 3,
  LENGTH_PAST_END: 4,
  PADDING_NOT_LAST: 5,
  BAD_PADDING: 6,
  BODY_PAST_END: 7,
  BAD_SDES: 8,
} as const;
export type RtcpParseCode = (typeof RtcpParse)[keyof typeof RtcpParse];

const CODE_NAMES = [
  'ok',
  'too short',
  'bad version',
  'first packet not SR or RR',
  'length past the end',
  'padding not in the last packet',
  'bad padding',
  'body past the end',
  'bad SDES',
];
export function rtcpParseCodeName(code: number): string {
  return CODE_NAMES[code] ?? 'unknown';
}

/** Where the last failure happened, for the throwing wrapper's message. */
const failure = { offset: 0, needed: 0 };
const utf8 = new TextDecoder();

export interface RtcpReadOptions {
  /** Accept compounds not led by SR/RR (RFC 5506 reduced-size RTCP). */
  reducedSize?: boolean;
}

/**
 * Parses the compound packet `buf[0, len)`, appending its packets to `out`.
 * Never throws; returns {@link RtcpParse.OK} or why the datagram is invalid,
 * in which case `out` must be discarded (it may hold the packets before the
 * fault).
 */
export function readRtcpCompound(
  buf: Uint8Array,
  len: number,
  out: RtcpPacket[],
  options: RtcpReadOptions = {},
): RtcpParseCode {
  if (len < HEADER_BYTES || len > buf.length) return fail(0, HEADER_BYTES, RtcpParse.TOO_SHORT);
  let offset = 0;
  while (offset < len) {
    if (offset + HEADER_BYTES > len) return fail(offset, offset + HEADER_BYTES, RtcpParse.TOO_SHORT);
    const b0 = buf[offset]!;
    const packetType = buf[offset + 1]!;
    const size = 4 * (((buf[offset + 2]! << 8) | buf[offset + 3]!) + 1);
    if (b0 >>> 6 !== 2) return fail(offset, 0, RtcpParse.BAD_VERSION);
    const end = offset + size;
    if (end > len) return fail(offset, end, RtcpParse.LENGTH_PAST_END);
    const padded = (b0 & 0x20) !== 0;
    if (offset === 0 && !options.reducedSize && (padded || (packetType !== RTCP_SR && packetType !== RTCP_RR))) {
      return fail(0, 0, RtcpParse.FIRST_NOT_REPORT);
    }
    if (padded && end !== len) return fail(offset, end, RtcpParse.PADDING_NOT_LAST);
    const pad = padded ? buf[end - 1]! : 0;
    if (padded && (pad === 0 || pad > size - HEADER_BYTES)) return fail(offset, pad, RtcpParse.BAD_PADDING);
    const code = readOne(buf, offset, end - pad, b0 & 0x1f, packetType, out);
    if (code !== RtcpParse.OK) return code;
    offset = end;
  }
  return RtcpParse.OK;
}

/** Parses a compound packet; throws a RangeError naming the byte counts when invalid. */
export function parseRtcpCompound(buf: Uint8Array, options: RtcpReadOptions = {}): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  const code = readRtcpCompound(buf, buf.length, out, options);
  if (code !== RtcpParse.OK) {
    throw new RangeError(
      `RTCP compound invalid: ${rtcpParseCodeName(code)} [offset:${failure.offset}, needed:${failure.needed}, length:${buf.length}]`,
    );
  }
  return out;
}

/** Serializes packets as one compound datagram (no padding; SRTCP adds its own trailer). */
export function serializeRtcpCompound(packets: readonly RtcpPacket[]): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + rtcpPacketBytes(p), 0));
  let offset = 0;
  for (const p of packets) offset = writeRtcpPacket(p, out, offset);
  return out;
}

function readOne(
  buf: Uint8Array,
  start: number,
  end: number,
  count: number,
  packetType: number,
  out: RtcpPacket[],
): RtcpParseCode {
  let o = start + HEADER_BYTES;
  switch (packetType) {
    case RTCP_SR:
    case RTCP_RR: {
      const fixed = 4 + (packetType === RTCP_SR ? SENDER_INFO_BYTES : 0);
      const needed = o + fixed + count * REPORT_BLOCK_BYTES;
      if (needed > end) return fail(start, needed, RtcpParse.BODY_PAST_END);
      const ssrc = readU32(buf, o);
      o += 4;
      let sr: RtcpSenderReport | undefined;
      if (packetType === RTCP_SR) {
        sr = {
          type: 'sr',
          ssrc,
          ntpSeconds: readU32(buf, o),
          ntpFraction: readU32(buf, o + 4),
          rtpTimestamp: readU32(buf, o + 8),
          packetCount: readU32(buf, o + 12),
          octetCount: readU32(buf, o + 16),
          reports: [],
        };
        o += SENDER_INFO_BYTES;
      }
      const reports: RtcpReportBlock[] = sr ? sr.reports : [];
      for (let i = 0; i < count; i++, o += REPORT_BLOCK_BYTES) reports.push(readReportBlock(buf, o));
      const packet: RtcpSenderReport | RtcpReceiverReport = sr ?? { type: 'rr', ssrc, reports };
      if (o < end) packet.extension = buf.slice(o, end);
      out.push(packet);
      return RtcpParse.OK;
    }
    case RTCP_SDES: {
      const chunks: RtcpSdes['chunks'] = [];
      for (let c = 0; c < count; c++) {
        if (o + 4 > end) return fail(start, o + 4, RtcpParse.BAD_SDES);
        const chunk = { ssrc: readU32(buf, o), items: [] as Array<{ type: number; text: string }> };
        o += 4;
        for (;;) {
          if (o >= end) return fail(start, o + 1, RtcpParse.BAD_SDES);
          const itemType = buf[o]!;
          if (itemType === 0) {
            o = (o + 4) & ~3; // the null item, then zeros to the 32-bit boundary
            break;
          }
          if (o + 2 > end || o + 2 + buf[o + 1]! > end) return fail(start, o + 2 + (buf[o + 1] ?? 0), RtcpParse.BAD_SDES);
          const n = buf[o + 1]!;
          chunk.items.push({ type: itemType, text: utf8.decode(buf.subarray(o + 2, o + 2 + n)) });
          o += 2 + n;
        }
        if (o > end) return fail(start, o, RtcpParse.BAD_SDES);
        chunks.push(chunk);
      }
      out.push({ type: 'sdes', chunks });
      return RtcpParse.OK;
    }
    case RTCP_BYE: {
      if (o + 4 * count > end) return fail(start, o + 4 * count, RtcpParse.BODY_PAST_END);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++, o += 4) ssrcs.push(readU32(buf, o));
      const bye: RtcpBye = { type: 'bye', ssrcs };
      if (o < end) {
        const n = buf[o]!;
        if (o + 1 + n > end) return fail(start, o + 1 + n, RtcpParse.BODY_PAST_END);
        bye.reason = utf8.decode(buf.subarray(o + 1, o + 1 + n));
      }
      out.push(bye);
      return RtcpParse.OK;
    }
    case RTCP_APP: {
      if (o + 8 > end) return fail(start, o + 8, RtcpParse.BODY_PAST_END);
      const name = String.fromCharCode(buf[o + 4]!, buf[o + 5]!, buf[o + 6]!, buf[o + 7]!);
      out.push({ type: 'app', subtype: count, ssrc: readU32(buf, o), name, data: buf.slice(o + 8, end) });
      return RtcpParse.OK;
    }
    default:
      out.push({ type: 'other', packetType, count, body: buf.slice(o, end) });
      return RtcpParse.OK;
  }
}

function readReportBlock(buf: Uint8Array, o: number): RtcpReportBlock {
  const lost = (buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!;
  return {
    ssrc: readU32(buf, o),
    fractionLost: buf[o + 4]!,
    cumulativeLost: (lost << 8) >> 8, // sign-extend 24 bits
    extendedHighestSeq: readU32(buf, o + 8),
    jitter: readU32(buf, o + 12),
    lsr: readU32(buf, o + 16),
    dlsr: readU32(buf, o + 20),
  };
}

function fail(offset: number, needed: number, code: RtcpParseCode): RtcpParseCode {
  failure.offset = offset;
  failure.needed = needed;
  return code;
}
