import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WS_CLOSE_REASON_MAX_BYTES } from '../../src/wire/text.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';
import { startTwilioDaemon, type TwilioDaemon } from '../helpers/twilioDaemon.ts';

/**
 * Hostile and careless input against a daemon process, while one good call
 * plays: non-ASCII and oversized values in every field the daemon echoes
 * (close reasons, error messages, outbound messages) or logs. Each one is
 * refused with a clear error, counted, and costs nothing else: the process
 * stays up and the good call keeps its audio.
 */
let d: TwilioDaemon;
let good: TwilioClient;

beforeAll(async () => {
  d = await startTwilioDaemon();
  // The tone agent talks all the time: the good call's audio never pauses by itself.
  good = new TwilioClient({ url: d.mediaUrl, customParameters: { agent: 'tone' }, afterAudio: 'silence', audio: new Uint8Array(160).fill(0xff) });
  await good.connect();
});
afterAll(async () => {
  good?.abort();
  await d?.stop();
});

const media = (c: TwilioClient): number => c.received.filter((r) => r.text.includes('"event":"media"')).length;

/** Opens a stream and sends `messages` (objects as JSON, strings as they are); resolves with how it closed, or 'open'. */
async function hostileStream(messages: unknown[], waitMs = 1500): Promise<{ code: number; reason: string } | 'open'> {
  const ws = new WebSocket(d.mediaUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => undefined);
  for (const m of messages) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  const result = await Promise.race([closed, new Promise<'open'>((r) => setTimeout(() => r('open'), waitMs))]);
  if (result === 'open') ws.terminate();
  return result;
}

function start(over: { customParameters?: Record<string, string>; streamSid?: string; callSid?: string; tracks?: unknown; encoding?: string }): unknown {
  return {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: 'AC' + '2'.repeat(32),
      streamSid: over.streamSid ?? 'MZ' + '9'.repeat(32),
      callSid: over.callSid ?? 'CA' + '9'.repeat(32),
      tracks: over.tracks ?? ['inbound'],
      customParameters: over.customParameters ?? {},
      mediaFormat: { encoding: over.encoding ?? 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
    streamSid: over.streamSid ?? 'MZ' + '9'.repeat(32),
  };
}

const E70 = 'é'.repeat(70);
/** Agents nobody has, in the encodings that break character-counted cuts: 2-, 3- and 4-byte UTF-8, lone surrogates, sheer size. */
const BAD_AGENTS = [E70, '€'.repeat(60), '😀'.repeat(40), '\ud800'.repeat(50), 'x'.repeat(20_000), 'a\r\nb\u0000c'];

describe('hostile input against a daemon process', () => {
  it('a start naming an unknown non-ASCII or oversized agent closes that stream with 1011 and a reason that fits a close frame', async () => {
    for (const agent of BAD_AGENTS) {
      const closed = await hostileStream([{ event: 'connected', protocol: 'Call', version: '1.0.0' }, start({ customParameters: { agent } })]);
      expect(closed, `agent of ${agent.length} chars`).not.toBe('open');
      const { code, reason } = closed as { code: number; reason: string };
      expect(code).toBe(1011);
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(WS_CLOSE_REASON_MAX_BYTES);
      expect(reason).toMatch(/^agent: expected one of/);
    }
    expect(d.child.exitCode).toBeNull();
  });

  it('oversized and non-ASCII values in every other field are refused and counted; the stream and the process go on', async () => {
    const before = await d.twilioBadInput();
    const huge = 'ü'.repeat(30_000);
    const sid = 'MZ' + '9'.repeat(32);
    const refused = [
      start({ streamSid: E70 }),
      start({ callSid: huge }),
      start({ encoding: huge }),
      start({ tracks: [huge, 1] }),
      { event: huge, streamSid: sid },
      { event: 'dtmf', sequenceNumber: '2', streamSid: sid, dtmf: { track: 'inbound_track', digit: huge } },
      { event: 'media', sequenceNumber: huge, streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '' } },
      { event: 'media', sequenceNumber: '3', streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: huge } },
      '{"event":"' + '😀'.repeat(20_000),
      'x'.repeat(70_000),
    ];
    const closed = await hostileStream(refused, 800);
    expect(closed).toBe('open');
    const counted = (await d.twilioBadInput()) - before;
    expect(counted).toBe(refused.length);
    expect(d.child.exitCode).toBeNull();
  });

  it('a good start with non-ASCII custom parameters and marks makes a call; hanging up frees it', async () => {
    const p = new TwilioClient({
      url: d.mediaUrl,
      streamSid: 'MZ' + '7'.repeat(32),
      customParameters: { agent: 'echo', [E70]: '😀'.repeat(500), From: '\ud800' },
      audio: new Uint8Array(8000).fill(0xff),
    });
    try {
      await p.connect();
      p.sendRaw(JSON.stringify({ event: 'mark', sequenceNumber: '2', streamSid: p.streamSid, mark: { name: 'é'.repeat(5000) } }));
      await expect.poll(async () => (await d.calls()).some((c) => c.twilio?.streamSid === p.streamSid), { timeout: 10_000 }).toBe(true);
      const closed = await p.closed;
      expect(closed.code).toBe(1000);
      await expect.poll(async () => (await d.calls()).some((c) => c.twilio?.streamSid === p.streamSid), { timeout: 10_000 }).toBe(false);
    } finally {
      p.abort();
    }
  });

  it('HTTP requests with hostile values get a 4xx whose message quotes them shortened', async () => {
    const huge = 'é'.repeat(20_000);
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${d.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const replies = [
      await post('/v1/calls', { transport: huge }),
      await post('/v1/calls', { transport: 'rtp', codec: huge, remote: '127.0.0.1:4000' }),
      await post('/v1/calls', { transport: 'rtp', codec: 'PCMU', remote: `${huge}:4000` }),
      await post('/v1/calls', { transport: 'rtp', codec: 'PCMU', remote: '127.0.0.1:4000', agent: huge }),
      await post('/v1/calls', { transport: 'synthetic', rateHz: huge }),
      await fetch(`${d.base}/twilio/voice?agent=${encodeURIComponent(E70)}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'CallSid=CA1' }),
      await fetch(`${d.base}/${encodeURIComponent(huge.slice(0, 2000))}`),
    ];
    for (const r of replies) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      const text = await r.text();
      expect(text.length).toBeLessThan(1000);
      expect((JSON.parse(text) as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
    }
    expect((await fetch(`${d.base}/healthz`)).status).toBe(200);
  });

  it('through all of it the good call kept its audio and the process kept running', async () => {
    const calls = await d.calls();
    expect(calls.some((c) => c.twilio?.streamSid === good.streamSid)).toBe(true);
    const n = media(good);
    expect(n).toBeGreaterThan(50);
    await expect.poll(() => media(good), { timeout: 5000 }).toBeGreaterThan(n + 10);
    expect(d.child.exitCode).toBeNull();
    expect(d.lines.some((l) => l['msg'] === 'uncaught exception on the main thread: draining, then stopping')).toBe(false);
  });
});
