import { randomBytes } from 'node:crypto';
import { header, headerLines, REASONS, serializeSip, SIP_VERSION, type SipHeaderList, type SipRequest } from '../../wire/sipMessage.ts';
import { BRANCH_COOKIE, parseNameAddr, parseVia, splitList } from '../../wire/sipHeaders.ts';
import type { SipPeer } from './SipSockets.ts';

/** Builders of the messages the stack sends (RFC 3261 §8.1.1 requests, §8.2.6 responses). */

export const USER_AGENT = 'switchboard';
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO';

/** A random token: tags (§19.3: 32 bits of randomness at least), branches, Call-IDs. */
export function token(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export function newBranch(): string {
  return `${BRANCH_COOKIE}${token(10)}`;
}

/** The tag parameter of a From or To value. */
export function tagOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseNameAddr(value)?.params.get('tag');
}

/**
 * A response to `req` (§8.2.6.2): its Via lines (the top one with `received`
 * and `rport` filled in, §18.2.1 and RFC 3581 §4), From, Call-ID, CSeq, and
 * To with our tag added when it has none and the status is above 100.
 */
export function buildResponse(req: SipRequest, from: SipPeer, status: number, opts: { toTag?: string; headers?: SipHeaderList; body?: string; reason?: string } = {}): Buffer {
  const headers: SipHeaderList = [];
  let first = true;
  for (const line of headerLines(req.headers, 'via')) {
    if (!first) {
      headers.push(['via', line]);
      continue;
    }
    const [top, ...rest] = splitList(line);
    headers.push(['via', [stampVia(top!, from), ...rest].join(', ')]);
    first = false;
  }
  headers.push(['from', header(req.headers, 'from')!]);
  let to = header(req.headers, 'to')!;
  if (status > 100 && opts.toTag !== undefined && tagOf(to) === undefined) to = `${to};tag=${opts.toTag}`;
  headers.push(['to', to], ['call-id', req.callId], ['cseq', `${req.cseq} ${req.cseqMethod}`]);
  if (status === 100) {
    const ts = header(req.headers, 'timestamp');
    if (ts !== undefined) headers.push(['timestamp', ts]); // §8.2.6.1
  }
  headers.push(['server', USER_AGENT], ...(opts.headers ?? []));
  const body = opts.body ?? '';
  if (body.length > 0 && !opts.headers?.some(([n]) => n === 'content-type')) headers.push(['content-type', 'application/sdp']);
  return serializeSip(`${SIP_VERSION} ${status} ${opts.reason ?? REASONS[status] ?? 'Unknown'}`, headers, body);
}

/** Adds `received` when the source differs from sent-by, and `rport` with the source port when asked (RFC 3581 §4). */
function stampVia(value: string, from: SipPeer): string {
  const via = parseVia(value);
  if (via === undefined) return value;
  let out = value.replace(/;\s*rport(?=;|$|\s)/i, () => `;rport=${from.port}`);
  if (via.host !== from.address && !via.params.has('received')) out += `;received=${from.address}`;
  return out;
}

/** Where a response to a request from `from` goes (§18.2.2, RFC 3581 §4): the stream it came on, or the source with rport. */
export function responseTarget(req: SipRequest, from: SipPeer): SipPeer {
  if (from.proto !== 'UDP') return from;
  const via = parseVia(splitList(header(req.headers, 'via')!)[0]!);
  if (via === undefined || via.params.has('rport')) return from;
  return { proto: 'UDP', address: via.params.get('received') ?? from.address, port: via.port ?? 5060 };
}

export interface RequestParts {
  method: string;
  uri: string;
  /** Our address as the peer reaches it, for Via and Contact. */
  local: { proto: string; address: string; port: number };
  from: string;
  to: string;
  callId: string;
  cseq: number;
  branch: string;
  routes?: readonly string[];
  contact?: boolean;
  headers?: SipHeaderList;
  body?: string;
}

/** A request of ours (§8.1.1): Via with a fresh branch and rport, Max-Forwards 70. */
export function buildRequest(p: RequestParts): Buffer {
  const host = p.local.address.includes(':') ? `[${p.local.address}]` : p.local.address;
  const headers: SipHeaderList = [
    ['via', `SIP/2.0/${p.local.proto} ${host}:${p.local.port};branch=${p.branch};rport`],
    ['max-forwards', '70'],
    ['from', p.from],
    ['to', p.to],
    ['call-id', p.callId],
    ['cseq', `${p.cseq} ${p.method}`],
  ];
  for (const r of p.routes ?? []) headers.push(['route', r]);
  if (p.contact === true) headers.push(['contact', `<sip:switchboard@${host}:${p.local.port}${p.local.proto === 'UDP' ? '' : `;transport=${p.local.proto.toLowerCase()}`}>`]);
  headers.push(['user-agent', USER_AGENT], ...(p.headers ?? []));
  if (p.body !== undefined && p.body.length > 0) headers.push(['content-type', 'application/sdp']);
  return serializeSip(`${p.method} ${p.uri} ${SIP_VERSION}`, headers, p.body ?? '');
}
