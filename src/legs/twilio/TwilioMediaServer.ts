import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { epochMs } from '../../frames/epochClock.ts';
import { RateLimitedLog } from '../../log.ts';
import { TWILIO_MAX_MESSAGE_CHARS } from '../../wire/twilio.ts';
import { TWILIO_SIGNATURE_HEADER, validateUpgradeSignature } from '../../wire/twilioSignature.ts';
import { streamUrlFor, TWILIO_MEDIA_PATH } from '../../wire/twilioTwiml.ts';
import type { Runtime } from '../../supervisor/Runtime.ts';
import { MediaStreamSession } from './MediaStreamSession.ts';
import { closeWebSocket } from '../../server/wsClose.ts';
import { replyOnSocket } from '../../server/socketReply.ts';
import { quote } from '../../wire/text.ts';

/** How often queued outbound messages are sent: well inside a 20 ms frame. */
export const PUMP_INTERVAL_MS = 5;
/**
 * A frame past this is refused by the WebSocket layer itself (close 1009);
 * below it, text longer than TWILIO_MAX_MESSAGE_CHARS is dropped and counted.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * A stream must send a valid `start` this long after its socket opens,
 * whatever else it sends: Twilio sends `connected` and `start` at once, and a
 * socket that never starts makes no call yet holds a connection and a place
 * in the per-address cap. Such a socket is closed with 1008.
 */
export const STREAM_START_TIMEOUT_MS = 5_000;
/** A peer that does not answer our close frame is cut this much later (`ws` itself waits 30 s). */
export const CLOSE_ANSWER_MS = 1_000;

export interface TwilioMediaServerOptions {
  runtime: Runtime;
  log: Logger;
  /** With a token, every upgrade must carry a valid X-Twilio-Signature (else 403). */
  authToken?: string | undefined;
  /** The daemon's public https URL (what Twilio signs); else taken from the Host header. */
  publicUrl?: string | undefined;
  /** A stream silent this long (Twilio sends media every 20 ms) is dead: half-open TCP, a lost peer. */
  idleTimeoutMs: number;
  /** Record every call (config `recording.twilio`); a stream's `record` parameter ("true"/"false") decides for its call. */
  recordAll?: boolean | undefined;
  /** How long a socket may go without a valid `start` (STREAM_START_TIMEOUT_MS unless set). */
  startTimeoutMs?: number;
  now?: () => number;
}

/** The wss URL Twilio requested, as it signed it. */
export function signedStreamUrl(req: IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return streamUrlFor(publicUrl);
  return `wss://${req.headers.host ?? 'localhost'}${TWILIO_MEDIA_PATH}`;
}

/**
 * `WS /twilio/media`: accepts Twilio's Media Stream connections on the HTTP
 * server's upgrade, checks their signature, and runs one MediaStreamSession
 * each. A call is made when the stream's `start` arrives and ended when the
 * stream stops, the socket closes or goes quiet; one pump timer sends what
 * every call's leg queued.
 */
export class TwilioMediaServer {
  readonly #o: TwilioMediaServerOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #sockets = new Map<MediaStreamSession, WebSocket>();
  readonly #badLog: RateLimitedLog;
  readonly #now: () => number;
  #pump: NodeJS.Timeout | undefined;

  constructor(opts: TwilioMediaServerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#badLog = new RateLimitedLog(opts.log);
  }

  get sessions(): number {
    return this.#sockets.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const token = this.#o.authToken;
    if (token !== undefined) {
      const url = signedStreamUrl(req, this.#o.publicUrl);
      if (!validateUpgradeSignature(token, req.headers[TWILIO_SIGNATURE_HEADER], url)) {
        this.#bad('bad-signature', `upgrade without a valid X-Twilio-Signature for ${url}`);
        replyOnSocket(socket, 403, 'forbidden', 'X-Twilio-Signature does not match');
        return;
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  /** Closes every stream (their calls end) and stops the pump. */
  async close(): Promise<void> {
    clearInterval(this.#pump);
    this.#pump = undefined;
    for (const [session, ws] of this.#sockets) {
      session.end('the server is closing');
      closeWebSocket(ws, 1001, 'server closing');
    }
    this.#badLog.flush();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    const session = new MediaStreamSession(ws, (reason, detail) => this.#bad(reason, detail), this.#now());
    this.#sockets.set(session, ws);
    const startTimeoutMs = this.#o.startTimeoutMs ?? STREAM_START_TIMEOUT_MS;
    const startTimer = setTimeout(() => {
      try {
        this.#noStart(session, ws, startTimeoutMs);
      } catch (err) {
        this.#sessionFailed(session, ws, 'start-timeout', err);
      }
    }, startTimeoutMs);
    startTimer.unref();
    session.onStart = (start) => {
      const agent = start.customParameters['agent'];
      const record = recordParameter(start.customParameters['record'], this.#o.recordAll === true);
      this.#o.runtime
        .createCall({ transport: 'twilio', session, record, ...(agent !== undefined ? { agent } : {}) })
        .catch((err: unknown) => {
          this.#o.log.warn({ err, streamSid: quote(start.streamSid) }, 'twilio: cannot take the call');
          // 1013: try again later (draining, full, no worker); 1011: the call could not be made.
          const status = (err as { status?: number }).status;
          session.end('the call could not be made');
          closeWebSocket(ws, status === 503 ? 1013 : 1011, String((err as Error).message));
        })
        .catch((err: unknown) => this.#sessionFailed(session, ws, 'start', err));
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.#onMessage(session, data, isBinary);
      } catch (err) {
        this.#sessionFailed(session, ws, 'message', err);
      }
    });
    ws.on('error', (err) => this.#o.log.debug({ err }, 'twilio: socket error'));
    ws.on('close', () => {
      clearTimeout(startTimer);
      this.#sockets.delete(session);
      if (this.#sockets.size === 0) this.#stopPump();
      try {
        session.end('the stream socket closed');
      } catch (err) {
        this.#sessionFailed(session, ws, 'close', err);
      }
    });
    this.#startPump();
  }

  /** The start timer ran out: without a valid `start` by now (none, or one refused), the socket goes. */
  #noStart(session: MediaStreamSession, ws: WebSocket, timeoutMs: number): void {
    if (session.start !== undefined) return;
    this.#bad('no-start', `no valid start message within ${timeoutMs} ms of the socket opening`);
    session.end('no start message');
    closeWebSocket(ws, 1008, `no valid start within ${timeoutMs} ms`);
    const cut = setTimeout(() => ws.terminate(), CLOSE_ANSWER_MS);
    cut.unref();
    ws.once('close', () => clearTimeout(cut));
  }

  #onMessage(session: MediaStreamSession, data: RawData, isBinary: boolean): void {
    if (isBinary) return session.onBinary();
    const text = data.toString();
    if (text.length > TWILIO_MAX_MESSAGE_CHARS) {
      session.figures.messagesIn++;
      session.figures.badMessages++;
      this.#bad('oversized', `a ${text.length}-character message (limit ${TWILIO_MAX_MESSAGE_CHARS})`);
      return;
    }
    session.onText(text, this.#now(), epochMs());
  }

  /**
   * A fault in one stream's handling (a bug, an input nobody foresaw) ends
   * that stream's call, logged and counted; it never reaches the process,
   * where it would end every call.
   */
  #sessionFailed(session: MediaStreamSession, ws: WebSocket, stage: string, err: unknown): void {
    this.#o.runtime.countCallError('twilio', stage);
    this.#o.log.error({ err, stage, streamSid: quote(session.start?.streamSid) }, 'twilio: handling a stream failed; ending its call');
    try {
      session.end('internal error');
    } finally {
      closeWebSocket(ws, 1011, 'internal error');
    }
  }

  #startPump(): void {
    if (this.#pump !== undefined) return;
    // The pump runs after the event loop's I/O phase (setImmediate), so every
    // mark echo already in a socket is read before a `clear` goes out: an echo
    // read after the clear's fence counts as not heard (the fence carries the time since the last one instead).
    this.#pump = setInterval(() => setImmediate(() => this.#tick()), PUMP_INTERVAL_MS);
    this.#pump.unref();
  }

  #stopPump(): void {
    clearInterval(this.#pump);
    this.#pump = undefined;
  }

  #tick(): void {
    const now = this.#now();
    for (const [session, ws] of this.#sockets) {
      try {
        session.pump();
        if (now - session.lastMessageMs > this.#o.idleTimeoutMs) {
          this.#o.log.warn({ streamSid: quote(session.start?.streamSid) }, 'twilio: stream silent too long; closing it');
          session.end('the stream went silent');
          ws.terminate();
        }
      } catch (err) {
        this.#sessionFailed(session, ws, 'pump', err);
      }
    }
  }

  #bad(reason: string, detail: string): void {
    this.#o.runtime.countBadInput('twilio', reason);
    this.#badLog.warn(`twilio:${reason}`, { reason }, `twilio: bad input: ${detail}`);
  }
}

/** A stream's `record` custom parameter: "true" or "false"; absent, the configured default. Anything else is passed on for the call's 422. */
function recordParameter(value: string | undefined, recordAll: boolean): unknown {
  if (value === undefined) return recordAll;
  return value === 'true' ? true : value === 'false' ? false : value;
}
