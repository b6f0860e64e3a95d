import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';
import { findSyntaxError, parseJson } from '../../src/wire/jsonSyntax.ts';
import { createHttpServer, isLoopback, type HttpServer } from '../../src/server/server.ts';
import { RequestError } from '../../src/supervisor/Runtime.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import type { Transport } from '../../src/calls/transports.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/**
 * The HTTP layer over the real supervisor, with real worker threads: actors of
 * a do-nothing kind (test/fixtures/null.worker.ts) and a transport that makes
 * one per call, so these tests depend on no media actor.
 */


const nullTransport: Transport = {
  name: 'null',
  async create(_req, ctx) {
    const { caller: actor } = await ctx.build({ nodes: { caller: { kind: 'null', config: {} } }, edges: [] });
    return { answer: { null: { actor } } };
  },
};

/** A transport whose set-up refuses, as a real one does for a peer it cannot reach. */
const refusingTransport: Transport = {
  name: 'refusing',
  create() {
    return Promise.reject(new RequestError(409, 'the peer is busy'));
  },
};

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const TOKEN = 'test-control-token-7f3a';
const SECRET = 'sk-test-never-shown-4b1d';

function testConfig(argv: string[] = [], env: Record<string, string> = {}): Config {
  return loadConfig({ argv: ['--port', '0', ...argv], env: { OPENAI_API_KEY: SECRET, ...env }, cwd: FIXTURES });
}

async function startRuntime() {
  const { log, lines } = memoryLogger();
  const runtime = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log,
    kinds: { null: nullKind },
    transports: [nullTransport, refusingTransport],
  });
  await runtime.start();
  return { runtime, log, lines };
}

interface Served {
  http: HttpServer;
  base: string;
}

async function serve(runtime: Supervisor, config: Config, log = memoryLogger().log): Promise<Served> {
  const http = createHttpServer(runtime, config, log);
  const { port } = await http.listen();
  return { http, base: `http://127.0.0.1:${port}` };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

async function body(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const b = await body(res);
  expect({ status: res.status, code: b.error?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  if (message !== undefined) expect(b.error.message).toMatch(message);
}

describe('HTTP server', () => {
  let rt: Awaited<ReturnType<typeof startRuntime>>;
  let open: Served;
  let httpLog: ReturnType<typeof memoryLogger>;
  let secured: Served;

  beforeAll(async () => {
    rt = await startRuntime();
    httpLog = memoryLogger();
    open = await serve(rt.runtime, testConfig(), httpLog.log);
    secured = await serve(rt.runtime, testConfig(['--control-token', TOKEN, '--enable-fault-injection']));
  });
  afterAll(async () => {
    await open?.http.close();
    await secured?.http.close();
    await rt?.runtime.stop();
  });

  const get = (path: string, init: RequestInit = {}) => fetch(open.base + path, init);
  const post = (path: string, payload: unknown, headers: Record<string, string> = JSON_HEADERS) =>
    fetch(open.base + path, {
      method: 'POST',
      headers,
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  describe('health, status, metrics, dashboard', () => {
    it('GET /healthz is 200 while the supervisor runs', async () => {
      const res = await get('/healthz');
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual({ ok: true, daemon: 'running' });
    });

    it('GET /readyz is 200 when every worker is up', async () => {
      const res = await get('/readyz');
      expect(res.status).toBe(200);
      expect(await body(res)).toEqual({ ready: true, reasons: [] });
    });

    it('answers HEAD on GET routes without a body', async () => {
      const res = await get('/healthz', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    });

    it('GET /status is the runtime status, without secrets', async () => {
      const res = await get('/status');
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain(SECRET);
      const st = JSON.parse(text);
      expect(st.daemon).toBe('running');
      expect(st.workers).toEqual([expect.objectContaining({ id: 'null-0', kind: 'null', state: 'ready' })]);
      expect(st.process.pid).toBe(process.pid);
    });

    it('GET /status?calls=false is the daemon, its workers and process without a row per call; a bad query is 400', async () => {
      const res = await get('/status?calls=false');
      expect(res.status).toBe(200);
      const st = await body(res);
      expect(st).toEqual({
        daemon: 'running',
        ready: true,
        notReadyReasons: [],
        workers: [expect.objectContaining({ id: 'null-0', load: expect.objectContaining({ tickHistogram: expect.any(Array) }) })],
        calls: expect.any(Object),
        engineLatency: expect.any(Object),
        process: expect.objectContaining({ pid: process.pid }),
      });
      expect((st as { workers: { load: { tickHistogram: number[] } }[] }).workers[0]!.load.tickHistogram).toHaveLength(10);
      for (const q of ['calls=maybe', 'calls=false&calls=true', 'verbose=1', 'calls=' + 'x'.repeat(5000)]) {
        const bad = await get(`/status?${q}`);
        expect(bad.status, q).toBe(400);
        expect(((await body(bad)) as { error: { code: string; message: string } }).error.message.length).toBeLessThan(200);
      }
    });

    it('GET /metrics is Prometheus text with runtime and HTTP metrics', async () => {
      await get('/healthz');
      const res = await get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^switchboard_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/m);
      expect(text).toMatch(/^switchboard_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} [1-9]/m);
      expect(text).toMatch(/^switchboard_worker_up\{worker="null-0",kind="null"\} 1$/m);
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    });

    it('GET /dashboard is a self-contained live page fed by its event stream, its scripts and style allowed by hash', async () => {
      const res = await get('/dashboard');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'/);
      const html = await res.text();
      expect(html).toContain("new EventSource(location.origin + '/dashboard/events')");
      // Every inline script is allowed by its hash, and at least compiles (the browser test runs them).
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
      expect(scripts).toHaveLength(2);
      for (const script of scripts) {
        expect(csp).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
        expect(() => new Function(script)).not.toThrow();
      }
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
      expect(html).not.toMatch(/<(?:script|link|img)[^>]+(?:src|href)=/);
      expect(html).not.toContain(SECRET);
    });
  });

  describe('calls', () => {
    it('creates, lists, inspects and hangs up a call', async () => {
      const created = await post('/v1/calls', { transport: 'null' });
      expect(created.status).toBe(201);
      const call = await body(created);
      expect(call).toMatchObject({ transport: 'null', state: 'active', actors: [expect.stringMatching(/^null\.\d+$/)] });
      expect(created.headers.get('location')).toBe(`/v1/calls/${call.id}`);

      const list = await body(await get('/v1/calls'));
      expect(list.calls.map((c: { id: string }) => c.id)).toContain(call.id);

      const one = await get(`/v1/calls/${call.id}`);
      expect(one.status).toBe(200);
      expect(await body(one)).toEqual(call);

      const del = await get(`/v1/calls/${call.id}`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      expect(await del.text()).toBe('');
      await expectError(await get(`/v1/calls/${call.id}`), 404, 'call_not_found', new RegExp(call.id));
      await expectError(await get(`/v1/calls/${call.id}`, { method: 'DELETE' }), 404, 'call_not_found');
    });

    it('POST /v1/calls/:id/dtmf: validates digits, 404 for no call, 409 for a call with no RTP leg', async () => {
      const call = await body(await post('/v1/calls', { transport: 'null' }));
      await expectError(await post(`/v1/calls/${call.id}/dtmf`, { digits: '12x' }), 422, 'invalid_request', /^digits: expected 1–32 of 0-9 \* # A-D/);
      await expectError(await post(`/v1/calls/${call.id}/dtmf`, { digits: '1', loud: true }), 422, 'invalid_request', /loud: unknown field/);
      await expectError(await post('/v1/calls/nobody/dtmf', { digits: '1' }), 404, 'call_not_found');
      const res = await post(`/v1/calls/${call.id}/dtmf`, { digits: '1' });
      expect(res.status).toBe(409);
      expect((await body(res)).error.message).toMatch(/has no leg that sends DTMF \(null\)/);
      await get(`/v1/calls/${call.id}`, { method: 'DELETE' });
    });

    it('passes transport-specific fields through and accepts a +json content type with a charset', async () => {
      const res = await post('/v1/calls', { transport: 'null', agent: 'echo', record: false, extra: { x: 1 } }, {
        'content-type': 'application/vnd.switchboard+json; charset=UTF-8',
      });
      expect(res.status).toBe(201);
      await get(`/v1/calls/${(await body(res)).id}`, { method: 'DELETE' });
    });

    it('404 for an unknown call id, percent-decoded', async () => {
      await expectError(await get('/v1/calls/no%20such'), 404, 'call_not_found', /no call with id "no such"/);
    });
  });

  describe('bad requests', () => {
    it('400 for malformed JSON, naming the position', async () => {
      await expectError(
        await post('/v1/calls', '{"transport": }'),
        400,
        'bad_json',
        /expected a value, found "}" at line 1, column 15 \(position 14\)/,
      );
      await expectError(
        await post('/v1/calls', '{\n  "transport": "null",\n  "codec": "PCMU"\n'),
        400,
        'bad_json',
        /expected ',' or '}', found end of input at line 4, column 1/,
      );
    });

    it('400 for an empty body and for a body that is not UTF-8', async () => {
      await expectError(await post('/v1/calls', ''), 400, 'body_required');
      const res = await fetch(`${open.base}/v1/calls`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      });
      await expectError(res, 400, 'bad_encoding');
    });

    it('415 for a body that is not declared JSON', async () => {
      await expectError(
        await post('/v1/calls', '{"transport":"null"}', { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
        /expected Content-Type: application\/json.*got Content-Type "text\/plain"/,
      );
      await expectError(
        await post('/v1/calls', '{}', { 'content-type': 'application/json; charset=latin1' }),
        415,
        'unsupported_media_type',
      );
    });

    it('413 for a body over the limit, announced by Content-Length', async () => {
      const big = JSON.stringify({ transport: 'null', pad: 'x'.repeat(70_000) });
      await expectError(await post('/v1/calls', big), 413, 'payload_too_large', /limit is 65536 bytes/);
    });

    it('413 for a chunked body as soon as it passes the limit, without reading the rest', async () => {
      const url = new URL(`${open.base}/v1/calls`);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const result = await new Promise<{ status: number; sent: number; text: string }>((resolve, reject) => {
        let sent = 0;
        let answered = false;
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: JSON_HEADERS },
          (res) => {
            answered = true;
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, sent, text });
              req.destroy();
            });
          },
        );
        req.on('error', (err) => (answered ? undefined : reject(err)));
        // Up to 64 MiB, respecting back-pressure: a server that stops reading stops the writer.
        const pump = (): void => {
          while (!answered && sent < 64 * 1024 * 1024) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          if (!answered) req.end();
        };
        req.write('{"transport":"null","pad":"');
        pump();
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.text).error.code).toBe('payload_too_large');
      expect(result.sent).toBeLessThan(16 * 1024 * 1024);
    });

    it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
      await expectError(await get('/nope'), 404, 'route_not_found', /no route for GET \/nope/);
      await expectError(await get('/v1/calls/x/y'), 404, 'route_not_found');
      const put = await get('/v1/calls', { method: 'PUT' });
      expect(put.headers.get('allow')).toBe('POST, GET, HEAD');
      await expectError(put, 405, 'method_not_allowed', /PUT is not allowed on \/v1\/calls/);
      const del = await get('/healthz', { method: 'DELETE' });
      expect(del.headers.get('allow')).toBe('GET, HEAD');
      await expectError(del, 405, 'method_not_allowed');
    });

    it('422 naming missing and invalid fields', async () => {
      await expectError(await post('/v1/calls', {}), 422, 'invalid_request', /^transport: required \(a non-empty string/);
      await expectError(await post('/v1/calls', [1]), 422, 'invalid_request', /request body: expected a JSON object, got an array/);
      await expectError(await post('/v1/calls', { transport: 5 }), 422, 'invalid_request', /transport: expected .*, got 5/);
      const rtp = await body(await post('/v1/calls', { transport: 'rtp' }));
      expect(rtp.error.message).toMatch(/remote: required for transport "rtp"/);
      expect(rtp.error.message).toMatch(/codec: required for transport "rtp"/);
      const bad = await body(await post('/v1/calls', { transport: 'rtp', remote: 'host', codec: 'G729', record: 'yes' }));
      expect(bad.error.message).toMatch(/remote: expected "host:port" with a port 1–65535, or "latch", got "host"/);
      expect(bad.error.message).toMatch(/codec: expected one of PCMU, PCMA, G722, opus, got "G729"/);
      expect(bad.error.message).toMatch(/record: expected true or false, got "yes"/);
      // "latch" is a valid remote: the request passes validation and reaches the runtime (which has no rtp transport here).
      await expectError(
        await post('/v1/calls', { transport: 'rtp', remote: 'latch', codec: 'PCMU' }),
        422,
        'invalid_request',
        /unknown transport "rtp"/,
      );
      await expectError(
        await post('/v1/calls', { transport: 'rtp', remote: '[::1]:70000', codec: 'PCMU' }),
        422,
        'invalid_request',
        /remote: expected/,
      );
    });

    it("maps the runtime's RequestError to its status", async () => {
      await expectError(
        await post('/v1/calls', { transport: 'carrier-pigeon' }),
        422,
        'invalid_request',
        /transport: unknown transport "carrier-pigeon"/,
      );
      await expectError(await post('/v1/calls', { transport: 'refusing' }), 409, 'conflict', /the peer is busy/);
    });

    it('400 for a bad percent-encoding in the path', async () => {
      await expectError(await get('/v1/calls/%E0%A4%A'), 400, 'bad_path');
    });

    it('answers a request node:http cannot parse with 400, and keeps serving', async () => {
      const url = new URL(open.base);
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(url.port), url.hostname, () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
        let text = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (text += d));
        sock.on('end', () => resolve(text));
        sock.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(reply).toContain('"code":"malformed_http"');
      expect((await get('/healthz')).status).toBe(200);
    });

    it('counts bad input in /metrics and logs it at a rate limit', async () => {
      for (let i = 0; i < 12; i++) await post('/v1/calls', '{bad');
      const text = await (await get('/metrics')).text();
      const count = (reason: string) =>
        Number(new RegExp(`^switchboard_bad_input_total\\{source="http",reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1]);
      expect(count('bad_json')).toBeGreaterThanOrEqual(14);
      expect(count('route_not_found')).toBeGreaterThanOrEqual(1);
      expect(count('method_not_allowed')).toBeGreaterThanOrEqual(1);
      expect(count('payload_too_large')).toBeGreaterThanOrEqual(2);
      expect(count('unsupported_media_type')).toBeGreaterThanOrEqual(1);
      expect(count('invalid_request')).toBeGreaterThanOrEqual(1);
      expect(count('malformed_http')).toBeGreaterThanOrEqual(1);
      // An unknown call id is a fine request about a call that is not there: not bad input.
      expect(text).not.toMatch(/reason="call_not_found"/);
      const warned = httpLog.lines.filter((l) => l.key === 'http:bad_json' && l.msg !== undefined && String(l.msg).startsWith('bad request'));
      expect(warned.length).toBe(5);
      expect((await get('/healthz')).status).toBe(200);
    });
  });

  describe('control token', () => {
    const sget = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      fetch(secured.base + path, { method, headers });

    it('/v1/* needs the bearer token: 401 without, 403 wrong, 200 right', async () => {
      const none = await sget('/v1/calls');
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      await expectError(none, 401, 'unauthorized', /Authorization: Bearer <token>/);
      await expectError(await sget('/v1/calls', { authorization: 'Basic Zm9vOmJhcg==' }), 401, 'unauthorized');
      await expectError(await sget('/v1/calls', { authorization: 'Bearer wrong-token' }), 403, 'forbidden');
      await expectError(await sget('/v1/calls', { authorization: `Bearer ${TOKEN}x` }), 403, 'forbidden');
      const ok = await sget('/v1/calls', { authorization: `Bearer ${TOKEN}` });
      expect(ok.status).toBe(200);
      // Unknown /v1 paths do not reveal themselves without the token.
      await expectError(await sget('/v1/secret-route'), 401, 'unauthorized');
    });

    it('health, readiness, status, metrics and the dashboard stay open', async () => {
      for (const path of ['/healthz', '/readyz', '/status', '/metrics', '/dashboard']) {
        expect([path, (await sget(path)).status]).toEqual([path, 200]);
      }
    });
  });

  describe('fault injection', () => {
    it('is absent without enableFaultInjection: 404 like any unknown route', async () => {
      await expectError(await post('/v1/faults/null-0', { kind: 'crash' }), 404, 'route_not_found');
    });

    it('with the flag, crashes the worker and the supervisor restarts it', async () => {
      const auth = { authorization: `Bearer ${TOKEN}`, ...JSON_HEADERS };
      const inject = (target: string, payload: unknown) =>
        fetch(`${secured.base}/v1/faults/${target}`, { method: 'POST', headers: auth, body: JSON.stringify(payload) });

      await expectError(await inject('null-0', { kind: 'explode' }), 422, 'invalid_request', /kind: expected one of crash, hang, exit, oom, oom-burst, terminate, got "explode"/);
      await expectError(await inject('null-0', { kind: 'crash', extra: 1 }), 422, 'invalid_request', /extra: unknown field/);
      await expectError(await inject('nobody', { kind: 'crash' }), 404, 'not_found', /no actor or worker named "nobody"/);

      const before = rt.runtime.status().workers[0]!.restarts;
      const res = await inject('null-0', { kind: 'crash' });
      expect(res.status).toBe(202);
      expect(await body(res)).toEqual({ target: 'null-0', kind: 'crash' });
      await expect.poll(() => rt.runtime.status().workers[0]!.restarts > before && rt.runtime.status().ready, { timeout: 5_000, interval: 20 }).toBe(true);
      expect(rt.runtime.status().workers[0]!.restarts).toBe(before + 1);
      expect((await get('/readyz')).status).toBe(200);
    });
  });
});

describe('drain over HTTP', () => {
  it('answers 202 at once; readiness turns 503 and new calls are refused until live calls end', async () => {
    const rt = await startRuntime();
    const served = await serve(rt.runtime, testConfig(['--drain-deadline-ms', '10000']));
    try {
      const call = await body(
        await fetch(`${served.base}/v1/calls`, { method: 'POST', headers: JSON_HEADERS, body: '{"transport":"null"}' }),
      );
      const t0 = performance.now();
      const res = await fetch(`${served.base}/v1/drain`, { method: 'POST' });
      expect(performance.now() - t0).toBeLessThan(1_000);
      expect(res.status).toBe(202);
      expect(await body(res)).toEqual({ daemon: 'draining', deadlineMs: 10_000, calls: 1 });

      const ready = await fetch(`${served.base}/readyz`);
      expect(ready.status).toBe(503);
      expect((await body(ready)).reasons).toContain('daemon is draining');
      expect((await fetch(`${served.base}/healthz`)).status).toBe(200);
      await expectError(
        await fetch(`${served.base}/v1/calls`, { method: 'POST', headers: JSON_HEADERS, body: '{"transport":"null"}' }),
        503,
        'unavailable',
        /not taking calls/,
      );
      // The live call is still there to inspect and hang up.
      expect((await fetch(`${served.base}/v1/calls/${call.id}`)).status).toBe(200);
      expect((await fetch(`${served.base}/v1/calls/${call.id}`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await served.http.close();
      await rt.runtime.stop();
    }
    const stopped = await serve(rt.runtime, testConfig());
    try {
      expect((await fetch(`${stopped.base}/healthz`)).status).toBe(503);
      await expectError(await fetch(`${stopped.base}/v1/drain`, { method: 'POST' }), 409, 'conflict');
    } finally {
      await stopped.http.close();
    }
  });
});

describe('binding and lifecycle', () => {
  it('refuses a non-loopback host without a control token', async () => {
    const rt = await startRuntime();
    try {
      const wide = testConfig(['--host', '0.0.0.0']);
      expect(() => createHttpServer(rt.runtime, wide, rt.log)).toThrow(ConfigError);
      expect(() => createHttpServer(rt.runtime, wide, rt.log)).toThrow(
        /config: host: refusing to listen on 0\.0\.0\.0, which is not a loopback address, without a control token/,
      );
      // With a token, Twilio's routes also need signatures or an explicit opt-out: anyone could open calls.
      const unsigned = testConfig(['--host', '0.0.0.0', '--control-token', TOKEN]);
      expect(() => createHttpServer(rt.runtime, unsigned, rt.log)).toThrow(
        /^config: twilio\.allowUnsigned: refusing to take unsigned Twilio webhooks and Media Streams on 0\.0\.0\.0, .*set TWILIO_AUTH_TOKEN/,
      );
      // With both it is allowed (not bound here: the test must not open a port to the network).
      for (const [argv, env] of [
        [['--control-token', TOKEN], { TWILIO_AUTH_TOKEN: 'twilio-secret' }],
        [['--control-token', TOKEN, '--twilio.allow-unsigned'], {}],
      ] as const) {
        const tokened = createHttpServer(rt.runtime, testConfig(['--host', '0.0.0.0', ...argv], env), rt.log);
        await tokened.close();
      }

      // close() is safe twice; a port in use is a clear error.
      const a = await serve(rt.runtime, testConfig());
      const port = new URL(a.base).port;
      const b = createHttpServer(rt.runtime, testConfig(['--port', port]), rt.log);
      await expect(b.listen()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`);
      await b.close();
      await a.http.close();
      await a.http.close();
    } finally {
      await rt.runtime.stop();
    }
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect([h, isLoopback(h)]).toEqual([h, true]);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.example.com']) {
      expect([h, isLoopback(h)]).toEqual([h, false]);
    }
  });
});

describe('JSON syntax errors', () => {
  it('finds the same position as V8 where V8 names one', () => {
    const docs = ['{"a":1,}', '[1,2', '{"a" 1}', '[01]', '{"a":tru}', '"abc', '[1] x', '{"a":"\\x"}', '[1.]', '{,}', '[-]', '{"a":1 "b":2}'];
    for (const doc of docs) {
      const found = findSyntaxError(doc);
      expect(found, doc).toBeDefined();
      try {
        JSON.parse(doc);
      } catch (err) {
        const v8 = /position (\d+)/.exec((err as Error).message);
        if (v8 !== null) expect([doc, found!.position]).toEqual([doc, Number(v8[1])]);
      }
    }
  });

  it('accepts what JSON.parse accepts (seeded random documents) and survives deep nesting', () => {
    const rand = mulberry32(7);
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 4 || r < 0.3) return [1.5e-3, -0, 'a\\"\u00e9\n', true, null, 42][Math.floor(rand() * 6)];
      if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [`k${i}\t`, value(depth + 1)]));
    };
    for (let i = 0; i < 200; i++) {
      const text = JSON.stringify(value(0), null, i % 2 === 0 ? 2 : undefined);
      expect(findSyntaxError(text)).toBeUndefined();
    }
    const deep = '['.repeat(100_000);
    expect(parseJson(deep)).toMatchObject({ ok: false, position: 100_000, line: 1, column: 100_001 });
  });
});
