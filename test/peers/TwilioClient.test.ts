import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { WebSocketServer, type WebSocket } from 'ws';
import { within } from '../helpers/poll.ts';
import { TwilioClient, ulawSpeech } from './TwilioClient.ts';

const TOKEN = 'test-auth-token';
const SIGNED_URL = 'wss://voice.example.com/twilio/media';

/**
 * The "engine" side: a bare ws server that records what the client sends,
 * checking the upgrade's signature with the twilio package's own validator
 * (a GET upgrade is signed over its URL alone).
 */
interface Conn {
  ws: WebSocket;
  msgs: Array<{ atMs: number; m: Record<string, any> }>;
  closed?: number;
  streamSid?: string;
}
const conns: Conn[] = [];
const http = createServer();
const wss = new WebSocketServer({ noServer: true });
http.on('upgrade', (req, socket, head) => {
  const sig = req.headers['x-twilio-signature'];
  if (sig !== undefined && (typeof sig !== 'string' || !twilio.validateRequest(TOKEN, sig, SIGNED_URL, {}))) {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const c: Conn = { ws, msgs: [] };
    conns.push(c);
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, any>;
      if (m['event'] === 'start') c.streamSid = m['start'].streamSid;
      c.msgs.push({ atMs: performance.now(), m });
    });
    ws.on('close', (code) => (c.closed = code));
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/twilio/media`;
});
afterAll(async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise((r) => http.close(r));
});

const ulaw = (ms: number): Uint8Array => ulawSpeech('synth-m-8k', ms);
const lastConn = (): Conn => conns.at(-1)!;
const sendMedia = (c: Conn, bytes: number, fill = 0x55): void =>
  c.ws.send(JSON.stringify({ event: 'media', streamSid: c.streamSid, media: { payload: Buffer.alloc(bytes, fill).toString('base64') } }));
const sendMark = (c: Conn, name: string): void => c.ws.send(JSON.stringify({ event: 'mark', streamSid: c.streamSid, mark: { name } }));
const events = (c: Conn, e: string) => c.msgs.filter((x) => x.m['event'] === e);

describe('TwilioClient', () => {
  it('signs the upgrade and streams speech in Twilio shapes at real-time pace', async () => {
    const audio = ulaw(500);
    const client = new TwilioClient({ url, authToken: TOKEN, signatureUrl: SIGNED_URL, audio, customParameters: { agent: 'echo' } });
    await client.connect();
    await client.closed;
    const c = lastConn();
    await expect.poll(() => c.closed, within(3000, 'the server side to close')).toBeDefined();
    const kinds = c.msgs.map((x) => x.m['event']);
    expect(kinds.slice(0, 2)).toEqual(['connected', 'start']);
    expect(kinds.at(-1)).toBe('stop');
    expect(c.msgs[0]!.m).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = c.msgs[1]!.m;
    expect(start).toMatchObject({ sequenceNumber: '1', streamSid: client.streamSid });
    expect(start['start']).toEqual({
      accountSid: client.accountSid,
      streamSid: client.streamSid,
      callSid: client.callSid,
      tracks: ['inbound'],
      customParameters: { agent: 'echo' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    });
    const media = events(c, 'media');
    expect(media).toHaveLength(25);
    media.forEach(({ m }, i) => {
      expect(m['sequenceNumber']).toBe(String(i + 2));
      expect(m['media']).toMatchObject({ track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20) });
    });
    const payload = Buffer.concat(media.map(({ m }) => Buffer.from(m['media'].payload, 'base64')));
    expect(payload.equals(Buffer.from(audio))).toBe(true);
    expect(c.msgs.at(-1)!.m).toEqual({
      event: 'stop',
      sequenceNumber: '27',
      streamSid: client.streamSid,
      stop: { accountSid: client.accountSid, callSid: client.callSid },
    });
    // 25 chunks: 24 intervals of 20 ms.
    const span = media.at(-1)!.atMs - media[0]!.atMs;
    expect(span).toBeGreaterThan(480 - 40);
    expect(span).toBeLessThan(480 + 60);
  });

  it('is refused with a wrong signature', async () => {
    const client = new TwilioClient({ url, authToken: 'wrong', signatureUrl: SIGNED_URL });
    await expect(client.connect()).rejects.toThrow(/403/);
  });

  it('echoes a mark only after the audio before it has played', async () => {
    const client = new TwilioClient({ url, afterAudio: 'silence', speedup: 2 });
    await client.connect();
    const c = lastConn();
    await expect.poll(() => c.streamSid, within(3000, 'the start message')).toBeDefined();
    const sentAt = performance.now();
    for (let i = 0; i < 10; i++) sendMedia(c, 160, i);
    sendMark(c, 'a');
    for (let i = 0; i < 5; i++) sendMedia(c, 160, 10 + i);
    sendMark(c, 'b');
    await expect.poll(() => events(c, 'mark').length, within(2000, 'two echoes')).toBe(2);
    const [a, b] = events(c, 'mark');
    expect(a!.m).toMatchObject({ event: 'mark', streamSid: client.streamSid, mark: { name: 'a' } });
    expect(b!.m['mark'].name).toBe('b');
    // 200 ms and 300 ms of audio at speed 2; playout starts on the next 10 ms tick.
    expect(a!.atMs - sentAt).toBeGreaterThanOrEqual(100 - 2);
    expect(a!.atMs - sentAt).toBeLessThan(100 + 40);
    expect(b!.atMs - sentAt).toBeGreaterThanOrEqual(150 - 2);
    expect(client.marks.map((m) => [m.name, m.playedBytes, m.cleared])).toEqual([
      ['a', 1600, false],
      ['b', 2400, false],
    ]);
    expect(client.played).toHaveLength(2400);
    expect(client.played.slice(1595, 1605)).toEqual([9, 9, 9, 9, 9, 10, 10, 10, 10, 10]);
    // With nothing queued, a mark comes straight back.
    sendMark(c, 'idle');
    await expect.poll(() => events(c, 'mark').length, within(100, 'idle echo')).toBe(3);
    client.hangup();
  });

  it('on clear drops queued audio and echoes the pending marks at once', async () => {
    const client = new TwilioClient({ url, afterAudio: 'silence' });
    await client.connect();
    const c = lastConn();
    await expect.poll(() => c.streamSid, within(3000, 'the start message')).toBeDefined();
    for (let i = 0; i < 50; i++) {
      sendMedia(c, 160);
      sendMark(c, `m${i}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    const clearAt = performance.now();
    c.ws.send(JSON.stringify({ event: 'clear', streamSid: c.streamSid }));
    await expect.poll(() => events(c, 'mark').length, within(1000, 'all echoes')).toBe(50);
    const cleared = client.marks.filter((m) => m.cleared);
    const played = client.marks.filter((m) => !m.cleared);
    expect(played.length + cleared.length).toBe(50);
    expect(played.length).toBeGreaterThanOrEqual(7);
    expect(played.length).toBeLessThanOrEqual(11);
    for (const m of events(c, 'mark').slice(played.length)) expect(m.atMs - clearAt).toBeLessThan(50);
    const record = client.clears[0]!;
    expect(record.heardMs).toBeGreaterThanOrEqual(played.length * 20);
    expect(record.heardMs).toBeLessThan(played.length * 20 + 20);
    expect(record.droppedBytes + record.heardMs * 8).toBe(8000);
    expect(client.played.length).toBe(record.heardMs * 8);
    expect(client.queuedBytes()).toBe(0);
    client.hangup();
  });

  it('drops what Twilio drops, records the warning, and keeps streaming', async () => {
    const client = new TwilioClient({ url, afterAudio: 'silence' });
    await client.connect();
    const c = lastConn();
    await expect.poll(() => c.streamSid, within(3000, 'the start message')).toBeDefined();
    c.ws.send(Buffer.from([1, 2, 3]));
    c.ws.send('{"event":"media",');
    c.ws.send(JSON.stringify({ event: 'hello', streamSid: c.streamSid }));
    c.ws.send(JSON.stringify({ event: 'media', streamSid: 'MZother', media: { payload: 'AAAA' } }));
    c.ws.send(JSON.stringify({ event: 'media', streamSid: c.streamSid, media: { payload: '!!!' } }));
    c.ws.send(JSON.stringify({ event: 'media', streamSid: c.streamSid, sequenceNumber: '1', media: { payload: 'AAAA' } }));
    c.ws.send(JSON.stringify({ event: 'mark', streamSid: c.streamSid, mark: {} }));
    await expect.poll(() => client.warnings.length, within(1000, 'warnings')).toBe(7);
    expect(client.warnings.map((w) => w.code)).toEqual([31950, 31951, 31951, 31951, 31951, 31951, 31951]);
    const before = events(c, 'media').length;
    await expect.poll(() => events(c, 'media').length, within(1000, 'media after bad input')).toBeGreaterThanOrEqual(before + 3);
    expect(client.queuedBytes()).toBe(0);
    client.hangup();
  });

  it('closes on bad input when strict', async () => {
    const client = new TwilioClient({ url, afterAudio: 'silence', strict: true });
    await client.connect();
    lastConn().ws.send(Buffer.from([0]));
    expect((await client.closed).code).toBe(1008);
  });

  it('sends DTMF and leaves sequence gaps where told', async () => {
    const client = new TwilioClient({ url, audio: ulaw(200), skipSequence: new Set([4, 6]) });
    await client.connect();
    client.sendDtmf('7');
    await client.closed;
    const c = lastConn();
    await expect.poll(() => c.closed, within(3000, 'the server side to close')).toBeDefined();
    expect(events(c, 'dtmf')[0]!.m).toEqual({ event: 'dtmf', streamSid: client.streamSid, sequenceNumber: '2', dtmf: { track: 'inbound_track', digit: '7' } });
    const seqs = events(c, 'media').map((x) => Number(x.m['sequenceNumber']));
    expect(seqs).toEqual([3, 5, 7, 8, 9, 10, 11, 12]);
  });

  it('can drop the connection abruptly or go half-open', async () => {
    const a = new TwilioClient({ url, afterAudio: 'silence' });
    await a.connect();
    const ca = lastConn();
    await expect.poll(() => events(ca, 'media').length, within(3000, 'media')).toBeGreaterThan(0);
    a.abort();
    await expect.poll(() => ca.closed, within(1000, 'server close')).toBeDefined();
    expect(ca.closed).toBe(1006);

    const h = new TwilioClient({ url, afterAudio: 'silence' });
    await h.connect();
    const ch = lastConn();
    await expect.poll(() => events(ch, 'media').length, within(3000, 'media')).toBeGreaterThan(0);
    h.goHalfOpen();
    const count = ch.msgs.length;
    sendMedia(ch, 160);
    sendMark(ch, 'never');
    await new Promise((r) => setTimeout(r, 150));
    expect(ch.msgs.length).toBe(count);
    expect(ch.closed).toBeUndefined();
    expect(ch.ws.readyState).toBe(ch.ws.OPEN);
    h.abort();
  });
});
