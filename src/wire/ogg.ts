/**
 * Ogg pages (RFC 3533): framing packets of one logical bitstream into pages
 * with a CRC, and reading them back.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | capture_pattern: magic number for page start "OggS"           | 0-3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | version       | header_type   | granule_position              | 4-7
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                                                               | 8-11
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               | bitstream_serial_number       | 12-15
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               | page_sequence_number          | 16-19
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               | CRC_checksum                  | 20-23
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                               |page_segments  | segment_table | 24-27
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | ...                                                           | 28-
 * ```
 * Multi-byte fields are little-endian. Packets are split into lacing values
 * of 255 bytes and a final one below 255 (0 when the length is a multiple of
 * 255); a packet may continue on the next page.
 * @see RFC 3533 §6 (page format) and §5 (lacing).
 */

export class OggFormatError extends Error {
  override name = 'OggFormatError';
}

/** header_type flags (RFC 3533 §6). */
export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

/** A page whose granule position is -1 completes no packet. */
export const NO_GRANULE = -1n;

const HEADER_BYTES = 27;
const MAX_SEGMENTS = 255;
const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"

/** CRC-32 with generator 0x04c11db7, initial 0, no reflection, no final XOR (RFC 3533 §6). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

export interface OggPage {
  headerType: number;
  /** Codec-defined position at the end of the last packet completed on this page; -1 for none. */
  granulePosition: bigint;
  serialNumber: number;
  sequenceNumber: number;
  /** Lacing values: the segment table. */
  segments: Uint8Array;
  body: Uint8Array;
}

/** Serializes one page, computing its CRC. */
export function writeOggPage(page: OggPage): Uint8Array {
  if (page.segments.length > MAX_SEGMENTS) {
    throw new RangeError(`too many Ogg segments [count:${page.segments.length}, max:${MAX_SEGMENTS}]`);
  }
  const out = new Uint8Array(HEADER_BYTES + page.segments.length + page.body.length);
  const view = new DataView(out.buffer);
  out.set(CAPTURE, 0);
  out[4] = 0; // stream_structure_version
  out[5] = page.headerType;
  view.setBigInt64(6, page.granulePosition, true);
  view.setUint32(14, page.serialNumber, true);
  view.setUint32(18, page.sequenceNumber, true);
  out[26] = page.segments.length;
  out.set(page.segments, HEADER_BYTES);
  out.set(page.body, HEADER_BYTES + page.segments.length);
  view.setUint32(22, oggCrc(out), true); // computed with the field still zero
  return out;
}

/**
 * Parses every page of a physical bitstream, checking each CRC. Throws
 * OggFormatError naming the page and the byte counts when one does not parse.
 */
export function readOggPages(bytes: Uint8Array): OggPage[] {
  const pages: OggPage[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    const hasCapture = at + 4 <= bytes.length && CAPTURE.every((c, i) => bytes[at + i] === c);
    if (!hasCapture) {
      throw new OggFormatError(
        at === 0
          ? `not an Ogg file: no "OggS" capture pattern at offset 0 [bytes:${bytes.length}]`
          : `lost Ogg page sync: no "OggS" capture pattern [page:${pages.length}, offset:${at}]`,
      );
    }
    if (at + HEADER_BYTES > bytes.length) {
      throw new OggFormatError(
        `truncated Ogg page header [page:${pages.length}, offset:${at}, needed:${HEADER_BYTES}, available:${bytes.length - at}]`,
      );
    }
    const version = bytes[at + 4]!;
    if (version !== 0) {
      throw new OggFormatError(`unsupported Ogg stream structure version [page:${pages.length}, version:${version}]`);
    }
    const count = bytes[at + 26]!;
    const segStart = at + HEADER_BYTES;
    let bodyBytes = 0;
    if (segStart + count <= bytes.length) for (let i = 0; i < count; i++) bodyBytes += bytes[segStart + i]!;
    const end = segStart + count + bodyBytes;
    if (segStart + count > bytes.length || end > bytes.length) {
      throw new OggFormatError(
        `truncated Ogg page [page:${pages.length}, offset:${at}, needed:${end - at}, available:${bytes.length - at}]`,
      );
    }
    const raw = bytes.slice(at, end);
    const stored = view.getUint32(at + 22, true);
    raw.fill(0, 22, 26);
    const computed = oggCrc(raw);
    if (stored !== computed) {
      throw new OggFormatError(
        `bad Ogg page CRC [page:${pages.length}, offset:${at}, stored:0x${hex(stored)}, computed:0x${hex(computed)}]`,
      );
    }
    pages.push({
      headerType: bytes[at + 5]!,
      granulePosition: view.getBigInt64(at + 6, true),
      serialNumber: view.getUint32(at + 14, true),
      sequenceNumber: view.getUint32(at + 18, true),
      segments: bytes.slice(segStart, segStart + count),
      body: bytes.slice(segStart + count, end),
    });
    at = end;
  }
  return pages;
}

function hex(v: number): string {
  return v.toString(16).padStart(8, '0');
}

export interface OggPacket {
  data: Uint8Array;
  /** The granule position of the page this packet completes on, when it is the last to complete there; else -1. */
  granulePosition: bigint;
  /** Set on the last packet of a page flagged end-of-stream. */
  eos: boolean;
}

/**
 * Reassembles the packets of one logical bitstream (the first one, unless
 * `serialNumber` is given) from its pages. A packet left unfinished by the
 * last page is dropped: a writer cut off mid-packet.
 */
export function oggPackets(pages: readonly OggPage[], serialNumber?: number): OggPacket[] {
  const serial = serialNumber ?? pages[0]?.serialNumber;
  const packets: OggPacket[] = [];
  let pending: Uint8Array[] = [];
  let expectSeq: number | undefined;
  for (const page of pages) {
    if (page.serialNumber !== serial) continue;
    if (expectSeq !== undefined && page.sequenceNumber !== expectSeq) {
      throw new OggFormatError(
        `missing Ogg page [serial:${serial}, expected sequence:${expectSeq}, got:${page.sequenceNumber}]`,
      );
    }
    expectSeq = (page.sequenceNumber + 1) >>> 0;
    if ((page.headerType & OGG_CONTINUED) === 0) pending = []; // a fresh page drops a dangling part
    let at = 0;
    let start = 0;
    let lastOnPage = -1;
    for (let i = 0; i < page.segments.length; i++) {
      const lace = page.segments[i]!;
      at += lace;
      if (lace < 255) {
        pending.push(page.body.subarray(start, at));
        packets.push({ data: concat(pending), granulePosition: NO_GRANULE, eos: false });
        lastOnPage = packets.length - 1;
        pending = [];
        start = at;
      }
    }
    if (start < at) pending.push(page.body.subarray(start, at));
    if (lastOnPage >= 0) {
      packets[lastOnPage]!.granulePosition = page.granulePosition;
      packets[lastOnPage]!.eos = (page.headerType & OGG_EOS) !== 0;
    }
  }
  return packets;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Builds the pages of one logical bitstream from packets. Each `packet()` call
 * adds one packet with the granule position at its end; a page is emitted when
 * `flush()` is called, when its segment table is full, or when it reaches
 * `targetPageBytes`. Allocates: for files and recordings, not per frame.
 */
export class OggWriter {
  readonly serialNumber: number;
  readonly targetPageBytes: number;
  #sequence = 0;
  #segments: number[] = [];
  #parts: Uint8Array[] = [];
  #bodyBytes = 0;
  /** Granule of the last packet completed on the page being built (RFC 3533 §6). */
  #pageGranule = NO_GRANULE;
  /** Granule of the last packet added: an empty end-of-stream page repeats it. */
  #lastGranule = NO_GRANULE;
  /** The page being built starts with the tail of a packet from the previous page. */
  #continued = false;
  #out: Uint8Array[] = [];
  #ended = false;

  constructor(serialNumber: number, targetPageBytes = 4096) {
    this.serialNumber = serialNumber >>> 0;
    this.targetPageBytes = targetPageBytes;
  }

  /** Appends a packet whose last sample has `granulePosition`. */
  packet(data: Uint8Array, granulePosition: bigint): void {
    if (this.#ended) throw new Error(`Ogg stream already ended [serial:${this.serialNumber}]`);
    let at = 0;
    for (;;) {
      // A full segment table ends the page inside this packet; the rest continues on the next.
      if (this.#segments.length === MAX_SEGMENTS) this.#emit(0, true);
      const lace = Math.min(255, data.length - at);
      this.#segments.push(lace);
      this.#parts.push(data.subarray(at, at + lace));
      this.#bodyBytes += lace;
      at += lace;
      if (lace < 255) break;
    }
    this.#pageGranule = granulePosition;
    this.#lastGranule = granulePosition;
    if (this.#bodyBytes >= this.targetPageBytes) this.flush();
  }

  /** Ends the current page after the last packet added, if it has any data. */
  flush(): void {
    if (this.#segments.length > 0) this.#emit(0, false);
  }

  /**
   * Flags the last page end-of-stream (RFC 3533 §6), emits it and returns the
   * whole stream. Safe to call more than once.
   */
  end(): Uint8Array {
    if (!this.#ended) {
      if (this.#segments.length === 0) this.#pageGranule = this.#lastGranule;
      this.#emit(OGG_EOS, false);
      this.#ended = true;
    }
    return concat(this.#out);
  }

  /** @param split the page ends inside a packet, so the next page is flagged continued. */
  #emit(flags: number, split: boolean): void {
    this.#out.push(
      writeOggPage({
        headerType: flags | (this.#continued ? OGG_CONTINUED : 0) | (this.#sequence === 0 ? OGG_BOS : 0),
        granulePosition: this.#pageGranule,
        serialNumber: this.serialNumber,
        sequenceNumber: this.#sequence++,
        segments: Uint8Array.from(this.#segments),
        body: concat(this.#parts),
      }),
    );
    this.#continued = split;
    this.#segments = [];
    this.#parts = [];
    this.#bodyBytes = 0;
    this.#pageGranule = NO_GRANULE;
  }
}
