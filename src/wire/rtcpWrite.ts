/**
 * Serialization of the RTCP packets {@link ./rtcp.ts} parses; layouts are
 * drawn there. Lengths are rounded up to 32 bits as RFC 3550 §6.4.1 requires.
 */
import type { RtcpPacket, RtcpReportBlock } from './rtcp.ts';
import { writeU32 } from './rtp.ts';

const utf8 = new TextEncoder();
const MAX_COUNT = 31;

export interface ReportCompoundInput {
  ssrc: number;
  cname: string;
  /** Present when we sent RTP since the last report: the compound leads with an SR. */
  sender?: { ntpSeconds: number; ntpFraction: number; rtpTimestamp: number; packetCount: number; octetCount: number };
  reports: readonly RtcpReportBlock[];
  /** Adds a BYE for our SSRC at the end (hang-up). */
  bye?: { reason?: string };
}

/**
 * The packets of one regular compound (RFC 3550 §6.1): SR when we are a
 * sender, else RR; report blocks beyond the 31 one packet holds go in
 * further RRs; then SDES with our CNAME (§6.5.1); BYE last when leaving
 * (§6.6).
 */
export function rtcpReportCompound(input: ReportCompoundInput): RtcpPacket[] {
  const packets: RtcpPacket[] = [];
  const first = input.reports.slice(0, MAX_COUNT);
  packets.push(input.sender ? { type: 'sr', ssrc: input.ssrc, ...input.sender, reports: first } : { type: 'rr', ssrc: input.ssrc, reports: first });
  for (let i = MAX_COUNT; i < input.reports.length; i += MAX_COUNT) {
    packets.push({ type: 'rr', ssrc: input.ssrc, reports: input.reports.slice(i, i + MAX_COUNT) });
  }
  packets.push({ type: 'sdes', chunks: [{ ssrc: input.ssrc, items: [{ type: 1, text: input.cname }] }] });
  if (input.bye) {
    packets.push(input.bye.reason === undefined ? { type: 'bye', ssrcs: [input.ssrc] } : { type: 'bye', ssrcs: [input.ssrc], reason: input.bye.reason });
  }
  return packets;
}

/** Bytes `p` takes on the wire. */
export function rtcpPacketBytes(p: RtcpPacket): number {
  switch (p.type) {
    case 'sr':
      return 28 + 24 * p.reports.length + (p.extension?.length ?? 0);
    case 'rr':
      return 8 + 24 * p.reports.length + (p.extension?.length ?? 0);
    case 'sdes': {
      let n = 4;
      for (const c of p.chunks) {
        let items = 0;
        for (const it of c.items) items += 2 + utf8.encode(it.text).length;
        n += 4 + ((items + 4) & ~3); // at least one null octet, then to the boundary
      }
      return n;
    }
    case 'bye':
      return 4 + 4 * p.ssrcs.length + (p.reason === undefined ? 0 : (utf8.encode(p.reason).length + 4) & ~3);
    case 'app':
      return 12 + p.data.length;
    case 'other':
      return 4 + p.body.length;
  }
}

/** Writes `p` at `offset`; returns the offset after it. Throws RangeError on values that cannot be encoded. */
export function writeRtcpPacket(p: RtcpPacket, out: Uint8Array, offset: number): number {
  const size = rtcpPacketBytes(p);
  if ((size & 3) !== 0) throw new RangeError(`RTCP packet not a multiple of 4 bytes [type:${p.type}, length:${size}]`);
  if (offset + size > out.length) {
    throw new RangeError(`RTCP packet does not fit [offset:${offset}, needed:${size}, length:${out.length}]`);
  }
  let o = offset + 4;
  let count: number;
  let packetType: number;
  switch (p.type) {
    case 'sr':
    case 'rr':
      count = p.reports.length;
      packetType = p.type === 'sr' ? 200 : 201;
      writeU32(out, o, p.ssrc);
      o += 4;
      if (p.type === 'sr') {
        writeU32(out, o, p.ntpSeconds);
        writeU32(out, o + 4, p.ntpFraction);
        writeU32(out, o + 8, p.rtpTimestamp);
        writeU32(out, o + 12, p.packetCount);
        writeU32(out, o + 16, p.octetCount);
        o += 20;
      }
      for (const r of p.reports) o = writeReportBlock(r, out, o);
      if (p.extension) {
        out.set(p.extension, o);
        o += p.extension.length;
      }
      break;
    case 'sdes':
      count = p.chunks.length;
      packetType = 202;
      for (const c of p.chunks) {
        writeU32(out, o, c.ssrc);
        o += 4;
        const start = o;
        for (const it of c.items) {
          const text = utf8.encode(it.text);
          if (it.type < 1 || it.type > 255 || text.length > 255) {
            throw new RangeError(`SDES item out of range [type:${it.type}, length:${text.length}, max:255]`);
          }
          out[o] = it.type;
          out[o + 1] = text.length;
          out.set(text, o + 2);
          o += 2 + text.length;
        }
        const end = start + ((o - start + 4) & ~3);
        out.fill(0, o, end);
        o = end;
      }
      break;
    case 'bye':
      count = p.ssrcs.length;
      packetType = 203;
      for (const s of p.ssrcs) {
        writeU32(out, o, s);
        o += 4;
      }
      if (p.reason !== undefined) {
        const text = utf8.encode(p.reason);
        if (text.length > 255) throw new RangeError(`BYE reason too long [length:${text.length}, max:255]`);
        const end = o + ((text.length + 4) & ~3);
        out[o] = text.length;
        out.set(text, o + 1);
        out.fill(0, o + 1 + text.length, end);
        o = end;
      }
      break;
    case 'app':
      count = p.subtype;
      packetType = 204;
      if (p.name.length !== 4 || (p.data.length & 3) !== 0) {
        throw new RangeError(`APP name must be 4 characters and data whole words [name:${p.name.length}, data:${p.data.length}]`);
      }
      writeU32(out, o, p.ssrc);
      for (let i = 0; i < 4; i++) out[o + 4 + i] = p.name.charCodeAt(i) & 0xff;
      out.set(p.data, o + 8);
      o += 8 + p.data.length;
      break;
    case 'other':
      count = p.count;
      packetType = p.packetType;
      out.set(p.body, o);
      o += p.body.length;
      break;
  }
  if (count > MAX_COUNT) throw new RangeError(`RTCP count field overflows [type:${p.type}, count:${count}, max:${MAX_COUNT}]`);
  out[offset] = 0x80 | count;
  out[offset + 1] = packetType;
  const words = size / 4 - 1;
  out[offset + 2] = words >>> 8;
  out[offset + 3] = words & 0xff;
  return o;
}

function writeReportBlock(r: RtcpReportBlock, out: Uint8Array, o: number): number {
  writeU32(out, o, r.ssrc);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff; // §6.4.1 clamps
  writeU32(out, o + 4, ((r.fractionLost & 0xff) << 24) | lost);
  writeU32(out, o + 8, r.extendedHighestSeq);
  writeU32(out, o + 12, r.jitter);
  writeU32(out, o + 16, r.lsr);
  writeU32(out, o + 20, r.dlsr);
  return o + 24;
}
