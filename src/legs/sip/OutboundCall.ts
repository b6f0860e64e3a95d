import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportContext } from '../../calls/transports.ts';
import type { RtpTransport } from '../rtp/rtpTransport.ts';
import { answerChallenge } from '../../wire/sipDigest.ts';
import { header, headerLines, type SipResponse } from '../../wire/sipMessage.ts';
import type { SipUri } from '../../wire/sipHeaders.ts';
import { readSdp, rtpRequestOf, SdpError, writeOffer } from './sdpNegotiation.ts';
import { tagOf, token, newBranch } from './sipBuild.ts';
import { SipDialog, type SipCore } from './SipDialog.ts';
import type { SipPeer } from './SipSockets.ts';
import type { ClientTransaction } from './transactions.ts';

export interface OutboundOptions {
  to: string;
  uri: SipUri;
  from: string | undefined;
  agent: unknown;
  headers: Array<[string, string]>;
  trunk: { username: string; password: string } | undefined;
}

/**
 * A call we place with INVITE (RFC 3261 §13.2, UAC side). The offer names a
 * port pair reserved before the answer; progress goes into the call's events
 * (`sip.trying`, `sip.ringing`, `sip.answered`, `sip.busy`, `sip.failed` with
 * the code); on the 2xx we ACK (§13.2.2.4) and make the RTP leg on that pair
 * with the answer's codec. One 401/407 is answered with the trunk's
 * credentials (§22.2). Hanging up sends CANCEL before the answer and BYE after.
 */
export class OutboundCall {
  state: 'calling' | 'ringing' | 'answered' | 'ended' = 'calling';
  readonly #dialog: SipDialog;
  #invite: ClientTransaction | undefined;
  #inviteCseq = 1;
  #inviteBranch = newBranch();
  #portHandedOn = false;
  #authTried = false;
  #offer = '';

  constructor(
    private readonly core: SipCore,
    private readonly rtp: RtpTransport,
    private readonly ctx: TransportContext,
    private readonly opts: OutboundOptions,
    readonly localPort: number,
    private readonly peer: SipPeer,
  ) {
    const tag = token();
    const local = core.local(peer.proto);
    const from = opts.from ?? `<sip:switchboard@${local.address}>`;
    this.#dialog = new SipDialog(`${token(12)}@${local.address}`, tag, `${from};tag=${tag}`, `<${opts.to}>`, opts.to, [], peer, 1);
  }

  /** Resolves the URI's host (once, at set-up) into where the INVITE goes. */
  static async peerOf(uri: SipUri): Promise<SipPeer> {
    const proto = uri.params.get('transport')?.toLowerCase() === 'tcp' ? 'TCP' : 'UDP';
    const address = isIP(uri.host) !== 0 ? uri.host : (await lookup(uri.host)).address;
    return { proto, address, port: uri.port ?? 5060 };
  }

  get sipCallId(): string {
    return this.#dialog.callId;
  }

  start(): void {
    this.#offer = writeOffer(this.rtp.host === '0.0.0.0' || this.rtp.host === '::' ? this.core.local(this.peer.proto).address : this.rtp.host, this.localPort, Math.floor(Math.random() * 2 ** 31));
    this.#send([]);
  }

  #send(auth: Array<[string, string]>): void {
    const d = this.#dialog;
    this.#invite = this.core.request(
      this.peer,
      { method: 'INVITE', uri: this.opts.to, from: d.localUri, to: d.remoteUri, callId: d.callId, cseq: this.#inviteCseq, contact: true, headers: [...this.opts.headers, ...auth], body: this.#offer },
      (res) => this.#onResponse(res),
      this.#inviteBranch,
    );
  }

  #onResponse(res: SipResponse | 'timeout'): void {
    if (res === 'timeout') return this.#failed(408, 'no final response (timer B)');
    if (res.status < 200) {
      if (res.status === 180 || res.status === 183) {
        if (this.state === 'calling') this.ctx.emit('sip.ringing', { code: res.status });
        if (this.state === 'calling') this.state = 'ringing';
      } else this.ctx.emit('sip.trying', { code: res.status });
      return;
    }
    if (res.status >= 300) {
      const challenge = header(res.headers, res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
      if ((res.status === 401 || res.status === 407) && challenge !== undefined && this.opts.trunk !== undefined && !this.#authTried && this.state !== 'ended') {
        this.#authTried = true;
        const value = answerChallenge(challenge, 'INVITE', this.opts.to, this.opts.trunk.username, this.opts.trunk.password, token());
        if (value !== undefined) {
          this.#inviteCseq++;
          this.#inviteBranch = newBranch();
          this.#send([[res.status === 401 ? 'authorization' : 'proxy-authorization', value]]);
          return;
        }
      }
      return this.#failed(res.status, res.reason);
    }
    if (this.state === 'answered') this.#dialog.ack(this.core, this.#inviteCseq); // a retransmitted 2xx
    else void this.#answered(res);
  }

  async #answered(res: SipResponse): Promise<void> {
    const d = this.#dialog;
    d.remoteUri = header(res.headers, 'to')!;
    d.remoteTag = tagOf(d.remoteUri);
    d.remoteTarget = SipDialog.targetOf(header(res.headers, 'contact')) ?? d.remoteTarget;
    d.routes = headerLines(res.headers, 'record-route').reverse(); // §12.1.2
    d.localCseq = this.#inviteCseq;
    d.ack(this.core, this.#inviteCseq);
    if (this.state === 'ended') {
      d.send(this.core, 'BYE', () => undefined); // hung up while it rang: §15, end it now
      return;
    }
    this.state = 'answered';
    try {
      const choice = readSdp(res.body.toString('utf8'));
      this.#portHandedOn = true;
      await this.rtp.createOnPair({ transport: 'rtp', ...(this.opts.agent !== undefined ? { agent: this.opts.agent } : {}), ...rtpRequestOf(choice, this.peer.address) }, this.ctx, this.localPort);
      this.ctx.emit('sip.answered', { code: res.status, codec: choice.codec, remote: choice.remote, localPort: this.localPort });
    } catch (err) {
      const why = err instanceof SdpError ? `the answer cannot be used: ${err.message}` : `the RTP leg could not be made: ${(err as Error).message}`;
      this.ctx.emit('sip.failed', { code: res.status, reason: why });
      this.ctx.end(why); // its release sends the BYE
    }
  }

  #failed(code: number, reason: string): void {
    if (this.state === 'ended') return;
    this.ctx.emit(code === 486 || code === 600 ? 'sip.busy' : 'sip.failed', { code, reason });
    this.ctx.end(`SIP ${code} ${reason}`);
  }

  /** The engine's call ended: CANCEL before the answer, BYE after; the pair back if no leg took it. */
  release(): void {
    const was = this.state;
    this.state = 'ended';
    if (!this.#portHandedOn) this.rtp.ports.release(this.localPort);
    if (was === 'answered') this.#dialog.send(this.core, 'BYE', () => undefined);
    else if (was !== 'ended' && this.#invite !== undefined && !this.#invite.done) {
      // §9.1: CANCEL carries the INVITE's branch, Call-ID, To, From and CSeq number.
      const d = this.#dialog;
      this.core.request(this.peer, { method: 'CANCEL', uri: this.opts.to, from: d.localUri, to: d.remoteUri, callId: d.callId, cseq: this.#inviteCseq }, () => undefined, `${this.#inviteBranch}`);
    }
  }
}
