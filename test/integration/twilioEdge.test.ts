import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLOSE_ANSWER_MS, STREAM_START_TIMEOUT_MS } from '../../src/legs/twilio/TwilioMediaServer.ts';
import { within } from '../helpers/poll.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';

/**
 * The Media Stream socket's first seconds, against the real HTTP server and
 * supervisor: a socket must send a valid `start` within the start timeout
 * (200 ms here, injected; 5 s by default), whatever else it sends, or it is
 * closed with 1008, counted, and cut if it ignores the close.
 */
const START_TIMEOUT_MS = 200;

let rt: TwilioRuntime;
beforeAll(async () => {
  rt = await startTwilioRuntime({ http: { twilioStartTimeoutMs: START_TIMEOUT_MS } });
});
afterAll(async () => {
  await rt?.stop();
});

async function badInput(reason: string): Promise<number> {
  const text = await (await fetch(`${rt.base}/metrics`)).text();
  const m = new RegExp(`^switchboard_bad_input_total\\{source="twilio",reason="${reason}"\\} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** Opens a socket, runs `send` on it every 40 ms; resolves with how and when (ms after open) the server closed it. */
async function streamUntilClosed(send: (ws: WebSocket, n: number) => void, limitMs = 3_000) {
  const ws = new WebSocket(rt.mediaUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  const openedMs = performance.now();
  let n = 0;
  const timer = setInterval(() => {
    if (ws.readyState === ws.OPEN) send(ws, n++);
  }, 40);
  try {
    return await new Promise<{ code: number; reason: string; afterMs: number; sent: number }>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
      ws.once('close', (code, reason) => {
        clearTimeout(limit);
        resolve({ code, reason: reason.toString(), afterMs: performance.now() - openedMs, sent: n });
      });
    });
  } finally {
    clearInterval(timer);
    ws.terminate();
  }
}

const CONNECTED = JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });

function start(encoding = 'audio/x-mulaw'): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: 'AC' + '2'.repeat(32),
      streamSid: 'MZ' + '7'.repeat(32),
      callSid: 'CA' + '7'.repeat(32),
      tracks: ['inbound'],
      customParameters: {},
      mediaFormat: { encoding, sampleRate: 8000, channels: 1 },
    },
    streamSid: 'MZ' + '7'.repeat(32),
  });
}

describe('WS /twilio/media: the start timeout', () => {
  it('is 5 s by default', () => {
    expect(STREAM_START_TIMEOUT_MS).toBe(5_000);
  });

  it('closes a socket that sends nothing with 1008, and counts it', async () => {
    const before = await badInput('no-start');
    const closed = await streamUntilClosed(() => undefined);
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 1008, reason: `no valid start within ${START_TIMEOUT_MS} ms` });
    expect(closed.afterMs).toBeGreaterThanOrEqual(START_TIMEOUT_MS - 20);
    expect(await badInput('no-start')).toBe(before + 1);
  });

  it('whatever else it sends: connected, media before start, garbage, binary, non-ASCII', async () => {
    const junk = [
      CONNECTED,
      JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: 'MZ1', media: { track: 'inbound', chunk: '1', timestamp: '20', payload: '/w==' } }),
      '{"event":"start"',
      'é'.repeat(4000),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      JSON.stringify({ event: 'mark', streamSid: 'MZ1', sequenceNumber: '3', mark: { name: '☎'.repeat(200) } }),
    ];
    const closed = await streamUntilClosed((ws, n) => ws.send(junk[n % junk.length]!));
    expect(closed.code).toBe(1008);
    // It kept sending right up to the close: traffic does not extend the timeout.
    expect(closed.sent).toBeGreaterThanOrEqual(3);
    expect(closed.afterMs).toBeLessThan(START_TIMEOUT_MS + 1_500);
    expect(rt.sup.listCalls()).toEqual([]);
  });

  it('a start the server refused (unsupported media format) does not count as one', async () => {
    const closed = await streamUntilClosed((ws, n) => {
      if (n === 0) ws.send(start('audio/L16'));
    });
    expect(closed.code).toBe(1008);
    expect(rt.sup.listCalls()).toEqual([]);
  });

  it('leaves a stream that started in time alone', async () => {
    const client = new TwilioClient({ url: rt.mediaUrl, afterAudio: 'silence' });
    await client.connect();
    try {
      await expect.poll(() => rt.sup.listCalls().length, within(5_000, 'the call')).toBe(1);
      const outcome = await Promise.race([client.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), START_TIMEOUT_MS * 3))]);
      expect(outcome).toBe('open');
      expect(rt.sup.listCalls()).toHaveLength(1);
    } finally {
      client.hangup();
      await client.closed;
    }
    await expect.poll(() => rt.sup.listCalls().length, within(5_000, 'the call to end')).toBe(0);
  });

  it('cuts a peer that ignores the close frame', async () => {
    const port = new URL(rt.base).port;
    const sock: Socket = connect({ port: Number(port), host: '127.0.0.1' });
    const openedMs = performance.now();
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.write(
      'GET /twilio/media HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // Never answers the close frame; the server cuts it once CLOSE_ANSWER_MS has passed.
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error('the server never cut the socket')), 10_000);
      sock.once('end', () => {
        clearTimeout(limit);
        resolve(performance.now() - openedMs);
      });
    });
    sock.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    const closeFrame = text.indexOf('\x88');
    expect(closeFrame).toBeGreaterThan(0);
    expect(text.charCodeAt(closeFrame + 2) * 256 + text.charCodeAt(closeFrame + 3)).toBe(1008);
    expect(closedAfterMs).toBeGreaterThanOrEqual(START_TIMEOUT_MS + CLOSE_ANSWER_MS - 50);
    expect(closedAfterMs).toBeLessThan(START_TIMEOUT_MS + CLOSE_ANSWER_MS + 2_000);
  });
});
