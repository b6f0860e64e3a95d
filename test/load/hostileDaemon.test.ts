import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/runLoad.ts';

/**
 * The driver against a daemon that misbehaves: a real HTTP server and real UDP
 * sockets on 127.0.0.1 standing in for one. It wants a bearer token, takes one
 * call and refuses the next with 503, and answers each RTP packet with the
 * packet echoed (a loopback), three bytes of garbage, a packet of another
 * payload type and RTCP, while a second socket sends strays. The run must
 * count all of it and go on.
 */

const TOKEN = 'load-test-token';
let server: ReturnType<typeof createServer> | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  if (server !== undefined) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('the load driver against a hostile daemon', () => {
  it('counts a refused call, malformed and stray packets, and still measures the call that was taken', async () => {
    const media = await udp();
    const stray = await udp();
    const calls: string[] = [];
    const deleted: string[] = [];
    const unauthorized: string[] = [];
    media.on('message', (msg, rinfo) => {
      const echo = Buffer.from(msg);
      media.send(echo, rinfo.port, rinfo.address);
      media.send(Buffer.from([1, 2, 3]), rinfo.port, rinfo.address);
      const otherPt = Buffer.from(msg);
      otherPt[1] = 96;
      media.send(otherPt, rinfo.port, rinfo.address);
      media.send(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), rinfo.port, rinfo.address);
      stray.send(echo, rinfo.port, rinfo.address);
    });
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const send = (status: number, body?: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
      };
      if (req.url === '/readyz') return send(200, { ready: true });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        unauthorized.push(`${req.method} ${req.url}`);
        return send(401, { error: { code: 'unauthorized', message: 'a bearer token is needed' } });
      }
      if (req.url === '/status?calls=false') {
        return send(200, { workers: [], calls: { rtp: calls.length - deleted.length }, process: { rssBytes: 1e8, heapUsedBytes: 1e7, cpuUserUs: 0, cpuSystemUs: 0 } });
      }
      if (req.method === 'POST' && req.url === '/v1/calls') {
        if (calls.length >= 1) return send(503, { error: { code: 'overloaded', message: 'at limits.maxCalls' } });
        calls.push('c1');
        return send(201, { id: 'c1', rtp: { localPort: (media.address() as AddressInfo).port } });
      }
      if (req.method === 'DELETE' && req.url === '/v1/calls/c1') {
        deleted.push('c1');
        return send(204);
      }
      send(404, { error: { code: 'not_found', message: req.url } });
    };
    server = createServer(handler).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const report = await runLoad({ streams: 2, target, token: TOKEN, duration: 2.5, ramp: 20, speechDir: 'test/fixtures/data/speech', threads: 1 });

    expect(unauthorized).toEqual([]);
    expect(deleted).toEqual(['c1']);
    const [taken, refused] = report.calls;
    expect(refused).toMatchObject({ index: 1, outcome: 'refused', callId: null, framesSent: 0 });
    expect(refused!.error).toContain('503 overloaded: at limits.maxCalls');
    expect(taken).toMatchObject({ index: 0, outcome: 'completed', callId: 'c1', framesSent: 125 });
    // Garbage and the wrong payload type for each packet; RTCP and the other socket's copies as strays.
    expect(taken!.returnedMalformed).toBeGreaterThanOrEqual(2 * 100);
    expect(taken!.returnedStray).toBeGreaterThanOrEqual(2 * 100);
    expect(taken!.returnedPct).toBeGreaterThanOrEqual(98);
    // The echo is the caller's own audio straight back: a latency of about the loopback's.
    expect(taken!.latency).not.toBeNull();
    expect(taken!.latency!.p50Ms).toBeLessThan(20);
    expect(report.summary).toMatchObject({ callsCompleted: 1, callsRefused: 1, callsFailed: 0 });
    expect(report.summary.malformed).toBeGreaterThanOrEqual(200);
    expect(report.daemon).toMatchObject({ target, selfStarted: false, statusErrors: 0 });
    expect(report.options.token).toBe('(set)');
  });
});
