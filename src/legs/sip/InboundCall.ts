import { header, headerLines, type SipRequest } from '../../wire/sipMessage.ts';
import { parseNameAddr, parseSipUri } from '../../wire/sipHeaders.ts';
import { readSdp, rtpRequestOf, SdpError, writeAnswer, type MediaChoice } from './sdpNegotiation.ts';
import { ALLOW, tagOf, token } from './sipBuild.ts';
import { SipDialog, type SipCore } from './SipDialog.ts';
import type { SipPeer } from './SipSockets.ts';
import type { SipTimers } from './transactions.ts';

/** What an inbound call needs to answer: responses in the INVITE's transaction, and ending its call. */
export interface InboundHost extends SipCore {
  readonly timers: SipTimers;
  respond(req: SipRequest, from: SipPeer, status: number, opts?: { toTag?: string; body?: string; headers?: Array<[string, string]> }): void;
  /** Ends the engine's call (the peer hung up, cancelled, or never acknowledged). */
  endCall(callId: string, detail: string): void;
  forget(call: InboundCall): void;
}

/**
 * One call a peer placed with INVITE (RFC 3261 §13.3, UAS side): answered
 * 100, 180, then 200 with our SDP answer once the engine's call exists; the
 * 2xx retransmitted (T1 doubling to T2, §13.3.1.4) until the ACK, and the call
 * ended with a BYE when none comes within 64·T1. Then BYE from either side,
 * CANCEL before the answer (§9.2: 487 to the INVITE), and re-INVITE with a new
 * offer on the same codec and address (hold: its direction mirrored, §6.1 of
 * RFC 3264); a change of codec or address gets 488.
 */
export class InboundCall {
  readonly dialog: SipDialog;
  readonly choice: MediaChoice;
  readonly localTag = token();
  /** The engine's call id, once made. */
  callId: string | undefined;
  state: 'proceeding' | 'answered' | 'confirmed' | 'ended' = 'proceeding';
  #local = { address: '', port: 0 };
  #sdpVersion = 1;
  readonly #sessionId = Math.floor(Math.random() * 2 ** 31);
  #retransmit: NodeJS.Timeout | undefined;
  /** Ends the engine's call for a reason of the peer's (its BYE, CANCEL): the call transport's `ctx.end`. */
  #peerEnded: ((detail: string) => void) | undefined;

  /** Throws SdpError for an offer we cannot take (a 488). */
  constructor(
    readonly invite: SipRequest,
    readonly from: SipPeer,
    private readonly host: InboundHost,
  ) {
    if (invite.body.length === 0) throw new SdpError('an INVITE without an SDP offer (late offer is not supported)');
    this.choice = readSdp(invite.body.toString('utf8'));
    const to = header(invite.headers, 'to')!;
    const target = SipDialog.targetOf(header(invite.headers, 'contact')) ?? parseNameAddr(header(invite.headers, 'from')!)!.uri;
    // §12.1.1: the route set is the Record-Route list in order.
    this.dialog = new SipDialog(invite.callId, this.localTag, `${to};tag=${this.localTag}`, header(invite.headers, 'from')!, target, headerLines(invite.headers, 'record-route'), from, 0);
    this.dialog.remoteTag = tagOf(header(invite.headers, 'from'));
    this.dialog.remoteCseq = invite.cseq;
  }

  /** The request-URI's user (the agent, unless `sip.routes` maps it). */
  get user(): string | undefined {
    return parseSipUri(this.invite.uri)?.user;
  }

  /** What the call shows of the SIP side: From, To, Call-ID and the X- headers. */
  info(): Record<string, unknown> {
    const headers: Record<string, string> = {};
    for (const [n, v] of this.invite.headers) if (n.startsWith('x-')) headers[n] = v;
    return { callId: this.invite.callId, from: header(this.invite.headers, 'from'), to: header(this.invite.headers, 'to'), headers };
  }

  /** The engine's call is being made: the peer's BYE or CANCEL ends it with the reason `peer`. */
  bind(peerEnded: (detail: string) => void): void {
    this.#peerEnded = peerEnded;
  }

  rtpRequest(): Record<string, unknown> {
    return rtpRequestOf(this.choice, this.from.address);
  }

  ring(): void {
    this.host.respond(this.invite, this.from, 180, { toTag: this.localTag });
  }

  /** The engine's call is up on `localPort`: 200 with the answer, retransmitted until the ACK (§13.3.1.4). */
  answer(callId: string, address: string, localPort: number): void {
    this.callId = callId;
    if (this.state !== 'proceeding') {
      this.host.endCall(callId, 'cancelled before the answer');
      return;
    }
    this.state = 'answered';
    this.#local = { address, port: localPort };
    const answer = writeAnswer(this.choice, address, localPort, this.#sessionId, this.#sdpVersion);
    const send = (): void => this.host.respond(this.invite, this.from, 200, this.#okOpts(answer));
    send();
    const { t1Ms, t2Ms } = this.host.timers;
    let interval = t1Ms;
    const started = Date.now();
    const again = (): void => {
      if (this.state !== 'answered') return;
      if (Date.now() - started >= 64 * t1Ms) {
        this.hangup('no ACK for the 200 (timer H)');
        return;
      }
      if (this.from.proto === 'UDP') send();
      interval = Math.min(2 * interval, t2Ms);
      this.#retransmit = setTimeout(again, interval);
    };
    this.#retransmit = setTimeout(again, interval);
  }

  #okOpts(body: string): { toTag: string; body: string; headers: Array<[string, string]> } {
    const headers: Array<[string, string]> = [['contact', `<sip:switchboard@${this.host.local(this.from.proto).address}:${this.host.local(this.from.proto).port}>`], ['allow', ALLOW]];
    for (const rr of headerLines(this.invite.headers, 'record-route')) headers.push(['record-route', rr]);
    return { toTag: this.localTag, body, headers };
  }

  /** A request within the dialog (To tag ours). */
  inDialog(req: SipRequest, from: SipPeer): void {
    if (req.method !== 'ACK' && req.cseq <= this.dialog.remoteCseq && req.method !== 'CANCEL') {
      this.host.respond(req, from, 500, { headers: [['retry-after', '1']] }); // §12.2.2: out of order
      return;
    }
    if (req.method !== 'ACK') this.dialog.remoteCseq = req.cseq;
    switch (req.method) {
      case 'ACK':
        if (this.state === 'answered') this.state = 'confirmed';
        clearTimeout(this.#retransmit);
        return;
      case 'BYE':
        this.host.respond(req, from, 200);
        this.#ended(`the peer hung up (BYE)`);
        return;
      case 'INVITE':
        this.#reinvite(req, from);
        return;
      case 'INFO':
      case 'OPTIONS':
        this.host.respond(req, from, 200, { headers: [['allow', ALLOW]] });
        return;
      default:
        this.host.respond(req, from, 405, { headers: [['allow', ALLOW]] });
    }
  }

  /** CANCEL of the INVITE (§9.2): only before the final response. */
  cancel(): void {
    if (this.state !== 'proceeding') return;
    this.host.respond(this.invite, this.from, 487, { toTag: this.localTag });
    this.#ended('the peer cancelled before the answer');
  }

  /** A failure before the answer: the final response, and the call is gone. */
  reject(status: number, headers: Array<[string, string]> = []): void {
    if (this.state !== 'proceeding') return;
    this.host.respond(this.invite, this.from, status, { toTag: this.localTag, headers });
    this.state = 'ended';
    this.host.forget(this);
  }

  #reinvite(req: SipRequest, from: SipPeer): void {
    let offer: MediaChoice;
    try {
      offer = readSdp(req.body.toString('utf8'));
    } catch (err) {
      this.host.respond(req, from, 488, { headers: [['warning', `399 switchboard "${(err as Error).message.slice(0, 100)}"`]] });
      return;
    }
    if (offer.codec !== this.choice.codec || offer.remote !== this.choice.remote || (offer.srtp === undefined) !== (this.choice.srtp === undefined)) {
      this.host.respond(req, from, 488, { headers: [['warning', '399 switchboard "a change of codec or address within a call is not supported"']] });
      return;
    }
    const answer = writeAnswer({ ...offer, srtp: this.choice.srtp }, this.#local.address, this.#local.port, this.#sessionId, ++this.#sdpVersion);
    this.host.respond(req, from, 200, this.#okOpts(answer));
  }

  /** Our side hangs up (the API, the RTP leg, the drain): a BYE once the call is answered. */
  hangup(detail: string): void {
    if (this.state === 'ended') return;
    const answered = this.state !== 'proceeding';
    if (!answered) this.host.respond(this.invite, this.from, 487, { toTag: this.localTag });
    this.state = 'ended';
    clearTimeout(this.#retransmit);
    if (answered) this.dialog.send(this.host, 'BYE', () => undefined);
    if (this.callId !== undefined) this.host.endCall(this.callId, detail);
    this.host.forget(this);
  }

  #ended(detail: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.#retransmit);
    if (this.#peerEnded !== undefined) this.#peerEnded(detail);
    else if (this.callId !== undefined) this.host.endCall(this.callId, detail);
    this.host.forget(this);
  }
}
