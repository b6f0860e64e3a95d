/**
 * One byte range of an HTTP Range request header (RFC 9110 §14.1.2):
 *
 * ```
 *   Range: bytes=first-last     bytes first..last, inclusive (last capped at the end)
 *   Range: bytes=first-         from first to the end
 *   Range: bytes=-suffix        the last `suffix` bytes
 * ```
 *
 * `none`: serve the whole representation — no header, a unit other than
 * bytes, a malformed specifier, or several ranges (§14.2 lets a server
 * ignore a Range it will not honour, and one range is all a player asks).
 * `unsatisfiable`: answer 416 with `Content-Range: bytes *\/size` (§15.5.17).
 */
export type ByteRange =
  | { kind: 'none' }
  | { kind: 'unsatisfiable' }
  | { kind: 'range'; start: number; end: number };

/** A header longer than this is not a one-range request from a player: ignored. */
const MAX_RANGE_HEADER = 100;
const ONE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || header.length > MAX_RANGE_HEADER) return { kind: 'none' };
  const m = ONE_RANGE.exec(header.trim().replace(/\s+/g, ''));
  if (m === null) return { kind: 'none' };
  const [, a, b] = m;
  if (a === '' && b === '') return { kind: 'none' };
  if (a === '') {
    // §14.1.2: a suffix of 0 bytes is unsatisfiable; a suffix longer than the file is the whole file.
    const suffix = Number(b);
    if (!Number.isSafeInteger(suffix)) return { kind: 'none' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const last = b === '' ? Number.MAX_SAFE_INTEGER : Number(b);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(last, size - 1) };
}
