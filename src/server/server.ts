import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { BAD_INPUT_WINDOW_MS, RateLimitedLog } from '../log.ts';
import { RequestError, type Runtime } from '../supervisor/Runtime.ts';
import { addressGroup, AddressLimit } from './AddressLimit.ts';
import { bearerCheck, readCheck, type Challenge } from './auth.ts';
import { assertSafeBind, readsGuarded } from './bindPolicy.ts';
import { callRoutes } from './calls.ts';
import { recordingRoutes } from './recordings.ts';
import { DashboardEvents, type DashboardEventsOptions, type StreamState } from './dashboard/events.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { drainRoutes } from './drain.ts';
import { CODE_OF_STATUS, HttpError } from './errors.ts';
import { faultRoutes } from './faults.ts';
import { healthRoutes } from './health.ts';
import { createHttpMetrics, metricsRoutes } from './metrics.ts';
import { errorReply, writeReply } from './respond.ts';
import { Router } from './router.ts';
import { replyOnSocket } from './socketReply.ts';
import { statusRoutes } from './status.ts';
import { twilioRoutes } from '../legs/twilio/webhook.ts';
import { TwilioMediaServer } from '../legs/twilio/TwilioMediaServer.ts';
import { TWILIO_MEDIA_PATH } from '../wire/twilioTwiml.ts';
import { STREAM_PATH, STREAM_SUBPROTOCOL, StreamServer } from '../legs/stream/StreamServer.ts';
import { clip } from '../wire/text.ts';

/**
 * The daemon's one HTTP port on the main thread: health, status, metrics,
 * the dashboard and the control API (`/v1/*`). Handlers translate requests
 * into Runtime calls; everything that goes wrong becomes a JSON error with a
 * 4xx or 5xx, never an exception that reaches the process.
 */

export { assertSafeBind, isLoopback } from './bindPolicy.ts';

/** At close, open keep-alive connections get this long to finish their request before they are cut. */
export const CLOSE_GRACE_MS = 2_000;
/**
 * node:http looks for requests past their headers or request timeout only
 * this often (its own default is 30 s, which would let a slow sender hold a
 * socket that much past the timeout): a quarter of the headers timeout, at
 * most a second.
 */
export const CONNECTIONS_CHECK_MAX_MS = 1_000;
/** Retry-After of a refused WebSocket: by then sockets that never started are gone (STREAM_START_TIMEOUT_MS). */
export const WEBSOCKET_RETRY_AFTER_S = 5;

/**
 * The routes that show the daemon's calls (callers' numbers, CallSids, DTMF
 * digits) and insides; guarded on a non-loopback bind or once a status token
 * is set (bindPolicy.ts). The dashboard asks with Basic, so a browser
 * prompts and then sends the same credentials with the page's own requests.
 */
const READ_ROUTES: ReadonlyMap<string, Challenge> = new Map([
  ['/status', 'Bearer'],
  ['/metrics', 'Bearer'],
  ['/dashboard', 'Basic'],
  // The page's own event stream: the browser sends the Basic credentials it was given for the page.
  ['/dashboard/events', 'Basic'],
]);

export interface HttpServerOptions {
  /** How long a Media Stream may go without `start` (STREAM_START_TIMEOUT_MS unless set; tests shorten it). */
  twilioStartTimeoutMs?: number;
  /** The same for a raw audio stream (WS /v1/stream). */
  streamStartTimeoutMs?: number;
  /** The dashboard's sampling period, stream cap and slow-reader bounds (events.ts has the defaults; tests shorten them). */
  dashboard?: DashboardEventsOptions;
}

export interface HttpServer {
  readonly server: Server;
  /** Binds config.host:config.port (0: any free port) and resolves with the port bound. */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets requests in flight end (up to CLOSE_GRACE_MS); safe to call twice. */
  close(): Promise<void>;
  /** The dashboard's open event streams: what each still has to send and how many updates it skipped. */
  dashboardStreams(): StreamState[];
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use (EADDRINUSE)',
  EACCES: 'permission denied (EACCES)',
  EADDRNOTAVAIL: 'no such address on this machine (EADDRNOTAVAIL)',
  ENOTFOUND: 'no such host (ENOTFOUND)',
};

/** Request targets as logged: a client chooses them, so their length is capped. */
const LOGGED_PATH_CHARS = 200;
const shorten = (target: string | undefined): string | undefined =>
  target === undefined || target.length <= LOGGED_PATH_CHARS ? target : `${target.slice(0, LOGGED_PATH_CHARS)}…`;

/** 4xx statuses a runtime RequestError may carry that mean the request itself was malformed. */
const MALFORMED_STATUSES = new Set([400, 413, 415, 422]);

export function createHttpServer(runtime: Runtime, config: Config, logger: Logger, options: HttpServerOptions = {}): HttpServer {
  assertSafeBind(config);
  const log = logger.child({ component: 'http' });
  const badInputLog = new RateLimitedLog(log);
  const metrics = createHttpMetrics(runtime.metrics);
  const authorize = config.controlToken === undefined ? undefined : bearerCheck(config.controlToken);
  const readTokens = [config.controlToken, config.statusToken].filter((t) => t !== undefined);
  const authorizeRead = readsGuarded(config) ? readCheck(readTokens) : undefined;
  const webSockets = new AddressLimit(config.http.maxWebSocketsPerIp);
  const dashboard = new DashboardEvents(runtime, logger.child({ component: 'dashboard' }), options.dashboard);
  const router = new Router([
    ...healthRoutes,
    ...statusRoutes,
    ...metricsRoutes,
    ...dashboardRoutes(dashboard),
    ...callRoutes,
    ...recordingRoutes,
    ...drainRoutes,
    ...twilioRoutes,
    ...(config.enableFaultInjection ? faultRoutes : []),
  ]);

  function countBadInput(req: IncomingMessage, code: string, message: string): void {
    runtime.countBadInput('http', code);
    badInputLog.warn(
      `http:${code}`,
      { method: req.method, path: shorten(req.url), remote: req.socket.remoteAddress, code },
      `bad request: ${message}`,
    );
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      log.error({ err, method: req.method, path: shorten(req.url) }, 'request failed after its response began');
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      if (err.options.badInput === true) countBadInput(req, err.code, err.message);
      if (err.options.closeConnection === true) res.setHeader('Connection', 'close');
      writeReply(res, errorReply(err.status, err.code, err.message, err.options.headers));
      return;
    }
    if (err instanceof RequestError) {
      const code = CODE_OF_STATUS[err.status] ?? 'request_error';
      if (MALFORMED_STATUSES.has(err.status)) countBadInput(req, code, err.message);
      const headers = err.retryAfterS !== undefined ? { 'Retry-After': String(err.retryAfterS) } : undefined;
      writeReply(res, errorReply(err.status, code, err.message, headers));
      return;
    }
    log.error({ err, method: req.method, path: shorten(req.url) }, 'request handler failed');
    writeReply(res, errorReply(500, 'internal_error', "internal error; the daemon's log has the details"));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    const method = req.method ?? '';
    let route = 'unmatched';
    res.once('close', () => metrics.observe(method, route, res.statusCode, (performance.now() - startedMs) / 1000));
    try {
      const target = req.url ?? '';
      if (!target.startsWith('/')) {
        throw new HttpError(400, 'bad_url', `request target "${target}" is not an absolute path`, { badInput: true });
      }
      const url = new URL(`http://localhost${target}`);
      if (authorize !== undefined && (url.pathname === '/v1' || url.pathname.startsWith('/v1/'))) authorize(req);
      const match = router.match(method, url.pathname);
      if (match.kind === 'none') {
        throw new HttpError(404, 'route_not_found', `no route for ${clip(method, 16)} ${clip(url.pathname)}`, { badInput: true });
      }
      if (match.kind === 'wrong-method') {
        const allow = match.allow.join(', ');
        throw new HttpError(405, 'method_not_allowed', `${clip(method, 16)} is not allowed on ${clip(url.pathname)}; allowed: ${allow}`, {
          headers: { Allow: allow },
          badInput: true,
        });
      }
      route = match.route.path;
      const challenge = READ_ROUTES.get(route);
      if (authorizeRead !== undefined && challenge !== undefined) authorizeRead(req, challenge);
      const reply = await match.route.handler({ req, res, url, params: match.params, runtime, config, log });
      writeReply(res, reply);
    } catch (err) {
      fail(req, res, err);
    }
  }

  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = config.http;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MAX_MS, Math.ceil(headersTimeoutMs / 4)),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'failed to answer a request');
        res.destroy();
      });
    },
  );

  // WebSockets count too: past this node:http closes new connections on accept ('drop').
  server.maxConnections = maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    runtime.countBadInput('http', 'connection_limit');
    badInputLog.warn('http:connection_limit', { remote: data?.remoteAddress, maxConnections }, `connection refused: ${maxConnections} open (http.maxConnections)`);
  });

  // Requests too broken for node:http to hand over (bad request line, oversized headers, timeouts).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const code = status === 408 ? 'request_timeout' : status === 431 ? 'headers_too_large' : 'malformed_http';
    runtime.countBadInput('http', code);
    badInputLog.warn(`http:${code}`, { code, remote: (socket as { remoteAddress?: string }).remoteAddress }, `bad request: ${err.message}`);
    replyOnSocket(socket, status, code, err.message);
  });

  // WebSockets: Twilio Media Streams. Any other upgrade is refused.
  const twilioMedia = new TwilioMediaServer({
    runtime,
    log: logger.child({ component: 'twilio' }),
    authToken: config.secrets.twilioAuthToken,
    publicUrl: config.twilio.publicUrl,
    idleTimeoutMs: config.twilio.idleTimeoutMs,
    recordAll: config.recording?.twilio,
    ...(options.twilioStartTimeoutMs !== undefined ? { startTimeoutMs: options.twilioStartTimeoutMs } : {}),
  });
  const rawStream = new StreamServer({
    runtime,
    log: logger.child({ component: 'stream' }),
    ...config.stream,
    ...(options.streamStartTimeoutMs !== undefined ? { startTimeoutMs: options.streamStartTimeoutMs } : {}),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if ((path !== TWILIO_MEDIA_PATH && path !== STREAM_PATH) || req.method !== 'GET') {
      runtime.countBadInput('http', 'route_not_found');
      replyOnSocket(socket, 404, 'route_not_found', `no WebSocket route at ${shorten(path)}`);
      return;
    }
    // Counted from the upgrade request to the socket's close, handshake included.
    const group = addressGroup(req.socket.remoteAddress);
    if (!webSockets.tryTake(group)) {
      runtime.countBadInput('http', 'websocket_limit');
      badInputLog.warn('http:websocket_limit', { remote: group, max: webSockets.max }, 'WebSocket refused: too many open from one address');
      replyOnSocket(socket, 429, 'too_many_websockets', `${webSockets.max} WebSockets are open from this address (http.maxWebSocketsPerIp)`, {
        'Retry-After': String(WEBSOCKET_RETRY_AFTER_S),
      });
      return;
    }
    socket.once('close', () => webSockets.release(group));
    if (path === TWILIO_MEDIA_PATH) return twilioMedia.handleUpgrade(req, socket, head);
    try {
      // The raw stream is part of the control API (`/v1/*`): the control token when one is set.
      authorize?.(req);
    } catch (err) {
      const e = err as HttpError;
      countBadInput(req, e.code, e.message);
      return replyOnSocket(socket, e.status, e.code, e.message, e.options.headers);
    }
    if (!StreamServer.offersSubprotocol(req)) {
      countBadInput(req, 'no_subprotocol', `upgrade without Sec-WebSocket-Protocol: ${STREAM_SUBPROTOCOL}`);
      return replyOnSocket(socket, 400, 'no_subprotocol', `${STREAM_PATH} needs Sec-WebSocket-Protocol: ${STREAM_SUBPROTOCOL}`);
    }
    rawStream.handleUpgrade(req, socket, head);
  });

  const sweep = setInterval(() => badInputLog.sweep(), BAD_INPUT_WINDOW_MS);
  sweep.unref();
  dashboard.start();
  let closing: Promise<void> | undefined;

  return {
    server,
    dashboardStreams: () => dashboard.streams(),
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          const why = (err.code !== undefined ? LISTEN_ERRORS[err.code] : undefined) ?? err.message;
          reject(new Error(`cannot listen on ${config.host}:${config.port}: ${why}`));
        };
        server.once('error', onError);
        server.listen(config.port, config.host, () => {
          server.off('error', onError);
          server.on('error', (err) => log.error({ err }, 'HTTP server error'));
          const { port } = server.address() as AddressInfo;
          resolve({ host: config.host, port });
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(sweep);
        // Event streams never end by themselves: ended here, they do not hold the close for its grace.
        dashboard.close();
        void twilioMedia.close();
        void rawStream.close();
        badInputLog.flush();
        if (!server.listening) {
          resolve();
          return;
        }
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
