/**
 * Protocol strings cut by what the protocol counts. A WebSocket close reason,
 * an HTTP header value or a SIP reason phrase is limited in bytes of UTF-8,
 * not in JavaScript characters: 120 characters of "é" are 240 bytes, and
 * `ws` throws on a close reason over 123 bytes. Every string a peer chose and
 * we echo back goes through here.
 */

/** RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the close code. */
export const WS_CLOSE_REASON_MAX_BYTES = 123;
/** A peer's value quoted in an error message or a log line (the message stays readable). */
export const QUOTED_MAX_CHARS = 80;

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = 3;

/**
 * `text` cut to at most `maxBytes` of UTF-8 at a code point boundary, with
 * "…" when it was cut (when there is room for it). Lone surrogates count as
 * the 3-byte replacement character they are encoded as.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  // Fast path: every UTF-16 unit is at most 3 bytes.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes >= ELLIPSIS_BYTES * 2 ? maxBytes - ELLIPSIS_BYTES : maxBytes;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > budget) break;
    bytes += n;
    end += ch.length;
  }
  return budget < maxBytes ? text.slice(0, end) + ELLIPSIS : text.slice(0, end);
}

/** `text` cut to `maxChars` code points with "…": for values already safe to show (a parsed URL's path). */
export function clip(text: string, maxChars = QUOTED_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  const points = Array.from(text);
  return points.length <= maxChars ? text : `${points.slice(0, maxChars).join('')}${ELLIPSIS}`;
}

/**
 * A peer's value as it appears inside a message: JSON (so quotes, control
 * characters and newlines cannot forge log lines or break JSON), cut to
 * `maxChars` code points with "…".
 */
export function quote(value: unknown, maxChars = QUOTED_MAX_CHARS): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    // A BigInt or a cycle: not JSON, but still shown.
    json = String(value);
  }
  return clip(json, maxChars);
}
