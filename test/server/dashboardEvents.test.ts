import { get as httpGet, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { CALL_COLUMNS, WORKER_COLUMNS } from '../../src/server/dashboard/feed.ts';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import type { Transport } from '../../src/calls/transports.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/**
 * GET /dashboard/events over real HTTP against a real supervisor whose calls
 * are do-nothing actors: what the stream sends, and what a hostile or broken
 * client costs (a cap, slow readers, disconnects, bad queries).
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const nullTransport: Transport = {
  name: 'null',
  async create(_req, ctx) {
    await ctx.build({ nodes: { caller: { kind: 'null', config: {} } }, edges: [] });
    return { answer: {} };
  },
};

let sup: Supervisor;
const servers: HttpServer[] = [];

beforeAll(async () => {
  sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'warn', log: memoryLogger().log, kinds: { null: nullKind }, transports: [nullTransport] });
  await sup.start();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const c of sup?.listCalls() ?? []) await sup.deleteCall(c.id);
  await sup?.stop();
});

async function serve(options: HttpServerOptions): Promise<{ http: HttpServer; base: string; port: number }> {
  const config = loadConfig({ argv: ['--port', '0'], env: {}, cwd: FIXTURES });
  const http = createHttpServer(sup, config, memoryLogger().log, options);
  servers.push(http);
  const { port } = await http.listen();
  return { http, base: `http://127.0.0.1:${port}`, port };
}

interface Frame {
  event: string;
  data: any;
}

/** An open event stream: its response and the frames parsed so far. */
interface Stream {
  res: IncomingMessage;
  frames: Frame[];
  close(): void;
}

function openStream(base: string, path = '/dashboard/events'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = httpGet(base + path, (res) => {
      const frames: Frame[] = [];
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) frames.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('error', () => {});
      resolve({ res, frames, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

async function frameWhere(s: Stream, what: string, test: (f: Frame) => boolean, timeout = 3_000): Promise<Frame> {
  return vi.waitFor(
    () => {
      const f = s.frames.find(test);
      if (f === undefined) throw new Error(`no frame with ${what}`);
      return f;
    },
    { timeout, interval: 10 },
  );
}

/** A frame's rows as numbers (null for an empty field: a figure the call lacks). */
function rowsOf(f: Frame): Array<number | null> {
  return f.data.rows === '' ? [] : (f.data.rows as string).split(',').map((x) => (x === '' ? null : Number(x)));
}

/** The call ids in a frame's rows, by the keys its stream's meta gave them. */
function liveIds(frames: Frame[], upTo: Frame): string[] {
  const idOf = new Map<number, string>();
  for (const f of frames.slice(0, frames.indexOf(upTo) + 1)) {
    if (f.event === 'snapshot') idOf.clear();
    for (const [key, id] of f.data.meta) idOf.set(key, id);
  }
  const ids: string[] = [];
  const rows = rowsOf(upTo);
  for (let i = 0; i < rows.length; i += CALL_COLUMNS.length) ids.push(idOf.get(rows[i]!)!);
  return ids;
}

describe('GET /dashboard/events', () => {
  it('sends a snapshot, then an update each sample: workers, calls coming and going, a history point', async () => {
    const { base } = await serve({ dashboard: { sampleMs: 50 } });
    const s = await openStream(base);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const snap = await frameWhere(s, 'a snapshot', (f) => f.event === 'snapshot');
    expect(snap.data).toMatchObject({ daemon: 'running', ready: true, reasons: [] });
    expect(snap.data.workers).toEqual([expect.arrayContaining(['null-0', 'null', 'ready'])]);
    expect(snap.data.workers[0]).toHaveLength(WORKER_COLUMNS.length);
    expect(snap.data.history.length).toBeGreaterThanOrEqual(1);

    const call = await sup.createCall({ transport: 'null' });
    const withCall = await frameWhere(s, 'the new call', (f) => f.event === 'update' && f.data.meta.some((m: unknown[]) => m[1] === call.id));
    expect(withCall.data.meta.find((m: unknown[]) => m[1] === call.id)).toEqual([expect.any(Number), call.id, 'null', Date.parse(call.createdAt)]);
    expect(liveIds(s.frames, withCall)).toContain(call.id);
    // A null call has no jitter actor: its figures are null, not made up.
    const row = rowsOf(withCall).slice(0, CALL_COLUMNS.length);
    expect(row.slice(2)).toEqual([null, null, null, null, null, null]);
    expect(withCall.data.point).toHaveLength(5);

    await sup.deleteCall(call.id);
    const after = s.frames.length;
    const gone = await frameWhere(s, 'the call gone', (f) => s.frames.indexOf(f) >= after && !liveIds(s.frames, f).includes(call.id));
    expect(gone.event).toBe('update');
    s.close();
  });

  it('sends only the history asked for', async () => {
    const { base } = await serve({ dashboard: { sampleMs: 20 } });
    await new Promise((r) => setTimeout(r, 150));
    const s = await openStream(base, '/dashboard/events?history=2');
    const snap = await frameWhere(s, 'a snapshot', (f) => f.event === 'snapshot');
    expect(snap.data.history).toHaveLength(2);
    s.close();
  });

  it('answers bad query strings with 400, naming the problem, and opens no stream', async () => {
    const { base, http } = await serve({});
    const cases: Array<[string, RegExp]> = [
      ['/dashboard/events?history=-1', /history: expected whole seconds from 0 to 600/],
      ['/dashboard/events?history=601', /history: expected whole seconds/],
      ['/dashboard/events?history=1e3', /history: expected whole seconds/],
      ['/dashboard/events?history=1&history=2', /given twice/],
      ['/dashboard/events?calls=all', /unknown query parameter "calls".*takes: history/],
      ['/dashboard?x=1', /unknown query parameter "x" on \/dashboard \(it takes none\)/],
    ];
    for (const [path, message] of cases) {
      const res = await fetch(base + path);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect([path, res.status, body.error.code]).toEqual([path, 400, 'bad_query']);
      expect(body.error.message).toMatch(message);
    }
    expect(http.dashboardStreams()).toEqual([]);
  });

  it('caps the streams open at once (503 with Retry-After beyond), and a closed stream frees its place', async () => {
    const { base, http } = await serve({ dashboard: { maxStreams: 3 } });
    const streams = await Promise.all([1, 2, 3].map(() => openStream(base)));
    const refused = await fetch(`${base}/dashboard/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: unknown }).error).toEqual({ code: 'too_many_streams', message: expect.stringMatching(/3 dashboard event streams are open/) });
    // The page and the rest of the daemon still answer.
    expect((await fetch(`${base}/dashboard`)).status).toBe(200);

    streams[0]!.close();
    await vi.waitFor(() => expect(http.dashboardStreams()).toHaveLength(2), { timeout: 2_000, interval: 10 });
    const again = await openStream(base);
    expect(again.res.statusCode).toBe(200);
    for (const s of [...streams, again]) s.close();
    await vi.waitFor(() => expect(http.dashboardStreams()).toEqual([]), { timeout: 2_000, interval: 10 });
  });

  it('HEAD answers the headers and holds no stream', async () => {
    const { base, http } = await serve({});
    const res = await fetch(`${base}/dashboard/events`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(http.dashboardStreams()).toEqual([]);
  });

  it('ends its streams when the server closes, without waiting for the close grace', async () => {
    const { base, http } = await serve({});
    const s = await openStream(base);
    const ended = new Promise<void>((resolve) => s.res.once('close', resolve));
    const t0 = performance.now();
    await http.close();
    await ended;
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('a reader that does not keep up', () => {
  const CALLS = 200;
  beforeAll(async () => {
    // Rows make each update a few kilobytes, so a stalled reader's socket fills within a second or two.
    for (let i = 0; i < CALLS; i++) await sup.createCall({ transport: 'null' });
  });
  afterAll(async () => {
    for (const c of sup.listCalls()) await sup.deleteCall(c.id);
  });

  it('skips updates while its socket holds more than the bound, then is dropped once stuck', async () => {
    const maxBufferedBytes = 16 * 1024;
    const { port, http } = await serve({ dashboard: { sampleMs: 2, maxBufferedBytes, stallMs: 300 } });
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.write('GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // Reads nothing: the kernel's buffers fill, then the server's.
    sock.pause();
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {});
    let largest = 0;
    let skipped = 0;
    const watch = setInterval(() => {
      for (const st of http.dashboardStreams()) {
        largest = Math.max(largest, st.bufferedBytes);
        skipped = Math.max(skipped, st.skipped);
      }
    }, 1);
    // Seen open, then gone: dropped by the server while this side read nothing.
    await vi.waitFor(() => expect(skipped > 0 && http.dashboardStreams().length === 0).toBe(true), { timeout: 15_000, interval: 20 });
    clearInterval(watch);
    // What the kernel held still arrives, then the end.
    sock.resume();
    await closed;
    expect(skipped).toBeGreaterThan(0);
    // At most the bound plus one frame (an update of CALLS rows, well under 16 KB) was ever held.
    expect(largest).toBeLessThanOrEqual(2 * maxBufferedBytes);
    expect(http.dashboardStreams()).toEqual([]);
  }, 20_000);

  it('keeps a reader that catches up: it gets a snapshot after the updates it missed', async () => {
    const { port, http } = await serve({ dashboard: { sampleMs: 2, maxBufferedBytes: 16 * 1024, stallMs: 60_000 } });
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.write('GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    sock.pause();
    await vi.waitFor(() => expect(http.dashboardStreams()[0]?.skipped).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.resume();
    await vi.waitFor(() => expect((text.match(/^event: snapshot$/gm) ?? []).length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 20 });
    sock.destroy();
  }, 20_000);
});
