/**
 * One byte range of an HTTP Range request header (RFC 9110 §14.1.2):
 *
 * ```
 *   Range: bytes=first-last     bytes first..last, inclusive (last capped at the end)
 *   Range: bytes=first-         from first to the end
 *   Range: bytes=-suffix        the last `suffix` bytes
 * ```
 *
 * `none`: serve the whole representation — no header, or a unit other than
 * bytes (§14.2: a server MUST ignore a unit it does not understand).
 * `invalid`: a bytes Range this server rejects, answered 416 saying why —
 * a malformed or inverted specifier (§14.2 lets a server reject an invalid
 * ranges-specifier), or several ranges (one range is all a player asks; no
 * multipart/byteranges here).
 * `unsatisfiable`: answer 416 with `Content-Range: bytes *\/size` (§15.5.17).
 */
export type ByteRange =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'unsatisfiable' }
  | { kind: 'range'; start: number; end: number };

/** A header longer than this is not a one-range request from a player. */
const MAX_RANGE_HEADER = 100;
const ONE_RANGE = /^bytes=(\d*)-(\d*)$/;
const BYTES_UNIT = /^\s*bytes\s*=/i;

export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || !BYTES_UNIT.test(header)) return { kind: 'none' };
  if (header.length > MAX_RANGE_HEADER) return { kind: 'invalid', reason: `a Range header of ${header.length} characters (at most ${MAX_RANGE_HEADER})` };
  const spec = header.trim().replace(/\s+/g, '');
  if (spec.includes(',')) return { kind: 'invalid', reason: 'several ranges; ask for one range per request' };
  const m = ONE_RANGE.exec(spec);
  if (m === null) return { kind: 'invalid', reason: 'expected bytes=first-last, bytes=first- or bytes=-suffix (decimal digits)' };
  const [, a, b] = m;
  if (a === '' && b === '') return { kind: 'invalid', reason: 'a range needs a first byte or a suffix length' };
  if (a === '') {
    // §14.1.2: a suffix of 0 bytes is unsatisfiable; a suffix longer than the file is the whole file.
    const suffix = Number(b);
    if (!Number.isSafeInteger(suffix)) return { kind: 'invalid', reason: 'the suffix length is too large' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const last = b === '' ? Number.MAX_SAFE_INTEGER : Number(b);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) return { kind: 'invalid', reason: 'a byte position is too large' };
  // §14.1.1: a range whose last position is before its first is invalid.
  if (last < start) return { kind: 'invalid', reason: `the last byte (${last}) is before the first (${start})` };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(last, size - 1) };
}
