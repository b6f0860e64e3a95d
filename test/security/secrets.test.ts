import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { twilioSignatureFor } from '../../src/wire/twilioSignature.ts';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess.ts';

/**
 * Secrets in logs: the daemon started with every token and key set, at log
 * level debug, then put through what makes it log (refused credentials, a
 * forged webhook, a signed one, a refused WebSocket, malformed bodies, a
 * call). No secret, nor a wrong token a client sent, appears in any log
 * line, stderr, /status, /metrics or the dashboard page.
 */

const SECRETS = {
  SWITCHBOARD_CONTROL_TOKEN: 'ctl-5f0c1e7a9b2d4c6e8f1a3b5c7d9e0f12',
  SWITCHBOARD_STATUS_TOKEN: 'sts-a1b2c3d4e5f60718293a4b5c6d7e8f90',
  TWILIO_AUTH_TOKEN: 'tw-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d',
  TWILIO_ACCOUNT_SID: 'ACsecret0123456789abcdef0123456789',
  OPENAI_API_KEY: 'sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0',
};
/** A client's wrong guess: it may be another system's real token. */
const WRONG = 'wrong-token-3c2b1a0f9e8d7c6b5a49382716';
const PUBLIC_URL = 'https://voice.example.com';

let d: DaemonProcess;
let base: string;
const control = { authorization: `Bearer ${SECRETS.SWITCHBOARD_CONTROL_TOKEN}` };
const status = { authorization: `Bearer ${SECRETS.SWITCHBOARD_STATUS_TOKEN}` };

beforeAll(async () => {
  d = spawnDaemon(['--port', '0', '--media-workers', '1', '--log-level', 'debug'], {
    ...SECRETS,
    SWITCHBOARD_TWILIO__PUBLIC_URL: PUBLIC_URL,
  });
  // Generous: the workers' start is CPU-bound and a contended machine slows it many times over.
  base = `http://127.0.0.1:${(await d.logged((l) => l.msg === 'listening', 'listening', 60_000)).port}`;
}, 90_000);
afterAll(() => d?.child.kill('SIGKILL'));

/** Every spelling a secret could leak in: as is, base64 (Basic credentials), URL-encoded. */
function spellings(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64').slice(0, 24), encodeURIComponent(secret)];
}

describe('secrets', () => {
  it('never appear in logs, /status, /metrics or the dashboard', async () => {
    const json = { ...control, 'content-type': 'application/json' };
    // Refused credentials, as Bearer and as Basic.
    expect((await fetch(`${base}/v1/calls`, { headers: { authorization: `Bearer ${WRONG}` } })).status).toBe(403);
    expect((await fetch(`${base}/status`, { headers: { authorization: `Basic ${Buffer.from(`u:${WRONG}`).toString('base64')}` } })).status).toBe(403);
    expect((await fetch(`${base}/v1/calls`, { headers: { authorization: `Token ${WRONG}` } })).status).toBe(401);
    // Malformed bodies, quoted back in errors and logged as bad input.
    expect((await fetch(`${base}/v1/calls`, { method: 'POST', headers: json, body: '{"transport":"rtp' })).status).toBe(400);
    expect((await fetch(`${base}/v1/calls`, { method: 'POST', headers: json, body: '{"transport":"rtp","remote":"nowhere"}' })).status).toBe(422);
    // A forged and a signed webhook.
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = 'CallSid=CA1&From=%2B15550001111';
    expect((await fetch(`${base}/twilio/voice`, { method: 'POST', headers: { ...form, 'x-twilio-signature': WRONG }, body })).status).toBe(403);
    const signature = twilioSignatureFor(SECRETS.TWILIO_AUTH_TOKEN, `${PUBLIC_URL}/twilio/voice`, { CallSid: 'CA1', From: '+15550001111' });
    expect((await fetch(`${base}/twilio/voice`, { method: 'POST', headers: { ...form, 'x-twilio-signature': signature }, body })).status).toBe(200);
    // A Media Streams upgrade with a forged signature.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/twilio/media`, { headers: { 'x-twilio-signature': WRONG } });
    const refused = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(403);
    // A call, seen in /status, and hung up.
    const call = await fetch(`${base}/v1/calls`, { method: 'POST', headers: json, body: '{"transport":"synthetic"}' });
    expect(call.status).toBe(201);
    const { id } = (await call.json()) as { id: string };

    const pages = await Promise.all(
      ['/status', '/metrics', '/dashboard', `/v1/calls/${id}`].map(async (path) => {
        const res = await fetch(`${base}${path}`, { headers: path.startsWith('/v1') ? control : status });
        expect(res.status, path).toBe(200);
        return `${path}: ${await res.text()}`;
      }),
    );
    expect((await fetch(`${base}/v1/calls/${id}`, { method: 'DELETE', headers: control })).status).toBe(204);
    // The bad-input lines are logged (at a rate limit): wait for them before reading the log.
    await vi.waitFor(() => expect(d.lines.some((l) => JSON.stringify(l).includes('twilio'))).toBe(true), { timeout: 5_000, interval: 20 });

    const logs = d.lines.map((l) => JSON.stringify(l));
    expect(logs.length).toBeGreaterThan(5);
    const everything = [...logs, d.stderr(), ...pages].join('\n');
    for (const secret of [...Object.values(SECRETS), WRONG]) {
      for (const s of spellings(secret)) expect(everything.includes(s), `"${s.slice(0, 8)}…" leaked`).toBe(false);
    }
    // What the log does say: that the tokens are set, not what they are.
    const config = d.lines.find((l) => l.config !== undefined)?.config as Record<string, unknown>;
    expect(config).toMatchObject({ controlToken: 'set', statusToken: 'set' });
    expect(config.secrets).toEqual(expect.arrayContaining(['twilioAuthToken', 'openaiApiKey', 'twilioAccountSid']));
  });
});
