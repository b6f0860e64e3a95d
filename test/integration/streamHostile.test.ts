import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { StreamClient } from '../../src/cli/StreamClient.ts';
import { main } from '../../src/cli/main.ts';
import { writeWav } from '../../src/wire/wav.ts';
import { writeStreamHeader } from '../../src/wire/streamHeader.ts';
import { speech } from '../helpers/fixtures.ts';
import { within } from '../helpers/poll.ts';
import { extraServer, startStreamRuntime, streamBadInput, type StreamRuntime } from '../helpers/streamRuntime.ts';

/**
 * Hostile input on WS /v1/stream while one good call runs beside it: every
 * refusal is counted under its reason and answered with its close code, and
 * the good call loses nothing (no bad message, no gap, its reply keeps coming).
 * One daemon with room for two calls, so a third `start` meets a full daemon.
 */
let rt: StreamRuntime;
let good: StreamClient;
let goodSending: Promise<void>;
const clients: StreamClient[] = [];
const TOKEN = 'stream-control-token-0123';
const dir = mkdtempSync(join(tmpdir(), 'switchboard-stream-hostile-'));
const wavPath = join(dir, 'speech.wav');
writeFileSync(wavPath, writeWav({ rateHz: 8000, channels: 1, samples: speech('synth-m-8k').samples.slice(0, 1600) }));

beforeAll(async () => {
  rt = await startStreamRuntime({ maxCalls: 2 });
  good = new StreamClient({ url: rt.streamUrl, codec: 'pcmu', rateHz: 8000, agent: 'loopback' });
  await good.connect();
  // 4 s of the talker, looped: the good call runs through every test of this file.
  const s = speech('synth-m-8k').samples;
  const pcm = new Int16Array(4 * 8000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = s[i % s.length]!;
  goodSending = good.sendAudio(pcm);
}, 30_000);
afterAll(async () => {
  for (const c of clients.splice(0)) c.abort();
  good.abort();
  await rt.stop();
  rmSync(dir, { recursive: true, force: true });
});

function hostile(codec: 'pcmu' | 'opus' = 'pcmu'): StreamClient {
  const c = new StreamClient({ url: rt.streamUrl, codec, rateHz: codec === 'pcmu' ? 8000 : 48000, agent: 'loopback' });
  clients.push(c);
  return c;
}

function frame(codec: number, payloadBytes: number, seq = 0): Uint8Array {
  const out = new Uint8Array(8 + payloadBytes).fill(0xff);
  writeStreamHeader(out, seq * 20, seq, codec, 1);
  return out;
}

async function closedWith(c: StreamClient): Promise<{ code: number; reason: string }> {
  await expect.poll(() => c.closed, within(3000, 'the close')).toBeDefined();
  return c.closed!;
}

describe('hostile input on the raw stream', () => {
  it('a malformed header closes with 1007, an unknown codec and a codec other than the one started with 1003', async () => {
    const before = await streamBadInput(rt.sup);
    // The header is checked before anything else: these need no call (and make none).
    const cases: Array<[Uint8Array, number, string]> = [
      [new Uint8Array([0, 0, 0]), 1007, 'truncated-header'],
      [frame(2, 0), 1007, 'empty-frame'],
      [frame(9, 160), 1003, 'unknown-codec'],
      [frame(0, 160), 1003, 'unknown-codec'],
      [frame(2, 2000), 1009, 'frame-too-large'],
    ];
    await Promise.all(
      cases.map(async ([bytes, code, reason]) => {
        const ws = new WebSocket(rt.streamUrl, 'audio-stream-v1');
        await new Promise((r) => ws.once('open', r));
        const closed = new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, why.toString()])));
        ws.send(bytes);
        const [got, why] = await closed;
        expect(got, reason).toBe(code);
        expect(why, reason).toContain(reason);
      }),
    );
    // A codec other than the one started: the call's socket closes.
    const c = hostile();
    await c.connect();
    c.sendRaw(frame(2, 160, 0));
    c.sendRaw(frame(1, 60, 1));
    const closed = await closedWith(c);
    expect(closed.code).toBe(1003);
    expect(closed.reason).toContain('codec-mismatch');
    for (const reason of ['truncated-header', 'empty-frame', 'unknown-codec', 'frame-too-large', 'codec-mismatch']) {
      expect(await streamBadInput(rt.sup, reason), reason).toBeGreaterThan(0);
    }
    expect(await streamBadInput(rt.sup)).toBe(before + cases.length + 1);
    // Their calls are gone with their sockets; the good one stays.
    await expect.poll(() => rt.sup.listCalls().length, within(3000, 'the hostile calls ending')).toBe(1);
  });

  it('a message over stream.maxMessageBytes closes with 1009, counted', async () => {
    const c = hostile();
    await c.connect();
    c.sendRaw(frame(2, rt.config.stream.maxMessageBytes));
    expect((await closedWith(c)).code).toBe(1009);
    await expect.poll(() => streamBadInput(rt.sup, 'oversize-message'), within(2000, 'the count')).toBe(1);
  });

  it('garbage, non-ASCII and wrong-typed JSON, a flood of it, and frames before start are dropped and counted; the stream goes on', async () => {
    // The calls the tests before closed end a moment after their sockets: wait for their slot.
    await expect.poll(() => rt.sup.listCalls().length, within(3000, 'room for a call')).toBe(1);
    const c = hostile();
    await c.connect();
    const bad = [
      'not json',
      '{"event":"mark"}',
      '{"event":"mark","name":42}',
      `{"event":"mark","name":"${'x'.repeat(300)}"}`,
      '{"event":"ünïcödé ☎"}',
      '["start"]',
      'null',
      '{"event":"start","codec":"pcmu","rateHz":8000}',
      '\u0000\uffff',
    ];
    for (const t of bad) c.sendText(t);
    for (let i = 0; i < 2000; i++) c.sendText('{"event":"fl00d"}');
    await expect.poll(() => rt.sup.callQos(c.callId!)['stream']?.['badMessages'], within(5000, 'the flood counted')).toBe(bad.length + 2000);
    expect(c.closed).toBeUndefined();
    // Still a working stream: a frame goes in.
    c.sendRaw(frame(2, 160, 0));
    await expect.poll(() => rt.sup.callQos(c.callId!)['stream']?.['framesIn'], within(2000, 'the frame')).toBe(1);
    expect(await streamBadInput(rt.sup, 'unknown-event')).toBeGreaterThanOrEqual(2001);
    await c.stop();
  });

  it('a start with bad fields is refused (counted) and the socket closes 1008 when no valid start follows', async () => {
    const ws = new WebSocket(rt.streamUrl, 'audio-stream-v1');
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    for (const t of [
      '{"event":"start","codec":"gsm","rateHz":8000}',
      '{"event":"start","codec":"pcmu","rateHz":16000}',
      '{"event":"start","codec":"opus","rateHz":"48000"}',
      '{"event":"start","codec":"l16","rateHz":16000,"custom":[1]}',
      '{"event":"start","codec":"l16","rateHz":16000,"record":"yes"}',
    ]) ws.send(t);
    ws.send(frame(2, 160));
    await expect.poll(() => streamBadInput(rt.sup, 'bad-start'), within(2000, 'the refusals')).toBe(5);
    expect(await streamBadInput(rt.sup, 'frame-outside-stream')).toBe(1);
    expect(await closed).toBe(1008);
  }, 10_000);

  it('without the subprotocol the upgrade is a 400; a full daemon closes a new stream with 1013', async () => {
    const res = await new Promise<number>((resolve) => {
      const ws = new WebSocket(rt.streamUrl);
      ws.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.once('error', () => undefined);
    });
    expect(res).toBe(400);
    const second = hostile();
    await second.connect();
    const third = hostile();
    await expect(third.connect()).rejects.toThrow(/code:1013/);
    await second.stop();
  });

  it('the good call lost nothing meanwhile', async () => {
    await goodSending;
    const qos = rt.sup.callQos(good.callId!);
    expect(qos['stream']!['badMessages']).toBe(0);
    expect(qos['stream']!['sequenceGaps']).toBe(0);
    expect(qos['stream']!['framesIn']).toBe(200);
    expect(qos['jitter']!['packetsLost']).toBe(0);
    expect(good.framesReceived).toBeGreaterThan(120);
    expect(good.closed).toBeUndefined();
  }, 10_000);
});

describe('the control token', () => {
  it('guards /v1/stream: 401 without it, 403 with another, a call with it', async () => {
    await expect.poll(() => rt.sup.listCalls().length, within(3000, 'room for a call')).toBe(1);
    const guarded = await extraServer(rt, { SWITCHBOARD_CONTROL_TOKEN: TOKEN });
    try {
      const status = (headers: Record<string, string>): Promise<number> =>
        new Promise((resolve) => {
          const ws = new WebSocket(guarded.url, 'audio-stream-v1', { headers });
          ws.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
          ws.once('error', () => undefined);
        });
      const refused = async (code: string): Promise<number> => {
        const metric = await rt.sup.metrics.getSingleMetric('switchboard_bad_input_total')!.get();
        return metric.values.filter((v) => v.labels['source'] === 'http' && v.labels['reason'] === code).reduce((a, v) => a + v.value, 0);
      };
      const [unauthorized, forbidden] = [await refused('unauthorized'), await refused('forbidden')];
      expect(await status({})).toBe(401);
      expect(await status({ Authorization: 'Bearer wrong-token' })).toBe(403);
      // Refused at the upgrade, before any socket or call: counted, nothing made.
      expect(await refused('unauthorized')).toBe(unauthorized + 1);
      expect(await refused('forbidden')).toBe(forbidden + 1);
      expect(rt.sup.listCalls()).toHaveLength(1);
      // The reference client without the token (SWITCHBOARD_CONTROL_TOKEN unset): refused, exit 1, saying why.
      const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      let said = '';
      try {
        expect(await main(['stream', guarded.url, '--in', wavPath, '--out', join(dir, 'never.wav'), '--codec', 'pcmu'])).toBe(1);
      } finally {
        said = err.mock.calls.map((a) => String(a[0])).join('\n');
        err.mockRestore();
      }
      expect(said).toMatch(/401/);
      expect(existsSync(join(dir, 'never.wav'))).toBe(false);
      const c = new StreamClient({ url: guarded.url, codec: 'pcmu', rateHz: 8000, agent: 'loopback', token: TOKEN });
      clients.push(c);
      await expect(c.connect()).resolves.toMatch(/./);
      await c.stop();
    } finally {
      await guarded.close();
    }
  });
});

describe('keep-alive', () => {
  it('a client that answers no ping and sends nothing is ended after two ping periods; one that answers pings stays', async () => {
    await expect.poll(() => rt.sup.listCalls().length, within(3000, 'room for a call')).toBeLessThanOrEqual(1);
    const pinging = await extraServer(rt, { SWITCHBOARD_STREAM__PING_INTERVAL_MS: '200' });
    const sockets: WebSocket[] = [];
    try {
      const open = async (autoPong: boolean): Promise<{ ws: WebSocket; callId: Promise<string>; closed: Promise<number> }> => {
        const ws = new WebSocket(pinging.url, 'audio-stream-v1', { autoPong });
        sockets.push(ws);
        const callId = new Promise<string>((resolve) =>
          ws.on('message', (d, binary) => {
            if (!binary) resolve((JSON.parse(d.toString()) as { callId: string }).callId);
          }),
        );
        const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
        await new Promise((resolve) => ws.once('open', resolve));
        ws.send(JSON.stringify({ event: 'start', codec: 'pcmu', rateHz: 8000, agent: 'loopback' }));
        return { ws, callId, closed };
      };
      const dead = await open(false);
      const deadId = await dead.callId;
      const t0 = performance.now();
      // Terminated (no close frame: 1006), and its call ended with it.
      expect(await dead.closed).toBe(1006);
      const after = performance.now() - t0;
      expect(after).toBeGreaterThanOrEqual(350);
      expect(after).toBeLessThan(2000);
      await expect.poll(() => rt.sup.listCalls().some((c) => c.id === deadId), within(2000, 'the dead call ending')).toBe(false);
      // A quiet client that answers pings is alive: still up after five periods.
      const quiet = await open(true);
      const quietId = await quiet.callId;
      await new Promise((r) => setTimeout(r, 1000));
      expect(quiet.ws.readyState).toBe(WebSocket.OPEN);
      expect(rt.sup.listCalls().some((c) => c.id === quietId)).toBe(true);
    } finally {
      for (const ws of sockets) ws.terminate();
      await pinging.close();
    }
  });
});
