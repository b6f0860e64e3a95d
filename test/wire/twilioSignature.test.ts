import { createHmac } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { createServer, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  formParams,
  TWILIO_SIGNATURE_HEADER,
  twilioSignatureFor,
  validateUpgradeSignature,
  validateWebhookSignature,
} from '../../src/wire/twilioSignature.ts';

const TOKEN = '12345678901234567890123456789012';
const PUBLIC = 'https://voice.example.com';

/** Twilio's documented scheme: HMAC-SHA1 over the URL and the sorted name+value pairs, base64. */
function independentSignature(token: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

const FORM = { CallSid: 'CA123', AccountSid: 'AC456', From: '+15551230000', To: '+15557650000', CallStatus: 'ringing' };

describe('signature functions', () => {
  it('accepts what Twilio signs, computed independently', () => {
    const url = `${PUBLIC}/twilio/voice`;
    const sig = independentSignature(TOKEN, url, FORM);
    expect(twilioSignatureFor(TOKEN, url, FORM)).toBe(sig);
    expect(validateWebhookSignature(TOKEN, sig, url, FORM)).toBe(true);
    expect(validateUpgradeSignature(TOKEN, independentSignature(TOKEN, 'wss://voice.example.com/twilio/media', {}), 'wss://voice.example.com/twilio/media')).toBe(true);
  });

  it('refuses a wrong token, a changed field, another URL, missing or repeated headers', () => {
    const url = `${PUBLIC}/twilio/voice`;
    const sig = independentSignature(TOKEN, url, FORM);
    expect(validateWebhookSignature('other-token', sig, url, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, sig, url, { ...FORM, To: '+15550000000' })).toBe(false);
    expect(validateWebhookSignature(TOKEN, sig, `${PUBLIC}/twilio/voice2`, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, undefined, url, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, '', url, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, [sig, sig], url, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, [sig], url, FORM)).toBe(true);
    expect(validateWebhookSignature('', sig, url, FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, sig, 'not a url', FORM)).toBe(false);
    expect(validateWebhookSignature(TOKEN, sig.slice(0, -2), url, FORM)).toBe(false);
  });

  it('decodes a form body', () => {
    expect(formParams('A=1&B=x%20y&C=%2B1')).toEqual({ A: '1', B: 'x y', C: '+1' });
  });
});

describe('over HTTP and a WebSocket upgrade on 127.0.0.1', () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ok = validateWebhookSignature(TOKEN, req.headers[TWILIO_SIGNATURE_HEADER], `${PUBLIC}${req.url}`, formParams(body));
      res.writeHead(ok ? 200 : 403).end();
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!validateUpgradeSignature(TOKEN, req.headers[TWILIO_SIGNATURE_HEADER], `wss://voice.example.com${req.url}`)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.close(1000));
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    wss.close();
    await new Promise((r) => server.close(r));
  });

  const post = (signature: string | undefined, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (signature !== undefined) headers[TWILIO_SIGNATURE_HEADER] = signature;
      const req = request({ host: '127.0.0.1', port, path: '/twilio/voice', method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
  const upgrade = (signature: string | undefined): Promise<number> =>
    new Promise((resolve) => {
      const headers: Record<string, string> = signature === undefined ? {} : { [TWILIO_SIGNATURE_HEADER]: signature };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/twilio/media`, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });

  it('answers the signed webhook and refuses others with 403', async () => {
    const body = new URLSearchParams(FORM).toString();
    expect(await post(independentSignature(TOKEN, `${PUBLIC}/twilio/voice`, FORM), body)).toBe(200);
    expect(await post(undefined, body)).toBe(403);
    expect(await post(independentSignature(TOKEN, `${PUBLIC}/twilio/voice`, FORM), body + '&Extra=1')).toBe(403);
  });

  it('upgrades the signed WebSocket request and refuses others with 403', async () => {
    expect(await upgrade(independentSignature(TOKEN, 'wss://voice.example.com/twilio/media', {}))).toBe(101);
    expect(await upgrade(undefined)).toBe(403);
    expect(await upgrade(independentSignature('wrong', 'wss://voice.example.com/twilio/media', {}))).toBe(403);
  });
});
