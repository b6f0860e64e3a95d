import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../../src/config.ts';
import { LATCH_PROBATION_PACKETS } from '../../../src/actors/rtp/LatchProbation.ts';
import { createRuntime } from '../../../src/supervisor/createRuntime.ts';
import { createHttpServer, type HttpServer } from '../../../src/server/server.ts';
import type { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../../src/wire/rtp.ts';
import { memoryLogger } from '../../helpers/logger.ts';
import { TestPeer, until } from '../../helpers/rtpPeer.ts';

/**
 * The daemon's RTP transport as `switchboard start` builds it (createRuntime
 * from a loaded configuration, the HTTP server in front): a port range of
 * four pairs, two of them partly held by sockets of this test — another
 * process, as far as the daemon can tell.
 */
const PAIRS = 4;

function bind(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

/** An even base whose PAIRS pairs are all free right now (other test files use ports too). */
async function freeRange(): Promise<number> {
  for (let base = 36_000 + 2 * ((process.pid * 19) % 1000); base < 60_000; base += 2 * PAIRS) {
    const got = await Promise.all(Array.from({ length: 2 * PAIRS }, (_, i) => bind(base + i)));
    for (const s of got) s?.close();
    if (got.every((s) => s !== undefined)) return base;
  }
  throw new Error('no free port range');
}

let base = 0;
let runtime: Supervisor;
let http: HttpServer;
let url = '';
let dir = '';
const held: Socket[] = [];
const peers: TestPeer[] = [];

async function hold(port: number): Promise<void> {
  const s = await bind(port);
  if (s === undefined) throw new Error(`port ${port} is taken`);
  held.push(s);
}

function config(argv: string[]): Config {
  return loadConfig({ argv, env: {}, cwd: dir, parallelism: 1 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-rtp-'));
  base = await freeRange();
  // Pair 1's RTP port and pair 3's RTCP port: both pairs are unusable.
  await hold(base);
  await hold(base + 5);
  const cfg = config([
    '--port', '0', '--log-level', 'warn', '--network-workers', '1', '--agent-workers', '1', '--capture-workers', '1',
    '--rtp.port-min', String(base), '--rtp.port-max', String(base + 2 * (PAIRS - 1)),
    '--rtp.latch-cidr', '10.0.0.0/8,fd00::/8',
  ]);
  const { log } = memoryLogger();
  runtime = await createRuntime(cfg, log);
  http = createHttpServer(runtime, cfg, log);
  url = `http://127.0.0.1:${(await http.listen()).port}`;
});

afterAll(async () => {
  await http?.close();
  await runtime?.stop();
  for (const s of held.splice(0)) s.close();
  for (const p of peers.splice(0)) p.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const newCall = (body: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transport: 'rtp', remote: 'latch', codec: 'PCMU', agent: 'tone', ...body }),
  });

async function portGauge(): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^switchboard_rtp_port_pairs\{state="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('RTP transport as the daemon builds it', () => {
  it('rtp.latchCidr from the configuration keeps a caller outside it from being latched', async () => {
    const res = await newCall();
    expect(res.status).toBe(201);
    const { id, rtp } = (await res.json()) as { id: string; rtp: { localPort: number } };
    const caller = await TestPeer.create();
    peers.push(caller);
    for (let seq = 1; seq <= 2 * LATCH_PROBATION_PACKETS; seq++) {
      caller.send(serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 5, csrc: [], paddingLength: 0, payload: new Uint8Array(160) }), rtp.localPort);
    }
    const leg = (): Record<string, number> => runtime.status().actors.find((a) => a.kind === 'rtp')!.stats;
    await until(() => leg()['droppedLatchRefused'] === 2 * LATCH_PROBATION_PACKETS, 2000, 'the packets to be refused');
    expect(leg()['remotePort']).toBe(0);
    expect(caller.received).toEqual([]);
    expect(await runtime.deleteCall(id)).toBe(true);
  });

  it('skips pairs held elsewhere, answers 503 with Retry-After when none is left, and shows the pool in /metrics', async () => {
    const a = await newCall();
    const b = await newCall();
    expect([a.status, b.status]).toEqual([201, 201]);
    const localPort = async (r: Response): Promise<number> => ((await r.json()) as { rtp: { localPort: number } }).rtp.localPort;
    const ports = [await localPort(a), await localPort(b)];
    expect(ports.sort((x, y) => x - y)).toEqual([base + 2, base + 6]);
    expect(await portGauge()).toEqual({ free: 0, in_use: 2, held_elsewhere: 2 });

    const full = await newCall();
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1'); // a call of ours may end any moment
    expect(((await full.json()) as { error: { message: string } }).error.message).toMatch(new RegExp(`no free RTP port pair in ${base}–${base + 6} \\[in use:2, held by other processes:2\\]`));
    expect(runtime.listCalls().length).toBe(2);

    // Our calls end and the other process takes their pairs too: every pair is held elsewhere.
    for (const c of runtime.listCalls()) await runtime.deleteCall(c.id);
    await hold(base + 3);
    await hold(base + 6);
    const none = await newCall();
    expect(none.status).toBe(503);
    // Nothing of ours will free a pair: retry when the first held one is tried again (30 s).
    expect(Number(none.headers.get('retry-after'))).toBeGreaterThanOrEqual(25);
    expect(Number(none.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(await portGauge()).toEqual({ free: 0, in_use: 0, held_elsewhere: 4 });
    expect(runtime.listCalls()).toEqual([]);
  });
});

describe('rtp.latchCidr in the configuration', () => {
  it('takes a comma-separated list and refuses a bad block, naming the key', () => {
    expect(config(['--rtp.latch-cidr', '10.0.0.0/8, 2001:db8::/32']).rtp.latchCidr).toBe('10.0.0.0/8, 2001:db8::/32');
    expect(() => config(['--rtp.latch-cidr', '10.0.0.0/99'])).toThrow(ConfigError);
    expect(() => config(['--rtp.latch-cidr', '10.0.0.0/99'])).toThrow(/rtp\.latchCidr.*CIDR blocks.*--rtp\.latch-cidr/);
  });
});
