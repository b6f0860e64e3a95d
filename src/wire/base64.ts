/**
 * Base64 (RFC 4648 §4, the standard alphabet with `=` padding) between
 * strings and caller-owned byte buffers.
 *
 * Node's `Buffer.from(s, 'base64')` allocates per call and silently skips
 * characters outside the alphabet, so a corrupt payload would turn into
 * shorter, wrong audio; this decoder writes into the caller's buffer and
 * refuses anything that is not canonical base64.
 * @see https://www.rfc-editor.org/rfc/rfc4648#section-4
 */

/** Not base64: a length not a multiple of 4, a character outside the alphabet, or misplaced padding. */
export const BASE64_INVALID = -1;
/** Valid, but decodes to more bytes than the output holds. */
export const BASE64_TOO_LARGE = -2;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='

/** 6-bit value of each UTF-16 code unit below 256, or -1 (0x100 and above are masked onto -1 below). */
const SEXTET = new Int32Array(257).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;

/** The sextet of a code unit: units of 256 and above map to the table's last entry, -1. */
function sextet(text: string, at: number): number {
  const c = text.charCodeAt(at);
  return SEXTET[c > 255 ? 256 : c]!;
}

/**
 * Decodes `text` into `out`; returns the byte count, BASE64_INVALID or
 * BASE64_TOO_LARGE (then `out` is untouched). Allocates nothing.
 */
export function base64Decode(text: string, out: Uint8Array): number {
  const len = text.length;
  if ((len & 3) !== 0) return BASE64_INVALID;
  if (len === 0) return 0;
  const pad = text.charCodeAt(len - 1) === PAD ? (text.charCodeAt(len - 2) === PAD ? 2 : 1) : 0;
  const bytes = (len >> 2) * 3 - pad;
  if (bytes > out.length) return BASE64_TOO_LARGE;
  const full = pad === 0 ? len : len - 4;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    // One range test for all four, then table look-ups that cannot go out of bounds.
    if ((a | b | c | d) > 255) return BASE64_INVALID;
    const v = (SEXTET[a]! << 18) | (SEXTET[b]! << 12) | (SEXTET[c]! << 6) | SEXTET[d]!;
    if (v < 0) return BASE64_INVALID;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad > 0) {
    const a = sextet(text, full);
    const b = sextet(text, full + 1);
    const c = pad === 1 ? sextet(text, full + 2) : 0;
    if ((a | b | c) < 0) return BASE64_INVALID;
    // Canonical encodings leave the bits below the last byte zero (RFC 4648 §3.5).
    if (pad === 2 ? (b & 0x0f) !== 0 : (c & 0x03) !== 0) return BASE64_INVALID;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >> 16;
    if (pad === 1) out[o++] = (v >> 8) & 0xff;
  }
  return o;
}

/** Scratch for encoding; grows (allocating) only for a larger input than any before. */
let scratch = Buffer.allocUnsafe(1024);

/** Encodes `count` bytes of `bytes`; allocates only the returned string. */
export function base64Encode(bytes: Uint8Array, count = bytes.length): string {
  const n = Math.max(0, Math.min(count, bytes.length));
  if (n > scratch.length) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  if (n === bytes.length) scratch.set(bytes, 0);
  else for (let i = 0; i < n; i++) scratch[i] = bytes[i]!;
  return scratch.toString('base64', 0, n);
}
