import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, isIPv6, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { headerEnd, SIP_MAX_MESSAGE_BYTES } from '../../wire/sipMessage.ts';

/**
 * SIP's transports (RFC 3261 §18): one UDP socket and a TCP listener on
 * `port`, and a TLS listener on `tlsPort` when keys are given (§26.2,
 * `sips:` over TLS). A stream is cut into messages by Content-Length (§18.3);
 * a stream that sends more than a message's worth without one, or a
 * Content-Length beyond the limit, is closed. Messages go up with where they
 * came from, so a response returns the way its request came (§18.2.2).
 */

export type SipProto = 'UDP' | 'TCP' | 'TLS';

/** Where a message came from or goes to; `conn` is the stream it came on (responses go back on it). */
export interface SipPeer {
  proto: SipProto;
  address: string;
  port: number;
  conn?: Socket;
}

export interface SipSocketsOptions {
  host: string;
  port: number;
  tlsPort?: number;
  tls?: Pick<TlsOptions, 'cert' | 'key'>;
  onMessage(buf: Buffer, from: SipPeer): void;
  /** A stream broke the framing (counted as bad input by the stack). */
  onBadStream(from: SipPeer, reason: string): void;
}

/** Idle streams are closed after this (RFC 5626 keep-alives are CRLFs, which count as traffic). */
const STREAM_IDLE_MS = 300_000;
/** Streams at once, all peers together. */
const MAX_STREAMS = 1024;

export class SipSockets {
  readonly #opts: SipSocketsOptions;
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  #tlsServer: Server | undefined;
  readonly #streams = new Set<Socket>();

  constructor(opts: SipSocketsOptions) {
    this.#opts = opts;
  }

  /** Binds; resolves with the ports bound (port 0 picks free ones: tests). */
  async listen(): Promise<{ port: number; tlsPort: number | undefined }> {
    const { host } = this.#opts;
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.#udp = udp;
    udp.on('message', (buf, rinfo) => this.#opts.onMessage(buf, { proto: 'UDP', address: rinfo.address, port: rinfo.port }));
    udp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ port: this.#opts.port, address: host, exclusive: true }, () => resolve());
    });
    const port = udp.address().port;
    // TCP shares the UDP port number (§18: both on 5060).
    this.#tcp = createServer((s) => this.#accept(s, 'TCP'));
    await listenOn(this.#tcp, host, port);
    let tlsPort: number | undefined;
    if (this.#opts.tls !== undefined && this.#opts.tlsPort !== undefined) {
      this.#tlsServer = createTlsServer({ ...this.#opts.tls }, (s) => this.#accept(s, 'TLS'));
      this.#tlsServer.on('tlsClientError', () => undefined);
      await listenOn(this.#tlsServer, host, this.#opts.tlsPort);
      tlsPort = (this.#tlsServer.address() as { port: number }).port;
    }
    return { port, tlsPort };
  }

  /** Sends a message; over a stream, the peer's own when open, else a new TCP connection (TLS out is not made). */
  send(to: SipPeer, buf: Buffer): void {
    if (to.proto === 'UDP') {
      this.#udp?.send(buf, to.port, to.address);
      return;
    }
    let conn = to.conn;
    if (conn === undefined || conn.destroyed) {
      if (to.proto !== 'TCP') return;
      conn = connect({ host: to.address, port: to.port });
      to.conn = conn;
      this.#accept(conn, 'TCP');
    }
    conn.write(buf);
  }

  close(): void {
    this.#udp?.close();
    this.#tcp?.close();
    this.#tlsServer?.close();
    for (const s of this.#streams) s.destroy();
    this.#streams.clear();
  }

  #accept(socket: Socket, proto: SipProto): void {
    socket.on('error', () => undefined);
    if (this.#streams.size >= MAX_STREAMS) {
      socket.destroy();
      return;
    }
    this.#streams.add(socket);
    socket.setTimeout(STREAM_IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.#streams.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const from: SipPeer = { proto, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, conn: socket };
      for (;;) {
        const cut = frame(pending);
        if (cut === 'bad') {
          this.#opts.onBadStream(from, 'stream framing');
          socket.destroy();
          return;
        }
        if (cut === undefined) return;
        pending = pending.subarray(cut.length);
        if (cut.message !== undefined) this.#opts.onMessage(cut.message, from);
      }
    });
  }
}

/** One message off the front of a stream: its bytes, or CRLF keep-alives to skip, undefined for more, `bad` to close. */
function frame(buf: Buffer): { length: number; message?: Buffer } | 'bad' | undefined {
  let skip = 0;
  while (skip < buf.length && (buf[skip] === 0x0d || buf[skip] === 0x0a)) skip++;
  if (skip > 0) return { length: skip };
  if (buf.length === 0) return undefined;
  const end = headerEnd(buf);
  if (end.at < 0) return buf.length > SIP_MAX_MESSAGE_BYTES ? 'bad' : undefined;
  const head = buf.subarray(0, end.at).toString('latin1');
  // The header section is cut before its last line's LF: that line may end in a bare CR.
  const m = /\r?\n(?:content-length|l)[ \t]*:[ \t]*(\d{1,10})[ \t]*\r?(?:\n|$)/i.exec(head);
  // §18.3: Content-Length is mandatory on a stream.
  if (m === null) return 'bad';
  const total = end.at + end.sep + Number(m[1]);
  if (total > SIP_MAX_MESSAGE_BYTES) return 'bad';
  if (buf.length < total) return undefined;
  return { length: total, message: buf.subarray(0, total) };
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve());
  });
}
