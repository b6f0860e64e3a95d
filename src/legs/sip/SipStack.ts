import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../../log.ts';
import { RequestError, type CallRequest } from '../../supervisor/Runtime.ts';
import { header, parseSipMessage, sipParseCodeName, type SipRequest, type SipResponse } from '../../wire/sipMessage.ts';
import { headerValues, parseVia, splitList } from '../../wire/sipHeaders.ts';
import { InboundCall, type InboundHost } from './InboundCall.ts';
import { SdpError } from './sdpNegotiation.ts';
import { ALLOW, buildRequest, buildResponse, newBranch, responseTarget, tagOf, type RequestParts } from './sipBuild.ts';
import { SipSockets, type SipPeer, type SipProto } from './SipSockets.ts';
import { ClientTransaction, ServerTransactions, DEFAULT_TIMERS, type SipTimers } from './transactions.ts';
import { FloodGate } from './FloodGate.ts';
import type { DigestGuard } from './DigestGuard.ts';

/** What the stack uses of the runtime: making and ending calls, counting bad input. */
export interface SipRuntime {
  createCall(req: CallRequest): Promise<{ id: string; [key: string]: unknown }>;
  deleteCall(id: string): Promise<boolean>;
  countBadInput(source: string, reason: string): void;
}

export interface SipStackOptions {
  host: string;
  port: number;
  tlsPort?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The address peers reach us at (Via, Contact, SDP); `host` unless it is a wildcard. */
  advertise?: string;
  /** Request-URI user → agent. */
  routes?: Readonly<Record<string, string>>;
  /** Only these networks may send requests (unset: any). */
  allow?: BlockList;
  digest?: DigestGuard;
  timers?: SipTimers;
  /** New INVITEs per second from one address, with a burst of twice as many. */
  invitesPerSecond?: number;
  log: Logger;
}

/**
 * The SIP user agent (RFC 3261) on the main thread: parses what arrives
 * (wire/sipMessage.ts), drops and counts what does not parse (a request that
 * can be answered gets 400), runs the server transactions, and hands INVITEs
 * and in-dialog requests to their calls. Signalling is control-rate work;
 * media stays in the RTP legs on the network workers.
 */
export class SipStack implements InboundHost {
  readonly timers: SipTimers;
  readonly #opts: SipStackOptions;
  readonly #sockets: SipSockets;
  readonly #servers: ServerTransactions;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #calls = new Map<string, InboundCall>();
  readonly #byInvite = new Map<string, InboundCall>();
  readonly #flood: FloodGate;
  readonly #badLog: RateLimitedLog;
  #runtime: SipRuntime | undefined;
  #ports = { port: 0, tlsPort: undefined as number | undefined };

  constructor(opts: SipStackOptions) {
    this.#opts = opts;
    this.timers = opts.timers ?? DEFAULT_TIMERS;
    this.#sockets = new SipSockets({
      host: opts.host,
      port: opts.port,
      ...(opts.tlsPort !== undefined ? { tlsPort: opts.tlsPort } : {}),
      ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
      onMessage: (buf, from) => this.#receive(buf, from),
      onBadStream: (from, reason) => this.#bad(from, reason, 'stream'),
    });
    this.#servers = new ServerTransactions((to, buf) => this.#sockets.send(to, buf), this.timers);
    this.#flood = new FloodGate(opts.invitesPerSecond ?? 50);
    this.#badLog = new RateLimitedLog(opts.log);
  }

  async listen(runtime: SipRuntime): Promise<{ port: number; tlsPort: number | undefined }> {
    this.#runtime = runtime;
    this.#ports = await this.#sockets.listen();
    return this.#ports;
  }

  close(): void {
    for (const call of [...this.#calls.values()]) call.hangup('the SIP service stopped');
    for (const c of this.#clients.values()) c.cancel();
    this.#clients.clear();
    this.#servers.close();
    this.#sockets.close();
  }

  local(proto: SipProto): RequestParts['local'] {
    const address = this.#opts.advertise ?? this.#opts.host;
    return { proto, address, port: proto === 'TLS' ? (this.#ports.tlsPort ?? this.#ports.port) : this.#ports.port };
  }

  respond(req: SipRequest, from: SipPeer, status: number, opts: { toTag?: string; body?: string; headers?: Array<[string, string]> } = {}): void {
    this.#servers.respond(req, responseTarget(req, from), buildResponse(req, from, status, opts), status);
  }

  request(to: SipPeer, parts: Omit<RequestParts, 'local' | 'branch'>, onResponse: (res: SipResponse | 'timeout') => void, branch = newBranch()): ClientTransaction {
    const buf = buildRequest({ ...parts, local: this.local(to.proto), branch });
    // Keyed by branch and method: a CANCEL shares its INVITE's branch (§9.1).
    const key = `${branch}|${parts.method}`;
    // §17.1.1.3: the INVITE client transaction acknowledges a non-2xx final itself (same branch, the response's To).
    const ackNon2xx = (res: SipResponse): void =>
      this.#sockets.send(to, buildRequest({ method: 'ACK', uri: parts.uri, from: parts.from, to: header(res.headers, 'to')!, callId: parts.callId, cseq: parts.cseq, routes: parts.routes ?? [], local: this.local(to.proto), branch }));
    const txn = new ClientTransaction(branch, parts.method, () => this.#sockets.send(to, buf), (res) => {
      if (res === 'timeout' || res.status >= 200) {
        // An INVITE's is kept a while so retransmitted finals are acknowledged again (2xx by the call, others here).
        const linger = parts.method === 'INVITE' && res !== 'timeout' ? 64 * this.timers.t1Ms : 0;
        setTimeout(() => this.#clients.get(key) === txn && this.#clients.delete(key), linger).unref();
      }
      onResponse(res);
    }, to.proto !== 'UDP', this.timers, parts.method === 'INVITE' ? ackNon2xx : undefined);
    this.#clients.set(key, txn);
    return txn;
  }

  sendRaw(to: SipPeer, parts: Omit<RequestParts, 'local'>): void {
    this.#sockets.send(to, buildRequest({ ...parts, local: this.local(to.proto) }));
  }

  endCall(callId: string, detail: string): void {
    void this.#runtime?.deleteCall(callId).catch(() => undefined);
    void detail;
  }

  forget(call: InboundCall): void {
    this.#calls.delete(`${call.dialog.callId}|${call.localTag}`);
    this.#byInvite.delete(inviteKey(call.invite));
  }

  /** Calls in progress or up (for tests and status). */
  get calls(): number {
    return this.#calls.size;
  }

  #bad(from: SipPeer, reason: string, detail: string): void {
    this.#runtime?.countBadInput('sip', reason);
    this.#badLog.warn(`sip:${reason}`, { from: `${from.proto} ${from.address}:${from.port}`, reason, detail }, 'bad SIP input dropped');
  }

  #receive(buf: Buffer, from: SipPeer): void {
    if (this.#opts.allow !== undefined && !this.#opts.allow.check(from.address, from.address.includes(':') ? 'ipv6' : 'ipv4')) {
      this.#bad(from, 'not allowed', 'source outside sip.allow');
      return;
    }
    const parsed = parseSipMessage(buf, from.proto === 'UDP');
    if (parsed.code !== 0) {
      this.#bad(from, sipParseCodeName(parsed.code), parsed.detail);
      if (parsed.answerable !== undefined && !buf.subarray(0, 4).equals(Buffer.from('ACK '))) {
        const status = parsed.code === 4 ? 505 : 400;
        const req = { kind: 'request', method: 'X', uri: '', headers: parsed.answerable, body: Buffer.alloc(0), callId: header(parsed.answerable, 'call-id')!, cseq: 0, cseqMethod: (header(parsed.answerable, 'cseq') ?? '').split(/\s+/).pop() ?? '' } as const;
        const cseq = (header(parsed.answerable, 'cseq') ?? '').split(/\s+/)[0];
        this.#sockets.send(responseTarget(req, from), buildResponse({ ...req, cseq: Number(cseq) || 0 }, from, status, { reason: `${parsed.code === 4 ? 'Version Not Supported' : 'Bad Request'} (${sipParseCodeName(parsed.code)})` }));
      }
      return;
    }
    const msg = parsed.message;
    if (msg.kind === 'response') {
      const via = parseVia(splitList(header(msg.headers, 'via')!)[0]!);
      const txn = this.#clients.get(`${via?.params.get('branch') ?? ''}|${msg.cseqMethod}`);
      if (txn === undefined) this.#bad(from, 'stray response', `${msg.status} ${msg.cseqMethod}`);
      else txn.receive(msg);
      return;
    }
    if (msg.method === 'INVITE' && tagOf(header(msg.headers, 'to')) === undefined && !this.#flood.take(from.address)) {
      this.#bad(from, 'invite flood', 'over sip invitesPerSecond');
      return;
    }
    if (this.#servers.absorb(msg, from)) return;
    try {
      this.#request(msg, from);
    } catch (err) {
      this.#opts.log.error({ err, method: msg.method, callId: msg.callId }, 'SIP request handling failed');
      if (msg.method !== 'ACK') this.respond(msg, from, 500);
    }
  }

  #request(req: SipRequest, from: SipPeer): void {
    // §8.2.2.3: we support no extension a request may require; 420 names them (ACK and CANCEL are exempt).
    const required = headerValues(req.headers, 'require');
    if (required.length > 0 && req.method !== 'ACK' && req.method !== 'CANCEL') {
      this.respond(req, from, 420, { headers: [['unsupported', required.join(', ')]] });
      return;
    }
    const toTag = tagOf(header(req.headers, 'to'));
    if (toTag !== undefined) {
      const call = this.#calls.get(`${req.callId}|${toTag}`);
      if (call !== undefined) call.inDialog(req, from);
      else if (req.method !== 'ACK') this.respond(req, from, 481);
      return;
    }
    switch (req.method) {
      case 'INVITE':
        this.#invite(req, from);
        return;
      case 'CANCEL': {
        const call = this.#byInvite.get(inviteKey(req));
        if (call === undefined) {
          this.respond(req, from, 481);
          return;
        }
        this.respond(req, from, 200, { toTag: call.localTag });
        call.cancel();
        return;
      }
      case 'OPTIONS':
        // Keep-alive and capability query (§11): 200 with what we take.
        this.respond(req, from, 200, { headers: [['allow', ALLOW], ['accept', 'application/sdp']] });
        return;
      case 'ACK':
        return;
      case 'BYE':
        this.respond(req, from, 481);
        return;
      default:
        this.respond(req, from, 405, { headers: [['allow', ALLOW]] });
    }
  }

  #invite(req: SipRequest, from: SipPeer): void {
    const mf = header(req.headers, 'max-forwards');
    if (mf !== undefined && Number(mf) === 0) {
      this.respond(req, from, 483);
      return;
    }
    if (this.#opts.digest !== undefined) {
      const challenge = this.#opts.digest.check(req);
      if (challenge !== undefined) {
        this.respond(req, from, 401, { headers: challenge });
        return;
      }
    }
    // §8.2.3: a body we cannot read is 415 with what we accept (RFC 4475 §3.3.6).
    const type = header(req.headers, 'content-type');
    if (req.body.length > 0 && type !== undefined && type.split(';')[0]!.trim().toLowerCase() !== 'application/sdp') {
      this.respond(req, from, 415, { headers: [['accept', 'application/sdp']] });
      return;
    }
    this.respond(req, from, 100);
    let call: InboundCall;
    try {
      call = new InboundCall(req, from, this);
    } catch (err) {
      if (!(err instanceof SdpError)) throw err;
      this.respond(req, from, 488, { headers: [['warning', `399 switchboard "${err.message.slice(0, 120).replace(/"/g, "'")}"`]] });
      return;
    }
    this.#calls.set(`${req.callId}|${call.localTag}`, call);
    this.#byInvite.set(inviteKey(req), call);
    call.ring();
    const user = call.user;
    // A route to '' names no agent: the default one takes the call.
    const routed = user === undefined ? undefined : (this.#opts.routes?.[user] ?? user);
    const agent = routed === '' ? undefined : routed;
    void this.#place(call, agent);
  }

  async #place(call: InboundCall, agent: string | undefined): Promise<void> {
    try {
      const info = await this.#runtime!.createCall({ transport: 'sip', inbound: call, ...(agent !== undefined ? { agent } : {}) });
      const rtp = info['rtp'] as { localPort: number; address: string };
      const address = isWildcard(rtp.address) ? this.local(call.from.proto).address : rtp.address;
      call.answer(info.id, address, rtp.localPort);
    } catch (err) {
      if (err instanceof RequestError) {
        if (err.status === 503) call.reject(503, [['retry-after', String(err.retryAfterS ?? 1)]]);
        else call.reject(err.message.startsWith('agent') ? 404 : 488, [['warning', `399 switchboard "${err.message.slice(0, 120).replace(/"/g, "'")}"`]]);
        return;
      }
      this.#opts.log.error({ err, callId: call.invite.callId }, 'SIP call set-up failed');
      call.reject(500);
    }
  }
}

function inviteKey(req: SipRequest): string {
  const via = splitList(header(req.headers, 'via')!)[0]!;
  return `${req.callId}|${req.cseq}|${parseVia(via)?.params.get('branch') ?? via}`;
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
