/**
 * SIP messages (RFC 3261 §7, grammar in §25.1): a start line, header fields,
 * an empty line, a body.
 *
 * ```
 *  INVITE sip:echo@example.com SIP/2.0        Request-Line (§7.1)  or  SIP/2.0 200 OK  Status-Line (§7.2)
 *  Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK…  header fields, "name: value", folded lines start with SP/HT (§7.3.1)
 *  …
 *  Content-Length: 142
 *                                              CRLF
 *  v=0 …                                       body, Content-Length bytes (§7.4, §18.3)
 * ```
 *
 * {@link parseSipMessage} never throws: a message that does not parse gives a
 * {@link SipParse} code, and a request that parses far enough to be answered
 * (its Via, From, To, Call-ID and CSeq readable) carries them so the stack can
 * answer 400 (§8.2, §21.4.1). Header names are case-insensitive and compact
 * forms are expanded (§7.3.3); a header's repeated lines keep their order.
 */

import { headerValues, parseNameAddr, splitList } from './sipHeaders.ts';

export const SipParse = {
  OK: 0,
  EMPTY: 1,
  NO_HEADER_END: 2,
  BAD_START_LINE: 3,
  BAD_VERSION: 4,
  BAD_STATUS: 5,
  BAD_HEADER_LINE: 6,
  MISSING_HEADER: 7,
  BAD_CSEQ: 8,
  CSEQ_METHOD_MISMATCH: 9,
  BAD_CONTENT_LENGTH: 10,
  BODY_TRUNCATED: 11,
  BAD_MAX_FORWARDS: 12,
  TOO_LARGE: 13,
  BAD_VIA: 14,
  BAD_URI: 15,
  NOT_UTF8: 16,
  BAD_ADDRESS: 17,
} as const;
export type SipParseCode = (typeof SipParse)[keyof typeof SipParse];

const CODE_NAMES = [
  'ok',
  'empty',
  'no header end',
  'bad start line',
  'bad version',
  'bad status',
  'bad header line',
  'missing header',
  'bad CSeq',
  'CSeq method mismatch',
  'bad Content-Length',
  'body truncated',
  'bad Max-Forwards',
  'too large',
  'bad Via',
  'bad Request-URI',
  'not UTF-8',
  'bad address',
];

/** A short name for a result code, for logs and metric labels. */
export function sipParseCodeName(code: number): string {
  return CODE_NAMES[code] ?? 'unknown';
}

/** Largest message taken (a datagram cannot exceed 64 KB; a stream's message is held to the same). */
export const SIP_MAX_MESSAGE_BYTES = 65_535;
export const SIP_VERSION = 'SIP/2.0';

/** Compact forms, RFC 3261 §7.3.3 and §20 (plus RFC 3515 `r`, RFC 3892 `b`, RFC 4028 `x`). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events', r: 'refer-to',
  b: 'referred-by', x: 'session-expires',
};

/** Header fields in order; names are stored lower-case and expanded. */
export type SipHeaderList = Array<[name: string, value: string]>;

interface SipMessageBase {
  readonly headers: SipHeaderList;
  readonly body: Buffer;
  readonly callId: string;
  readonly cseq: number;
  readonly cseqMethod: string;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export type SipParseResult =
  | { code: 0; message: SipMessage }
  | { code: Exclude<SipParseCode, 0>; detail: string; /** Present when the message is a request whose answer fields were read. */ answerable?: SipHeaderList };

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/** RFC 3261 §25.1 Request-URI: an absolute URI without LWS, never in <> (RFC 4475 §3.1.2.7, §3.1.2.8). */
const REQUEST_URI = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The first value of a header, or undefined. */
export function header(headers: SipHeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** Every line of a header, in order. */
export function headerLines(headers: SipHeaderList, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}

function fail(code: Exclude<SipParseCode, 0>, detail: string, answerable?: SipHeaderList): SipParseResult {
  return answerable === undefined ? { code, detail } : { code, detail, answerable };
}

/** Where the header section ends (the index of the CRLFCRLF, or of LFLF for lenient peers), or -1. */
export function headerEnd(buf: Uint8Array, from = 0): { at: number; sep: number } {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { at: i, sep: 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { at: i, sep: 3 };
  }
  return { at: -1, sep: 0 };
}

/**
 * Parses one message. `datagram`: a UDP message, whose body is the rest of
 * the datagram when Content-Length is absent (§18.3); on a stream the framer
 * has already cut the message to its Content-Length.
 */
export function parseSipMessage(buf: Buffer, datagram = true): SipParseResult {
  if (buf.length === 0) return fail(SipParse.EMPTY, 'no bytes');
  if (buf.length > SIP_MAX_MESSAGE_BYTES) return fail(SipParse.TOO_LARGE, `${buf.length} bytes [max:${SIP_MAX_MESSAGE_BYTES}]`);
  // §7.5: CRLFs before the start line are ignored (stream keep-alives, RFC 5626 §3.5.1).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  const end = headerEnd(buf, start);
  if (end.at < 0) return fail(SipParse.NO_HEADER_END, 'no empty line after the header fields');
  let text: string;
  try {
    text = UTF8.decode(buf.subarray(start, end.at));
  } catch {
    return fail(SipParse.NOT_UTF8, 'the header section is not UTF-8');
  }
  const bodyStart = end.at + end.sep;
  const lines = text.split(/\r?\n/);
  const startLine = lines[0]!;
  const headers: SipHeaderList = [];
  // §7.3.1: a line starting with SP or HT continues the previous field; the fold is one SP.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const last = headers[headers.length - 1];
      if (last === undefined) return fail(SipParse.BAD_HEADER_LINE, 'a folded line before any header');
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name)) return fail(SipParse.BAD_HEADER_LINE, `not a header field: ${JSON.stringify(line.slice(0, 40))}`);
    headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  const parts = startLine.split(' ');
  let first: { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number; reason: string };
  if (startLine.startsWith('SIP/')) {
    if (parts[0] !== SIP_VERSION) return fail(SipParse.BAD_VERSION, `version ${JSON.stringify(parts[0]!.slice(0, 20))}`);
    // §25.1 Status-Code is exactly three digits (RFC 4475 §3.1.2.19).
    if (!/^[1-6]\d\d$/.test(parts[1] ?? '')) return fail(SipParse.BAD_STATUS, `status code ${JSON.stringify((parts[1] ?? '').slice(0, 20))}`);
    first = { kind: 'response', status: Number(parts[1]), reason: parts.slice(2).join(' ') };
  } else {
    // §7.1: Method SP Request-URI SP SIP-Version, single spaces, nothing after (RFC 4475 §3.1.2.9–10).
    const answerable = requiredPresent(headers) ? headers : undefined;
    if (parts.length !== 3 || !TOKEN.test(parts[0]!)) return fail(SipParse.BAD_START_LINE, `request line ${JSON.stringify(startLine.slice(0, 60))}`, answerable);
    if (parts[2] !== SIP_VERSION) return fail(SipParse.BAD_VERSION, `version ${JSON.stringify(parts[2]!.slice(0, 20))}`, answerable);
    if (!REQUEST_URI.test(parts[1]!)) return fail(SipParse.BAD_URI, `Request-URI ${JSON.stringify(parts[1]!.slice(0, 60))}`, answerable);
    first = { kind: 'request', method: parts[0]!, uri: parts[1]! };
  }
  return finish(first, headers, buf, bodyStart, datagram);
}

/** §8.1.1: To, From, CSeq, Call-ID, Max-Forwards (requests), Via. */
function requiredPresent(headers: SipHeaderList): boolean {
  return ['via', 'from', 'to', 'call-id', 'cseq'].every((n) => header(headers, n) !== undefined);
}

function finish(
  first: { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number; reason: string },
  headers: SipHeaderList,
  buf: Buffer,
  bodyStart: number,
  datagram: boolean,
): SipParseResult {
  const isRequest = first.kind === 'request';
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (header(headers, name) === undefined) return fail(SipParse.MISSING_HEADER, `no ${name} header`);
  }
  const answerable = isRequest ? headers : undefined;
  // Single-valued fields given twice are malformed (RFC 4475 §3.2.8).
  for (const name of ['from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards']) {
    if (headerLines(headers, name).length > 1) return fail(name === 'content-length' ? SipParse.BAD_CONTENT_LENGTH : SipParse.BAD_HEADER_LINE, `${name} given twice`, answerable);
  }
  const cseqMatch = /^(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(header(headers, 'cseq')!);
  const cseq = Number(cseqMatch?.[1]);
  // §8.1.1.5: the sequence number is a 32-bit unsigned integer below 2**31.
  if (cseqMatch === null || !(cseq < 2 ** 31)) return fail(SipParse.BAD_CSEQ, `CSeq ${JSON.stringify(header(headers, 'cseq')!.slice(0, 40))}`, answerable);
  const cseqMethod = cseqMatch[2]!;
  if (isRequest && cseqMethod !== first.method) return fail(SipParse.CSEQ_METHOD_MISMATCH, `CSeq ${cseqMethod} on a ${first.method}`, answerable);
  const maxForwards = header(headers, 'max-forwards');
  // §20.22: 1*DIGIT, leading zeros allowed (RFC 4475 §3.1.1.1 sends 0068); at most 255.
  if (maxForwards !== undefined && !(/^\d{1,10}$/.test(maxForwards) && Number(maxForwards) <= 255)) {
    return fail(SipParse.BAD_MAX_FORWARDS, `Max-Forwards ${JSON.stringify(maxForwards.slice(0, 20))}`, answerable);
  }
  // Via = 1#via-parm (§25.1): a line with no value would leave a response nowhere to go.
  if (headerLines(headers, 'via').some((line) => splitList(line).length === 0)) return fail(SipParse.BAD_VIA, 'an empty Via', answerable);
  const vias = headerValues(headers, 'via');
  for (const v of vias) {
    if (!/^SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+\S/.test(v)) return fail(SipParse.BAD_VIA, `Via ${JSON.stringify(v.slice(0, 60))}`, answerable);
  }
  for (const name of ['from', 'to']) {
    if (parseNameAddr(header(headers, name)!) === undefined) return fail(SipParse.BAD_ADDRESS, `${name} ${JSON.stringify(header(headers, name)!.slice(0, 60))}`, answerable);
  }
  for (const contact of headerValues(headers, 'contact')) {
    if (contact !== '*' && parseNameAddr(contact) === undefined) return fail(SipParse.BAD_ADDRESS, `contact ${JSON.stringify(contact.slice(0, 60))}`, answerable);
  }
  const cl = header(headers, 'content-length');
  let body: Buffer;
  if (cl === undefined) {
    body = datagram ? buf.subarray(bodyStart) : Buffer.alloc(0);
  } else {
    if (!/^\d{1,10}$/.test(cl)) return fail(SipParse.BAD_CONTENT_LENGTH, `Content-Length ${JSON.stringify(cl.slice(0, 20))}`, answerable);
    const n = Number(cl);
    // §18.3: more than the datagram holds is an error; bytes beyond it are discarded.
    if (bodyStart + n > buf.length) return fail(SipParse.BODY_TRUNCATED, `Content-Length ${n}, ${buf.length - bodyStart} bytes after the headers`, answerable);
    body = buf.subarray(bodyStart, bodyStart + n);
  }
  const callId = header(headers, 'call-id')!;
  if (first.kind === 'request') {
    return { code: 0, message: { kind: 'request', method: first.method, uri: first.uri, headers, body, callId, cseq, cseqMethod } };
  }
  return { code: 0, message: { kind: 'response', status: first.status, reason: first.reason, headers, body, callId, cseq, cseqMethod } };
}

/** Reason phrases of the responses this stack sends (RFC 3261 §21, RFC 3311, RFC 6665). */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  415: 'Unsupported Media Type', 420: 'Bad Extension', 481: 'Call/Transaction Does Not Exist', 483: 'Too Many Hops',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  500: 'Server Internal Error', 503: 'Service Unavailable', 505: 'Version Not Supported',
};

/** Writes a message: the start line, the headers as given (canonical names), Content-Length last, the body. */
export function serializeSip(startLine: string, headers: SipHeaderList, body: Buffer | string = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let text = `${startLine}\r\n`;
  for (const [n, v] of headers) if (n !== 'content-length') text += `${canonicalName(n)}: ${v}\r\n`;
  text += `Content-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(text, 'utf8'), b]);
}

const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'record-route': 'Record-Route',
};

export function canonicalName(name: string): string {
  return CANONICAL[name] ?? name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}
