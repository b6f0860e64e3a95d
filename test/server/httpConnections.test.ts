import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig, type Config } from '../../src/config.ts';
import { createHttpServer, WEBSOCKET_RETRY_AFTER_S, type HttpServer } from '../../src/server/server.ts';
import { SOCKET_REPLY_LINGER_MS } from '../../src/server/socketReply.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/**
 * The HTTP server's connections, with real sockets on 127.0.0.1: slow
 * senders are answered 408 and cut, the connection cap refuses on accept,
 * the per-address WebSocket cap refuses upgrades with 429 before the
 * handshake. Small limits and timeouts come in through the configuration.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

let sup: Supervisor;
beforeAll(async () => {
  sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log: memoryLogger().log, kinds: { null: nullKind }, transports: [] });
  await sup.start();
});
afterAll(async () => {
  await sup?.stop();
});

async function serve(argv: string[]): Promise<{ http: HttpServer; config: Config; port: number; base: string }> {
  const config = loadConfig({ argv: ['--port', '0', ...argv], env: {}, cwd: FIXTURES });
  const http = createHttpServer(sup, config, memoryLogger().log);
  const { port } = await http.listen();
  return { http, config, port, base: `http://127.0.0.1:${port}` };
}

function badInput(text: string, reason: string): number {
  const m = new RegExp(`^switchboard_bad_input_total\\{source="http",reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Resolves when the server side of the next accepted connection closes, with the time. */
function nextServerSocketClosed(http: HttpServer): Promise<number> {
  return new Promise((resolve) => http.server.once('connection', (s: Socket) => s.once('close', () => resolve(performance.now()))));
}

describe('slow and broken requests', () => {
  it('a client trickling its headers gets 408 and the server closes the socket, though the client keeps sending', async () => {
    const s = await serve(['--http.headers-timeout-ms', '200', '--http.request-timeout-ms', '300']);
    try {
      const serverClosed = nextServerSocketClosed(s.http);
      // Half-open allowed: the client could go on sending after the server's FIN; only a destroy ends it.
      const sock = connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
      sock.on('error', () => undefined);
      let reply = '';
      let repliedMs = 0;
      sock.on('data', (d: Buffer) => {
        reply += d.toString('latin1');
        repliedMs ||= performance.now();
      });
      sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      const trickle = setInterval(() => sock.writable && sock.write('a'), 40);
      try {
        const closedMs = await Promise.race([serverClosed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))]);
        expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(reply).toContain('"code":"request_timeout"');
        expect(closedMs).toBeGreaterThan(0);
        expect(closedMs - repliedMs).toBeLessThan(SOCKET_REPLY_LINGER_MS + 500);
      } finally {
        clearInterval(trickle);
        sock.destroy();
      }
      expect(badInput(await (await fetch(`${s.base}/metrics`)).text(), 'request_timeout')).toBe(1);
    } finally {
      await s.http.close();
    }
  });

  it('headers past the limit get 431 and the socket is closed; the server keeps serving', async () => {
    const s = await serve([]);
    try {
      const serverClosed = nextServerSocketClosed(s.http);
      const sock = connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
      sock.on('error', () => undefined);
      let reply = '';
      sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
      sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'é'.repeat(20_000)}\r\n\r\n`);
      const closedMs = await Promise.race([serverClosed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))]);
      sock.destroy();
      expect(closedMs).toBeGreaterThan(0);
      expect(reply).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
    } finally {
      await s.http.close();
    }
  });

  it('takes its timeouts from the configuration; node checks them often enough to matter', async () => {
    const s = await serve(['--http.headers-timeout-ms', '250', '--http.request-timeout-ms', '600', '--http.keep-alive-timeout-ms', '300']);
    try {
      expect({ headers: s.http.server.headersTimeout, request: s.http.server.requestTimeout, keepAlive: s.http.server.keepAliveTimeout }).toEqual({
        headers: 250,
        request: 600,
        keepAlive: 300,
      });
      // An idle keep-alive connection is closed by the server after keepAliveTimeoutMs.
      const serverClosed = nextServerSocketClosed(s.http);
      const sock = connect({ port: s.port, host: '127.0.0.1' });
      sock.on('error', () => undefined);
      sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const closedMs = await Promise.race([serverClosed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))]);
      sock.destroy();
      expect(closedMs).toBeGreaterThan(0);
    } finally {
      await s.http.close();
    }
    const defaults = loadConfig({ argv: [], env: {}, cwd: FIXTURES }).http;
    expect(defaults).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 1024, maxWebSocketsPerIp: 500 });
  });
});

describe('connection caps', () => {
  it('http.maxConnections: the next connection is closed on accept and counted; room again once one closes', async () => {
    const s = await serve(['--http.max-connections', '16']);
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const sock = connect({ port: s.port, host: '127.0.0.1' });
        sock.on('error', () => undefined);
        await new Promise((r) => sock.once('connect', r));
        held.push(sock);
      }
      await expect.poll(() => new Promise<number>((r) => s.http.server.getConnections((_e, n) => r(n)))).toBe(16);
      const over = connect({ port: s.port, host: '127.0.0.1' });
      over.on('error', () => undefined);
      let got = '';
      over.on('data', (d: Buffer) => (got += d.toString()));
      over.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await new Promise((r) => over.once('close', r));
      expect(got).toBe('');
      held.pop()!.destroy();
      await expect.poll(() => new Promise<number>((r) => s.http.server.getConnections((_e, n) => r(n)))).toBe(15);
      expect(badInput(await (await fetch(`${s.base}/metrics`)).text(), 'connection_limit')).toBe(1);
    } finally {
      for (const sock of held) sock.destroy();
      await s.http.close();
    }
  });

  it('http.maxWebSocketsPerIp: the upgrade past the cap gets 429 with Retry-After before any handshake; plain requests still pass', async () => {
    const s = await serve(['--http.max-web-sockets-per-ip', '3']);
    const url = `ws://127.0.0.1:${s.port}/twilio/media`;
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    const refusal = (): Promise<{ status: number; retryAfter: string | undefined; body: string }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once('open', () => reject(new Error('the upgrade past the cap was accepted')));
        ws.once('error', () => undefined);
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body }));
        });
      });
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) sockets.push(await open());
      // A WebSocket route that does not exist takes no place, and is refused as before.
      const stray = new WebSocket(`ws://127.0.0.1:${s.port}/nowhere`);
      stray.on('error', () => undefined);
      expect(await new Promise((r) => stray.once('unexpected-response', (_q, res) => r(res.statusCode)))).toBe(404);

      const refused = await refusal();
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBe(String(WEBSOCKET_RETRY_AFTER_S));
      expect(JSON.parse(refused.body)).toEqual({
        error: { code: 'too_many_websockets', message: '3 WebSockets are open from this address (http.maxWebSocketsPerIp)' },
      });
      expect((await fetch(`${s.base}/healthz`)).status).toBe(200);

      // One closes: its place is free again.
      const gone = sockets.pop()!;
      gone.terminate();
      await new Promise((r) => gone.once('close', r));
      await expect.poll(async () => open().then((ws) => (sockets.push(ws), true)).catch(() => false), { timeout: 2_000 }).toBe(true);
      expect(badInput(await (await fetch(`${s.base}/metrics`)).text(), 'websocket_limit')).toBe(1);
    } finally {
      for (const ws of sockets) ws.terminate();
      await s.http.close();
    }
  });
});
