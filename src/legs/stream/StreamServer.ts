import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { epochMs } from '../../frames/epochClock.ts';
import { RateLimitedLog } from '../../log.ts';
import type { Runtime } from '../../supervisor/Runtime.ts';
import { closeWebSocket } from '../../server/wsClose.ts';
import { CLOSE_ANSWER_MS, PUMP_INTERVAL_MS, STREAM_START_TIMEOUT_MS } from '../twilio/TwilioMediaServer.ts';
import { StreamSession } from './StreamSession.ts';

/** The route and the subprotocol (DESIGN: "The raw audio stream protocol"). */
export const STREAM_PATH = '/v1/stream';
export const STREAM_SUBPROTOCOL = 'audio-stream-v1';

export interface StreamServerOptions {
  runtime: Runtime;
  log: Logger;
  /** A ping goes out this often; two periods without a pong or a message and the client is gone. */
  pingIntervalMs: number;
  /** Longer messages are refused by the WebSocket layer (close 1009), counted. */
  maxMessageBytes: number;
  /** How long a socket may go without a valid `start` (STREAM_START_TIMEOUT_MS unless set). */
  startTimeoutMs?: number;
  now?: () => number;
}

interface Live {
  ws: WebSocket;
  /** Last sign of life: a message or a pong. */
  aliveMs: number;
}

/**
 * `WS /v1/stream`: the raw audio stream gateway. The HTTP server has already
 * checked the control token and the per-address cap; this takes the upgrade
 * (subprotocol `audio-stream-v1` required), runs one StreamSession per
 * socket, makes the call on `start` (closing with 1013 when the daemon is
 * full or draining), pumps every session's outbound messages on one timer,
 * and pings every socket so a peer that is gone is noticed. A fault in one
 * stream's handling ends that stream only.
 */
export class StreamServer {
  readonly #o: StreamServerOptions;
  readonly #wss: WebSocketServer;
  readonly #live = new Map<StreamSession, Live>();
  readonly #badLog: RateLimitedLog;
  readonly #now: () => number;
  #pump: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;

  constructor(opts: StreamServerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#badLog = new RateLimitedLog(opts.log);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(STREAM_SUBPROTOCOL) ? STREAM_SUBPROTOCOL : false),
    });
  }

  get sessions(): number {
    return this.#live.size;
  }

  /** Whether an upgrade request offers the subprotocol (checked before the handshake, so a refusal is a plain 400). */
  static offersSubprotocol(req: IncomingMessage): boolean {
    const header = req.headers['sec-websocket-protocol'];
    return typeof header === 'string' && header.split(',').some((p) => p.trim() === STREAM_SUBPROTOCOL);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  async close(): Promise<void> {
    clearInterval(this.#pump);
    clearInterval(this.#ping);
    this.#pump = this.#ping = undefined;
    for (const [session, { ws }] of this.#live) {
      session.end('the server is closing');
      closeWebSocket(ws, 1001, 'server closing');
    }
    this.#badLog.flush();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    const session = new StreamSession(ws, (reason, detail) => this.#bad(reason, detail), this.#now());
    const live: Live = { ws, aliveMs: this.#now() };
    this.#live.set(session, live);
    const startTimeoutMs = this.#o.startTimeoutMs ?? STREAM_START_TIMEOUT_MS;
    const startTimer = setTimeout(() => this.#guard(session, ws, 'start-timeout', () => this.#noStart(session, ws, startTimeoutMs)), startTimeoutMs);
    startTimer.unref();
    session.onStart = (start) => {
      this.#o.runtime
        .createCall({
          transport: 'stream',
          session,
          ...(start.agent !== undefined ? { agent: start.agent } : {}),
          ...(start.conference !== undefined ? { conference: start.conference } : {}),
          ...(start.record !== undefined ? { record: start.record } : {}),
        })
        .catch((err: unknown) => {
          this.#o.log.warn({ err }, 'stream: cannot take the call');
          const status = (err as { status?: number }).status;
          session.end('the call could not be made');
          // 1013: try again later (draining, full); 1008 a refused request (a bad agent); 1011 otherwise.
          const code = status === 503 ? 1013 : status !== undefined && status >= 400 && status < 500 ? 1008 : 1011;
          closeWebSocket(ws, code, String((err as Error).message));
        })
        .catch((err: unknown) => this.#failed(session, ws, 'start', err));
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      live.aliveMs = this.#now();
      this.#guard(session, ws, 'message', () => this.#onMessage(session, ws, data, isBinary));
    });
    ws.on('pong', () => {
      live.aliveMs = this.#now();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself (1009 past maxPayload, 1002 a protocol error); counted here.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#bad('oversize-message', `a message over ${this.#o.maxMessageBytes} bytes (stream.maxMessageBytes)`);
      else if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) this.#bad('websocket-protocol', err.message);
      else this.#o.log.debug({ err }, 'stream: socket error');
    });
    ws.on('close', () => {
      clearTimeout(startTimer);
      this.#live.delete(session);
      if (this.#live.size === 0) this.#stopTimers();
      this.#guard(session, ws, 'close', () => session.end('the stream socket closed'));
    });
    this.#startTimers();
  }

  #onMessage(session: StreamSession, ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (!isBinary) return session.onText(data.toString(), this.#now());
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const fatal = session.onBinary(bytes, this.#now(), epochMs());
    if (fatal === undefined) return;
    session.end(fatal.reason);
    closeWebSocket(ws, fatal.code, fatal.reason);
    this.#cutLater(ws);
  }

  #noStart(session: StreamSession, ws: WebSocket, timeoutMs: number): void {
    if (session.start !== undefined) return;
    this.#bad('no-start', `no valid start message within ${timeoutMs} ms of the socket opening`);
    session.end('no start message');
    closeWebSocket(ws, 1008, `no valid start within ${timeoutMs} ms`);
    this.#cutLater(ws);
  }

  /** A peer that does not answer our close frame is cut (ws itself would wait 30 s). */
  #cutLater(ws: WebSocket): void {
    const cut = setTimeout(() => ws.terminate(), CLOSE_ANSWER_MS);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  }

  /** Runs one stream's handler; a fault ends that stream's call, logged and counted, never the process. */
  #guard(session: StreamSession, ws: WebSocket, stage: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#failed(session, ws, stage, err);
    }
  }

  #failed(session: StreamSession, ws: WebSocket, stage: string, err: unknown): void {
    this.#o.runtime.countCallError('stream', stage);
    this.#o.log.error({ err, stage }, 'stream: handling a stream failed; ending its call');
    try {
      session.end('internal error');
    } finally {
      closeWebSocket(ws, 1011, 'internal error');
    }
  }

  #startTimers(): void {
    if (this.#pump !== undefined) return;
    // After the I/O phase, so mark echoes already in a socket are read before a `clear` goes out (as TwilioMediaServer).
    this.#pump = setInterval(() => setImmediate(() => this.#tick()), PUMP_INTERVAL_MS);
    this.#pump.unref();
    this.#ping = setInterval(() => this.#pingAll(), this.#o.pingIntervalMs);
    this.#ping.unref();
  }

  #stopTimers(): void {
    clearInterval(this.#pump);
    clearInterval(this.#ping);
    this.#pump = this.#ping = undefined;
  }

  #tick(): void {
    const now = this.#now();
    for (const [session, { ws }] of this.#live) this.#guard(session, ws, 'pump', () => session.pump(now));
  }

  #pingAll(): void {
    const now = this.#now();
    for (const [session, live] of this.#live) {
      const { ws } = live;
      if (now - live.aliveMs > 2 * this.#o.pingIntervalMs) {
        this.#o.log.warn({ callId: session.start === undefined ? undefined : 'started' }, 'stream: no pong or message for two ping periods; closing it');
        session.end('the client stopped answering pings');
        ws.terminate();
        continue;
      }
      if (ws.readyState === ws.OPEN) ws.ping();
    }
  }

  #bad(reason: string, detail: string): void {
    this.#o.runtime.countBadInput('stream', reason);
    this.#badLog.warn(`stream:${reason}`, { reason }, `stream: bad input: ${detail}`);
  }
}
