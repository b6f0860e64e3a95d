import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/**
 * Who may read what, by bind. The policy is decided from `host` when the
 * server is made; these servers are made for a non-loopback host (0.0.0.0)
 * but their node:http server is bound to 127.0.0.1 by hand, so the tests
 * open nothing to the network.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const CONTROL = 'control-token-5e1c';
const STATUS = 'status-token-9a0f';
/** A token in UTF-8: compared as the bytes the client sends. */
const UNICODE = 'ключ-☎-é';
const READ_PATHS = ['/status', '/metrics', '/dashboard', '/dashboard/events'];

let sup: Supervisor;
const servers: HttpServer[] = [];

beforeAll(async () => {
  sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log: memoryLogger().log, kinds: { null: nullKind }, transports: [] });
  await sup.start();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await sup?.stop();
});

/** A server with the policy of `argv`'s host, listening on 127.0.0.1; its base URL. */
async function serve(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const config = loadConfig({ argv: ['--port', '0', ...argv], env, cwd: FIXTURES });
  const http = createHttpServer(sup, config, memoryLogger().log);
  servers.push(http);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  const address = http.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` });

async function statusOf(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<number> {
  const res = await fetch(base + path, { method, headers });
  // An event stream never ends by itself: its status is all this needs.
  if (res.headers.get('content-type')?.startsWith('text/event-stream') === true) await res.body?.cancel();
  else await res.arrayBuffer();
  return res.status;
}

/** One request on a raw socket (header bytes as given, non-ASCII included); the status line's code. */
function rawStatus(base: string, path: string, headerBytes: Buffer): Promise<number> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => {
      sock.write(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`), headerBytes, Buffer.from('\r\n\r\n')]));
    });
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    sock.on('error', reject);
  });
}

describe('a non-loopback bind', () => {
  let base: string;
  beforeAll(async () => {
    base = await serve(['--host', '0.0.0.0', '--control-token', CONTROL, '--status-token', STATUS], { TWILIO_AUTH_TOKEN: 'twilio-secret' });
  });

  it('keeps /healthz and /readyz open for probes', async () => {
    expect(await statusOf(base, '/healthz')).toBe(200);
    expect(await statusOf(base, '/readyz')).toBe(200);
  });

  it('asks for a token on /status, /metrics and /dashboard: Bearer for the API, Basic for the page a browser opens', async () => {
    for (const path of ['/status', '/metrics', '/status/']) {
      const res = await fetch(base + path);
      expect([path, res.status, res.headers.get('www-authenticate')]).toEqual([path, 401, 'Bearer realm="switchboard"']);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const page = await fetch(`${base}/dashboard`);
    expect([page.status, page.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="switchboard", charset="UTF-8"']);
    expect(await page.text()).not.toContain('<script>');
    // The page's event stream asks the same way: the browser sends the page's credentials with it.
    const events = await fetch(`${base}/dashboard/events`);
    expect([events.status, events.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="switchboard", charset="UTF-8"']);
    await events.arrayBuffer();
    expect(await statusOf(base, '/status', {}, 'HEAD')).toBe(401);
  });

  it('opens them to the status token and to the control token, as Bearer or as the Basic password', async () => {
    for (const path of READ_PATHS) {
      for (const headers of [bearer(STATUS), bearer(CONTROL), basic('ops', STATUS), basic('', CONTROL)]) {
        expect([path, headers.authorization, await statusOf(base, path, headers)]).toEqual([path, headers.authorization, 200]);
      }
    }
  });

  it('the status token opens nothing else: /v1 still needs the control token', async () => {
    expect(await statusOf(base, '/v1/calls', bearer(STATUS))).toBe(403);
    expect(await statusOf(base, '/v1/calls', basic('ops', CONTROL))).toBe(401);
    expect(await statusOf(base, '/v1/calls', bearer(CONTROL))).toBe(200);
  });

  it('refuses wrong, malformed, oversized and non-ASCII credentials with 401 or 403, counted, and keeps serving', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [bearer('wrong'), 403],
      [bearer(`${STATUS}x`), 403],
      [bearer(STATUS.slice(0, -1)), 403],
      [basic('ops', 'wrong'), 403],
      [basic(STATUS, ''), 403],
      [{ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }, 401],
      [{ authorization: 'Basic !!!not-base64!!!' }, 401],
      [{ authorization: 'Bearer' }, 401],
      [{ authorization: `Bearer ${STATUS} extra` }, 401],
      [{ authorization: 'Digest username="x"' }, 401],
      [bearer('x'.repeat(12_000)), 403],
    ];
    for (const [headers, expected] of cases) {
      expect([headers.authorization!.slice(0, 40), await statusOf(base, '/status', headers)]).toEqual([headers.authorization!.slice(0, 40), expected]);
    }
    // Bytes fetch would not send: UTF-8 and raw high bytes in the header, and a header past node's limit.
    expect(await rawStatus(base, '/status', Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from('тайна€', 'utf8')]))).toBe(403);
    expect(await rawStatus(base, '/status', Buffer.concat([Buffer.from('Authorization: Basic '), Buffer.from([0xff, 0xfe, 0x80])]))).toBe(401);
    expect(await rawStatus(base, '/status', Buffer.from(`Authorization: Bearer ${'é'.repeat(20_000)}`))).toBe(431);
    const metrics = await (await fetch(`${base}/metrics`, { headers: bearer(CONTROL) })).text();
    expect(Number(/^switchboard_bad_input_total\{source="http",reason="forbidden"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(7);
    expect(Number(/^switchboard_bad_input_total\{source="http",reason="unauthorized"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(6);
    expect(await statusOf(base, '/status', bearer(STATUS))).toBe(200);
  });

  it('with only a control token, that token opens the read routes', async () => {
    const only = await serve(['--host', '0.0.0.0', '--control-token', CONTROL, '--twilio.allow-unsigned']);
    for (const path of READ_PATHS) {
      expect([path, await statusOf(only, path)]).toEqual([path, 401]);
      expect([path, await statusOf(only, path, bearer(CONTROL))]).toEqual([path, 200]);
      expect([path, await statusOf(only, path, bearer(STATUS))]).toEqual([path, 403]);
    }
  });
});

describe('a loopback bind', () => {
  it('with a status token set, the read routes need it (or the control token) there too', async () => {
    const base = await serve(['--status-token', STATUS]);
    for (const path of READ_PATHS) expect([path, await statusOf(base, path)]).toEqual([path, 401]);
    expect(await statusOf(base, '/status', bearer(STATUS))).toBe(200);
    expect(await statusOf(base, '/healthz')).toBe(200);
    // No control token on this server: /v1 is as open as it was.
    expect(await statusOf(base, '/v1/calls')).toBe(200);
  });

  it('a non-ASCII token matches the UTF-8 bytes a client sends, as Bearer or Basic', async () => {
    const base = await serve(['--status-token', UNICODE]);
    expect(await statusOf(base, '/status', basic('ops', UNICODE))).toBe(200);
    expect(await rawStatus(base, '/status', Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from(UNICODE, 'utf8')]))).toBe(200);
    // The same text in another normal form (é as e + U+0301) is other bytes: not the token.
    expect(UNICODE.normalize('NFD')).not.toBe(UNICODE);
    expect(await rawStatus(base, '/status', Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from(UNICODE.normalize('NFD'), 'utf8')]))).toBe(403);
  });

  it('without one, nothing changes: every read route is open', async () => {
    const base = await serve(['--control-token', CONTROL]);
    for (const path of READ_PATHS) expect([path, await statusOf(base, path)]).toEqual([path, 200]);
  });
});
