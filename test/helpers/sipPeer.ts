import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from '../../src/wire/sipMessage.ts';

/** What a test peer sends: header lines as written, Content-Length added. */
export function sipText(startLine: string, headers: readonly string[], body = ''): string {
  return `${startLine}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** An SDP offer of one audio stream: `payloads` as listed, with the rtpmap lines given and a direction. */
export function sdpOffer(port: number, payloads = '0 101', direction = 'sendrecv', extra: readonly string[] = ['a=rtpmap:101 telephone-event/8000']): string {
  return ['v=0', 'o=peer 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${payloads}`, ...extra, 'a=ptime:20', `a=${direction}`, ''].join('\r\n');
}

/**
 * A SIP peer on a real UDP socket on 127.0.0.x: it sends raw text (so a test
 * writes exactly the bytes a PBX or an attacker would) and keeps every
 * message it receives, parsed, for `next`/`all` to find.
 */
export class SipPeer {
  readonly received: SipMessage[] = [];
  readonly raw: Buffer[] = [];
  #waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (buf) => {
      this.raw.push(buf);
      const r = parseSipMessage(buf);
      if (r.code === 0) this.received.push(r.message);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(address = '127.0.0.1'): Promise<SipPeer> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
    return new SipPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get address(): string {
    return this.socket.address().address;
  }

  send(port: number, text: string | Buffer): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1');
  }

  /** Messages received so far that match. */
  all(match: (m: SipMessage) => boolean): SipMessage[] {
    return this.received.filter(match);
  }

  /** The first received message that matches, waiting up to `ms` for it. */
  async next(match: (m: SipMessage) => boolean, ms = 3000): Promise<SipMessage> {
    const t0 = Date.now();
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      const left = ms - (Date.now() - t0);
      if (left <= 0) throw new Error(`no matching SIP message within ${ms} ms [got:${this.received.map((m) => (m.kind === 'response' ? `${m.status} ${m.cseqMethod}` : m.method)).join(', ')}]`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** A response with this status to this Call-ID (and method). */
export const isResponse =
  (status: number, callId: string, method?: string) =>
  (m: SipMessage): boolean =>
    m.kind === 'response' && m.status === status && m.callId === callId && (method === undefined || m.cseqMethod === method);
