/**
 * RFC 8285 header extension elements inside an RTP packet's extension block
 * (RFC 3550 §5.3.1), read in place or built for sending.
 */
import type { RtpPacketView } from './rtp.ts';

/** RFC 8285 §4.2: the one-byte header form's profile value. */
export const EXT_ONE_BYTE_PROFILE = 0xbede;
/** RFC 8285 §4.3: the two-byte form's profile is 0x100 followed by 4 application bits. */
export const EXT_TWO_BYTE_PROFILE = 0x1000;

/** Where one extension element's data lies; reused across calls. */
export class RtpExtensionElement {
  id = 0;
  offset = 0;
  length = 0;
}

/**
 * Finds element `id` in the packet's RFC 8285 header extension, filling `out`.
 * Returns false when absent, when the extension is neither the one-byte nor
 * the two-byte form, or when the elements run past the extension data.
 *
 * ```
 * one-byte form (0xBEDE):          two-byte form (0x100 | appbits):
 *  0                   1            0                   1                   2
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 ...  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  ID   |  len  | data (len+1)   |      ID       |    length     | data ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * ID 0 is a padding octet in both forms; in the one-byte form ID 15 stops
 * the scan.
 * @see RFC 8285 §4.2, §4.3.
 */
export function findRtpExtension(buf: Uint8Array, view: RtpPacketView, id: number, out: RtpExtensionElement): boolean {
  if (!view.extension) return false;
  const oneByte = view.extensionProfile === EXT_ONE_BYTE_PROFILE;
  if (!oneByte && (view.extensionProfile & 0xfff0) !== EXT_TWO_BYTE_PROFILE) return false;
  const end = view.extensionOffset + view.extensionLength;
  let i = view.extensionOffset;
  while (i < end) {
    const b = buf[i]!;
    if (b === 0) {
      i++;
      continue;
    }
    let elementId: number;
    let length: number;
    if (oneByte) {
      elementId = b >>> 4;
      if (elementId === 15) return false;
      length = (b & 0x0f) + 1;
      i += 1;
    } else {
      if (i + 1 >= end) return false;
      elementId = b;
      length = buf[i + 1]!;
      i += 2;
    }
    if (i + length > end) return false;
    if (elementId === id) {
      out.id = id;
      out.offset = i;
      out.length = length;
      return true;
    }
    i += length;
  }
  return false;
}

/** Every RFC 8285 element of the packet, copied out (allocates; for tools and tests). */
export function rtpExtensionElements(buf: Uint8Array, view: RtpPacketView): Array<{ id: number; data: Uint8Array }> {
  const found: Array<{ id: number; data: Uint8Array }> = [];
  const el = new RtpExtensionElement();
  const maxId = view.extensionProfile === EXT_ONE_BYTE_PROFILE ? 14 : 255;
  for (let id = 1; id <= maxId; id++) {
    if (findRtpExtension(buf, view, id, el)) found.push({ id, data: buf.slice(el.offset, el.offset + el.length) });
  }
  return found;
}

/**
 * Builds RFC 8285 extension data (zero-padded to 32 bits) from elements: the
 * one-byte form when every ID is 1–14 and every length 1–16, else two-byte.
 * Returns the profile value to put in the header with the data.
 */
export function buildRtpExtension(elements: ReadonlyArray<{ id: number; data: Uint8Array }>): {
  profile: number;
  data: Uint8Array;
} {
  const oneByte = elements.every((e) => e.id >= 1 && e.id <= 14 && e.data.length >= 1 && e.data.length <= 16);
  for (const e of elements) {
    if (e.id < 1 || e.id > 255 || e.data.length > 255) {
      throw new RangeError(`extension element out of range [id:${e.id}, length:${e.data.length}]`);
    }
  }
  const raw = elements.reduce((n, e) => n + (oneByte ? 1 : 2) + e.data.length, 0);
  const data = new Uint8Array((raw + 3) & ~3);
  let i = 0;
  for (const e of elements) {
    if (oneByte) data[i++] = (e.id << 4) | (e.data.length - 1);
    else {
      data[i++] = e.id;
      data[i++] = e.data.length;
    }
    data.set(e.data, i);
    i += e.data.length;
  }
  return { profile: oneByte ? EXT_ONE_BYTE_PROFILE : EXT_TWO_BYTE_PROFILE, data };
}
