import { setTimeout as sleep } from 'node:timers/promises';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createRuntime } from '../../src/supervisor/createRuntime.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { createRuntimeMetrics } from '../../src/supervisor/metrics.ts';
import type { RuntimeStatus } from '../../src/supervisor/Runtime.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { memoryLogger } from '../helpers/logger.ts';

/**
 * /metrics over a daemon's real runtime (createRuntime from the loaded
 * configuration, real workers, RTP legs on 127.0.0.1): by default no series
 * names a call and their number does not grow with the calls; with
 * `metrics.perCallSeries` the per-call series come back (a second registry
 * over the same runtime, so one set of workers serves both). Every call's
 * figures stay in /status either way.
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
/** A port range per process, apart from the other RTP test files'. */
const PORT_MIN = 60_000 + 2 * ((process.pid * 19) % 500);

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text page (comments skipped). */
function parse(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one series with exactly these labels. */
function valueOf(series: Series[], name: string, labels: Record<string, string>): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return series.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

const own = (series: Series[]) => series.filter((s) => s.name.startsWith('switchboard_'));


interface Daemon {
  sup: Supervisor;
  http: HttpServer;
  base: string;
}

async function startDaemon(): Promise<Daemon> {
  const config = loadConfig({
    argv: ['--port', '0', '--media-workers', '1', '--rtp.port-min', String(PORT_MIN), '--rtp.port-max', String(PORT_MIN + 40)],
    env: {},
    cwd: FIXTURES,
  });
  const { log } = memoryLogger();
  const sup = await createRuntime(config, log);
  const http = createHttpServer(sup, config, log);
  const { port } = await http.listen();
  return { sup, http, base: `http://127.0.0.1:${port}` };
}

async function call(d: Daemon, req: Record<string, unknown>): Promise<{ id: string; rtp?: { localPort: number } }> {
  const res = await fetch(`${d.base}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; rtp?: { localPort: number } };
}

const rtpCall = (d: Daemon) => call(d, { transport: 'rtp', remote: 'latch', codec: 'PCMU', agent: 'loopback' });

async function scrape(d: Daemon): Promise<{ text: string; series: Series[] }> {
  const res = await fetch(`${d.base}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, series: parse(text) };
}

async function status(d: Daemon): Promise<RuntimeStatus> {
  return (await (await fetch(`${d.base}/status`)).json()) as RuntimeStatus;
}

/** 25 PCMU packets at the 20 ms pace, sequence numbers 10 and 11 missing: 23 received, 2 lost. */
async function sendWithLoss(toPort: number): Promise<void> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const payload = new Uint8Array(160).fill(0xff);
  for (let seq = 0; seq < 25; seq++) {
    if (seq !== 10 && seq !== 11) {
      sock.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0x5eed, csrc: [], paddingLength: 0, payload }), toPort, '127.0.0.1');
    }
    await sleep(20);
  }
  sock.close();
}

describe('/metrics by default: aggregates, no call ids', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon();
  });
  afterAll(async () => {
    await d?.http.close();
    await d?.sup.stop();
  });

  it('names no call, keeps its series count as calls come, and its aggregates match /status', async () => {
    const lossy = await rtpCall(d);
    const ids = [lossy.id, (await rtpCall(d)).id, (await call(d, { transport: 'synthetic' })).id];
    await sendWithLoss(lossy.rtp!.localPort);
    // The gap is known once the packets after it arrived; then the counts stay put (no more media).
    let received = -1;
    await vi.waitFor(
      async () => {
        const q = (await status(d)).calls.find((c) => c.id === lossy.id)?.qos?.['jitter'];
        const settled = (q?.['packetsLost'] ?? 0) >= 2 && q?.['packetsReceived'] === received;
        received = q?.['packetsReceived'] ?? -1;
        if (!settled) throw new Error('the lossy call is still counting');
      },
      { timeout: 3000, interval: 50 },
    );
    const first = await scrape(d);
    const st = await status(d);
    const second = await scrape(d);

    for (const id of ids) expect(first.text).not.toContain(id);
    expect(first.series.some((s) => 'call' in s.labels)).toBe(false);
    expect(first.series.some((s) => s.name === 'switchboard_call_qos')).toBe(false);

    const byTransport = (t: string) => st.calls.filter((c) => c.transport === t);
    expect(valueOf(second.series, 'switchboard_calls_live', { transport: 'rtp', state: 'active' })).toBe(byTransport('rtp').length);
    expect(valueOf(second.series, 'switchboard_calls_live', { transport: 'synthetic', state: 'active' })).toBe(1);
    expect(valueOf(second.series, 'switchboard_calls_live', { transport: 'rtp', state: 'ending' })).toBe(0);
    expect(valueOf(second.series, 'switchboard_calls_active', {})).toBe(3);

    // MOS: one observation per call with an E-model rating (the RTP calls; a synthetic call has none).
    const rated = st.calls.filter((c) => c.qos?.['call']?.['mos'] !== undefined);
    expect(rated.map((c) => c.transport).sort()).toEqual(['rtp', 'rtp']);
    expect(valueOf(second.series, 'switchboard_call_mos_count', { transport: 'rtp' })).toBe(2);
    expect(valueOf(second.series, 'switchboard_call_mos_bucket', { transport: 'rtp', le: '+Inf' })).toBe(2);
    expect(valueOf(second.series, 'switchboard_call_mos_count', { transport: 'synthetic' })).toBe(0);
    const mosSum = rated.reduce((s, c) => s + c.qos!['call']!['mos']!, 0);
    expect(valueOf(second.series, 'switchboard_call_mos_sum', { transport: 'rtp' })).toBeCloseTo(mosSum, 1);

    // Loss: the call that lost packets above 0, the one that had none in le="0".
    const lossSum = rated.reduce((s, c) => s + c.qos!['call']!['lossPct']! / 100, 0);
    expect(lossSum).toBeGreaterThan(0);
    expect(valueOf(second.series, 'switchboard_call_loss_ratio_sum', { transport: 'rtp' })).toBeCloseTo(lossSum, 6);
    expect(valueOf(second.series, 'switchboard_call_loss_ratio_bucket', { transport: 'rtp', le: '0' })).toBe(1);
    expect(valueOf(second.series, 'switchboard_call_loss_ratio_bucket', { transport: 'rtp', le: '+Inf' })).toBe(2);
    // No RTCP from the peer, so no RTT: nothing observed, the series still there.
    expect(valueOf(second.series, 'switchboard_call_rtt_seconds_count', { transport: 'rtp' })).toBe(0);

    // Each per-call figure summed by transport, kind and figure.
    const total = (figure: string) => byTransport('rtp').reduce((s, c) => s + c.qos!['jitter']![figure]!, 0);
    expect(total('packetsReceived')).toBeGreaterThan(15);
    expect(total('packetsLost')).toBe(2);
    for (const figure of ['packetsReceived', 'packetsLost']) {
      expect(valueOf(second.series, 'switchboard_calls_qos', { transport: 'rtp', kind: 'jitter', figure })).toBe(total(figure));
    }

    // Three more calls: the same series, other values.
    const more = [(await rtpCall(d)).id, (await rtpCall(d)).id, (await call(d, { transport: 'synthetic' })).id];
    const third = await scrape(d);
    for (const id of more) expect(third.text).not.toContain(id);
    expect(own(third.series).map((s) => `${s.name}${JSON.stringify(s.labels)}`).sort()).toEqual(
      own(second.series).map((s) => `${s.name}${JSON.stringify(s.labels)}`).sort(),
    );
    expect(valueOf(third.series, 'switchboard_calls_live', { transport: 'rtp', state: 'active' })).toBe(4);
    expect(valueOf(third.series, 'switchboard_call_mos_count', { transport: 'rtp' })).toBe(4);
  });

  it('with perCallSeries, adds one series per call, actor kind and figure beside the aggregates', async () => {
    const perCall = createRuntimeMetrics(d.sup, { perCallSeries: true }).registry;
    const page = async () => parse(await perCall.metrics());
    const before = await page();
    const added = await rtpCall(d);
    const after = await page();
    const ids = (await status(d)).calls.filter((c) => c.transport === 'rtp').map((c) => c.id);
    expect(ids).toContain(added.id);
    for (const id of ids) {
      expect(valueOf(after, 'switchboard_call_qos', { call: id, transport: 'rtp', kind: 'jitter', figure: 'packetsLost' })).toBeGreaterThanOrEqual(0);
      expect(valueOf(after, 'switchboard_call_qos', { call: id, transport: 'rtp', kind: 'call', figure: 'mos' })).toBeGreaterThan(1);
    }
    expect(valueOf(after, 'switchboard_calls_live', { transport: 'rtp', state: 'active' })).toBe(ids.length);
    expect(valueOf(after, 'switchboard_call_mos_count', { transport: 'rtp' })).toBe(ids.length);
    // The synthetic calls' capture actors publish no QoS, so only the RTP calls have per-call series.
    const perCallSeries = (p: Series[]) => p.filter((s) => s.name === 'switchboard_call_qos').length;
    const perOne = perCallSeries(before) / (ids.length - 1);
    expect(perOne).toBeGreaterThan(20);
    expect(perCallSeries(after)).toBe(ids.length * perOne);
  });

  it('keeps every call with its figures in /status', async () => {
    const listed = ((await (await fetch(`${d.base}/v1/calls`)).json()) as { calls: Array<{ id: string; transport: string }> }).calls;
    const st = await status(d);
    expect(st.calls.map((c) => c.id).sort()).toEqual(listed.map((c) => c.id).sort());
    const rtp = st.calls.filter((c) => c.transport === 'rtp');
    expect(rtp.length).toBeGreaterThanOrEqual(2);
    for (const c of rtp) {
      expect(Object.keys(c.qos!).sort()).toEqual(['agent', 'call', 'jitter', 'rtp']);
      expect(c.qos!['call']!['mos']).toBeGreaterThan(1);
      expect(c.qos!['jitter']).toHaveProperty('currentDelayMs');
      expect(c.qos!['rtp']).toHaveProperty('rttMs');
    }
  });
});

describe('metrics.perCallSeries in the configuration', () => {
  it('is off by default and set by its flag or environment variable', () => {
    const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, cwd: FIXTURES }).metrics.perCallSeries;
    expect(load([])).toBe(false);
    expect(load(['--metrics.per-call-series'])).toBe(true);
    expect(load([], { SWITCHBOARD_METRICS__PER_CALL_SERIES: 'true' })).toBe(true);
    expect(() => load([], { SWITCHBOARD_METRICS__PER_CALL_SERIES: 'sometimes' })).toThrow(/metrics\.perCallSeries: expected true or false/);
  });
});
