import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parse as parseSdp } from 'sdp-transform';
import { header, parseSipMessage, serializeSip, type SipMessage, type SipResponse } from '../wire/sipMessage.ts';
import type { Caller, CallerContext } from './Caller.ts';
import { CallRefusedError } from './daemonHttp.ts';
import { CODEC_NAME, RtpCaller } from './RtpCaller.ts';

/**
 * A caller that dials the daemon over SIP, as a PBX or trunk would (RFC 3261
 * UAC over UDP): INVITE `sip:<agent>@127.0.0.1` with an SDP offer of the
 * run's codec at its RTP socket, the INVITE retransmitted on timer A (T1
 * doubling) until a response; ACK of the 200, whose SDP answer names the
 * daemon's RTP port; BYE to hang up (timer E until its 200). A 503 is a
 * refusal; a BYE from the daemon ends the call early. The media is the RTP
 * caller's, unchanged.
 */

/** RFC 3261 Table 4: T1, and a transaction's 64·T1 limit. */
const T1_MS = 500;
const TRANSACTION_MS = 64 * T1_MS;
/** Payload type offered for Opus (dynamic, RFC 7587; the daemon echoes the offer's). */
const OPUS_PT = 111;

export function createSipCaller(ctx: CallerContext): Caller {
  return new SipCaller(ctx);
}

class SipCaller extends RtpCaller {
  override readonly transport = 'sip' as const;
  #sip: Socket | undefined;
  #callId = '';
  #fromTag = '';
  #to = '';
  #inbox: Array<(m: SipMessage) => void> = [];

  protected override async setUp(rtpPort: number): Promise<{ callId: string; daemonPort: number }> {
    const { run } = this.ctx;
    if (run.sipPort === undefined) throw new Error('no SIP port for the daemon (--sip-port)');
    const sip = createSocket('udp4');
    this.#sip = sip;
    sip.on('error', () => undefined);
    sip.on('message', (buf) => this.#receive(buf));
    sip.bind(0, '127.0.0.1');
    await once(sip, 'listening');
    this.#callId = `${randomBytes(8).toString('hex')}@load`;
    this.#fromTag = randomBytes(4).toString('hex');
    this.#to = `<sip:${run.agent}@127.0.0.1:${run.sipPort}>`;
    const res = await this.#transaction('INVITE', 1, this.#offer(rtpPort), (m) => m.status >= 200);
    if (res.status === 503 || res.status === 486) throw new CallRefusedError(`SIP ${res.status} ${res.reason}`);
    if (res.status >= 300) throw new Error(`the daemon did not answer the INVITE [SIP ${res.status} ${res.reason}]`);
    this.#to = header(res.headers, 'to')!;
    // The ACK of a 2xx is a transaction of its own (§13.2.2.4): a new branch, the INVITE's CSeq number.
    this.#send('ACK', 1, newBranch());
    const port = parseSdp(res.body.toString('utf8')).media.find((m) => m.type === 'audio')?.port;
    if (typeof port !== 'number' || !(port > 0 && port < 65536)) throw new Error('the 200 carried no audio port in its SDP answer');
    return { callId: this.#callId, daemonPort: port };
  }

  protected override async hangUp(): Promise<void> {
    try {
      const res = await this.#transaction('BYE', 2, '', (m) => m.status >= 200);
      if (res.status !== 200 && res.status !== 481) throw new Error(`hang-up failed [SIP ${res.status} ${res.reason}]`);
    } finally {
      this.#sip?.close();
      this.#sip = undefined;
    }
  }

  #offer(rtpPort: number): string {
    const name = CODEC_NAME[this.ctx.run.codec];
    const pt = name === 'opus' ? OPUS_PT : this.codec.format.payloadType;
    const rtpmap = name === 'opus' ? `a=rtpmap:${pt} opus/48000/2` : `a=rtpmap:${pt} ${name}/8000`;
    return ['v=0', `o=load ${this.index} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${rtpPort} RTP/AVP ${pt}`, rtpmap, 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
  }

  /** A request and its retransmissions (timers A/E, §17.1.1.2, §17.1.2.2) until a response that `done` takes. */
  async #transaction(method: string, cseq: number, body: string, done: (m: SipResponse) => boolean): Promise<SipResponse> {
    const branch = newBranch();
    const started = Date.now();
    let interval = T1_MS;
    let provisional = false;
    this.#send(method, cseq, branch, body);
    for (;;) {
      const m = await this.#next((x) => x.kind === 'response' && x.cseq === cseq && x.cseqMethod === method, interval);
      if (m !== undefined && m.kind === 'response') {
        if (done(m)) return m;
        provisional = true;
        continue;
      }
      if (Date.now() - started >= TRANSACTION_MS) throw new Error(`no final response to the ${method} (timer ${method === 'INVITE' ? 'B' : 'F'})`);
      // An INVITE's provisional response stops its retransmissions (§17.1.1.2).
      if (!(method === 'INVITE' && provisional)) this.#send(method, cseq, branch, body);
      interval = method === 'INVITE' ? 2 * interval : Math.min(2 * interval, 8 * T1_MS);
    }
  }

  #send(method: string, cseq: number, branch: string, body = ''): void {
    const sip = this.#sip;
    const port = this.ctx.run.sipPort;
    if (sip === undefined || port === undefined) return;
    const { port: localPort } = sip.address();
    const msg = serializeSip(
      `${method} sip:${this.ctx.run.agent}@127.0.0.1:${port} SIP/2.0`,
      [
        ['via', `SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch};rport`],
        ['max-forwards', '70'],
        ['from', `<sip:load${this.index}@127.0.0.1>;tag=${this.#fromTag}`],
        ['to', this.#to],
        ['call-id', this.#callId],
        ['cseq', `${cseq} ${method}`],
        ['contact', `<sip:load${this.index}@127.0.0.1:${localPort}>`],
        ...(body.length > 0 ? ([['content-type', 'application/sdp']] as Array<[string, string]>) : []),
      ],
      body,
    );
    sip.send(msg, port, '127.0.0.1');
  }

  #receive(buf: Buffer): void {
    const r = parseSipMessage(buf);
    if (r.code !== 0) return;
    const m = r.message;
    if (m.kind === 'request') {
      // The daemon hangs up (its agent ended, the drain): 200, and the call is over (§15.1.2).
      if (m.method === 'BYE' && m.callId === this.#callId) {
        this.#reply(m);
        this.endedEarly ??= { refused: false, reason: 'the daemon sent BYE' };
      }
      return;
    }
    for (const w of this.#inbox.splice(0)) w(m);
  }

  /** 200 to a request: its Via, From, To, Call-ID and CSeq copied (§8.2.6.2). */
  #reply(req: SipMessage): void {
    const sip = this.#sip;
    const port = this.ctx.run.sipPort;
    if (sip === undefined || port === undefined) return;
    const copy = (n: string): Array<[string, string]> => req.headers.filter(([k]) => k === n);
    const headers: Array<[string, string]> = [...copy('via'), ...copy('from'), ...copy('to'), ...copy('call-id'), ...copy('cseq')];
    sip.send(serializeSip('SIP/2.0 200 OK', headers), port, '127.0.0.1');
  }

  /** The next message that matches within `ms`, or undefined. */
  #next(match: (m: SipMessage) => boolean, ms: number): Promise<SipMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#inbox = this.#inbox.filter((w) => w !== take);
        resolve(undefined);
      }, ms);
      const take = (m: SipMessage): void => {
        if (!match(m)) {
          this.#inbox.push(take);
          return;
        }
        clearTimeout(timer);
        resolve(m);
      };
      this.#inbox.push(take);
    });
  }
}

function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

