import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_BASE_ENV } from '../../src/cli/call.ts';
import { main } from '../../src/cli/main.ts';
import { rebase } from '../../src/cli/twilioRestClient.ts';
import { TLS_CERT_PATH, TwilioRestServer, type RecordedRequest } from '../peers/TwilioRestServer.ts';

/**
 * `switchboard call` against a local stand-in of Twilio's REST API: the
 * `twilio` package's own client makes the HTTPS requests (trusting the
 * stand-in's certificate through TWILIO_CA_BUNDLE, as it would a proxy's).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'test/fixtures/switchboard.ts';
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'auth-token-of-the-test-account';
const TO = '+15551234567';
const FROM = '+15557654321';
const STREAM = 'wss://voice.example.com/twilio/media';
const REJECTED_TO = '+15550000001';

const server = new TwilioRestServer({
  accountSid: SID,
  authToken: TOKEN,
  invalidNumbers: [REJECTED_TO],
  ownedNumbers: [FROM],
});
let base = '';
const dir = mkdtempSync(join(tmpdir(), 'switchboard-call-'));
beforeAll(async () => {
  base = await server.listen();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

let out: string[] = [];
let errors: string[] = [];
beforeEach(() => {
  out = [];
  errors = [];
  server.requests.length = 0;
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  // The caller's own settings must not leak in.
  for (const name of ['SWITCHBOARD_CONFIG', 'SWITCHBOARD_TWILIO__PUBLIC_URL', API_BASE_ENV, 'TWILIO_EDGE', 'TWILIO_REGION', 'HTTP_PROXY']) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('TWILIO_ACCOUNT_SID', SID);
  vi.stubEnv('TWILIO_AUTH_TOKEN', TOKEN);
  vi.stubEnv('TWILIO_CA_BUNDLE', TLS_CERT_PATH);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const run = (...args: string[]): Promise<number> => main(['call', ...args]);
const placed = (): Record<string, unknown> => JSON.parse(out.join('\n')) as Record<string, unknown>;

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

/**
 * Just enough XML (1.0 §2.4, §3.1, §4.6) to read TwiML back: an optional
 * declaration, elements, attributes in double quotes, the five predefined
 * entities; text between elements is not expected and refused.
 */
function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml [^?]*\?>/, '');
  const unescape = (s: string): string =>
    s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack = [root];
  const tag = /<(\/?)([A-Za-z]+)((?:\s+[A-Za-z]+="[^"<]*")*)\s*(\/?)>/y;
  while (tag.lastIndex < body.length) {
    const at = tag.lastIndex;
    const m = tag.exec(body);
    if (m === null) throw new Error(`not a tag at ${at}: ${body.slice(at, at + 30)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close === '/') {
      if (stack.pop()?.name !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) attrs[a[1]!] = unescape(a[2]!);
    const el: XmlElement = { name: name!, attrs, children: [] };
    stack[stack.length - 1]!.children.push(el);
    if (selfClose !== '/') stack.push(el);
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new Error('unbalanced document');
  return root.children[0]!;
}

/** The stream URL and parameters of `<Response><Connect><Stream>`; fails on any other shape. */
function streamOf(twiml: string): { url: string; parameters: Array<[string, string]> } {
  const response = parseXml(twiml);
  expect(response.name).toBe('Response');
  expect(response.children.map((c) => c.name)).toEqual(['Connect']);
  const connect = response.children[0]!;
  expect(connect.children.map((c) => c.name)).toEqual(['Stream']);
  const stream = connect.children[0]!;
  expect(stream.children.every((c) => c.name === 'Parameter' && c.children.length === 0)).toBe(true);
  return { url: stream.attrs.url!, parameters: stream.children.map((p) => [p.attrs.name!, p.attrs.value!]) };
}

function onlyRequest(): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

describe('switchboard call: placing a call', () => {
  it('creates a Call whose TwiML connects to the stream, and prints its SID', async () => {
    const code = await run(
      '--to', TO, '--from', FROM, '--url', STREAM,
      '--param', 'agent=echo', '--param', 'note=<a & "b">=c',
      '--status-callback', 'https://voice.example.com/twilio/status',
      '--api-base', base,
    );
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const req = onlyRequest();
    expect(req.status).toBe(201);
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${SID}/Calls.json`);
    expect(req.auth).toEqual({ username: SID, password: TOKEN });
    expect(req.contentType).toBe('application/x-www-form-urlencoded');
    expect(req.userAgent).toMatch(/^twilio-node\//);
    const field = (name: string): string | undefined => TwilioRestServer.field(req, name);
    expect(field('To')).toBe(TO);
    expect(field('From')).toBe(FROM);
    expect(field('StatusCallback')).toBe('https://voice.example.com/twilio/status');
    expect(field('Url')).toBeUndefined();
    expect(streamOf(field('Twiml')!)).toEqual({
      url: STREAM,
      parameters: [
        ['agent', 'echo'],
        ['note', '<a & "b">=c'],
      ],
    });
    const call = placed();
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call).toEqual({ sid: call.sid, status: 'queued', to: TO, from: FROM });
  });

  it('takes the stream URL from twilio.publicUrl (config file or environment) and the API base from the environment', async () => {
    const file = join(dir, 'public-url.json');
    writeFileSync(file, JSON.stringify({ twilio: { publicUrl: 'https://voice.example.com:8443/engine/' } }));
    vi.stubEnv(API_BASE_ENV, base);
    expect(await run('--to', TO, '--from', FROM, '--config', file)).toBe(0);
    vi.stubEnv('SWITCHBOARD_TWILIO__PUBLIC_URL', 'https://edge.example.net');
    expect(await run('--to', TO, '--from', FROM)).toBe(0);
    expect(errors).toEqual([]);
    const urls = server.requests.map((r) => streamOf(TwilioRestServer.field(r, 'Twiml')!));
    expect(urls).toEqual([
      { url: 'wss://voice.example.com:8443/engine/twilio/media', parameters: [] },
      { url: 'wss://edge.example.net/twilio/media', parameters: [] },
    ]);
    expect(server.requests.map((r) => TwilioRestServer.field(r, 'StatusCallback'))).toEqual([undefined, undefined]);
  });

  it('rebases the REST URL onto the API base, keeping a path prefix', () => {
    const uri = `https://api.twilio.com/2010-04-01/Accounts/${SID}/Calls.json?x=1`;
    expect(rebase(uri, new URL('http://127.0.0.1:9/twilio/'))).toBe(`http://127.0.0.1:9/twilio/2010-04-01/Accounts/${SID}/Calls.json?x=1`);
    expect(rebase(uri, new URL('https://localhost:8443'))).toBe(`https://localhost:8443/2010-04-01/Accounts/${SID}/Calls.json?x=1`);
  });
});

describe('switchboard call: Twilio refuses', () => {
  it('a wrong auth token: exit 1 with error 20003 and its message', async () => {
    vi.stubEnv('TWILIO_AUTH_TOKEN', 'not-the-token');
    expect(await run('--to', TO, '--from', FROM, '--url', STREAM, '--api-base', base)).toBe(1);
    expect(onlyRequest().status).toBe(401);
    expect(out).toEqual([]);
    expect(errors.join('\n')).toMatch(/Twilio error 20003: Authentication Error - invalid username \[HTTP 401, https:\/\/www\.twilio\.com\/docs\/errors\/20003\]/);
  });

  it.each([
    ['a To it cannot dial', REJECTED_TO, FROM, /Twilio error 21211: Invalid 'To' Phone Number: \+15550000001 \[HTTP 400/],
    ['a From the account does not own', TO, '+15559990000', /Twilio error 21210: The source phone number provided, \+15559990000, is not yet verified/],
  ])('%s: exit 1 with its code and message', async (_what, to, from, message) => {
    expect(await run('--to', to, '--from', from, '--url', STREAM, '--api-base', base)).toBe(1);
    expect(onlyRequest().status).toBe(400);
    expect(errors.join('\n')).toMatch(message);
  });

  it('no answer at all (nothing listening): exit 1 naming the host', async () => {
    const gone = new TwilioRestServer({ accountSid: SID, authToken: TOKEN });
    const url = await gone.listen();
    await gone.close();
    expect(await run('--to', TO, '--from', FROM, '--url', STREAM, '--api-base', url)).toBe(1);
    expect(errors.join('\n')).toContain(`no answer from the Twilio REST API [${url}]`);
  });
});

describe('switchboard call: mistakes caught before any request (exit 2)', () => {
  it.each([
    ['--to', '5551234567'],
    ['--to', '+0123456789'],
    ['--to', '+1555123456789012'],
    ['--to', '+1 555 123 4567'],
    ['--from', 'tel:+15557654321'],
    ['--from', ''],
  ])('%s %j is not E.164', async (flag, value) => {
    const args = { '--to': TO, '--from': FROM, [flag]: value };
    expect(await run('--to', args['--to'], '--from', args['--from'], '--url', STREAM, '--api-base', base)).toBe(2);
    expect(errors.join('\n')).toContain(`${flag} must be an E.164 number such as +15551234567 [got:"${value}"]`);
    expect(server.requests).toEqual([]);
  });

  it.each([
    [['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'], 'set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in the environment'],
    [['TWILIO_AUTH_TOKEN'], 'set TWILIO_AUTH_TOKEN in the environment'],
    [['TWILIO_ACCOUNT_SID'], 'set TWILIO_ACCOUNT_SID in the environment'],
  ])('missing credentials %j', async (unset, message) => {
    for (const name of unset) vi.stubEnv(name, undefined);
    expect(await run('--to', TO, '--from', FROM, '--url', STREAM, '--api-base', base)).toBe(2);
    expect(errors.join('\n')).toContain(`switchboard call: missing Twilio credentials: ${message}`);
    expect(server.requests).toEqual([]);
  });

  const S = ['--url', STREAM];
  it.each([
    ['an API key SID as the account', { TWILIO_ACCOUNT_SID: 'SK0123456789abcdef0123456789abcdef' }, S, /TWILIO_ACCOUNT_SID is not an account SID/],
    ['no stream URL anywhere', {}, [], /no stream URL: pass --url wss:\/\/host\/twilio\/media or set twilio.publicUrl/],
    ['a ws:// stream URL', {}, ['--url', 'ws://voice.example.com/twilio/media'], /stream URL must use wss/],
    ['a bad twilio.publicUrl', { SWITCHBOARD_TWILIO__PUBLIC_URL: 'voice.example.com' }, [], /config: twilio.publicUrl: expected an https URL/],
    ['a parameter without a value', {}, [...S, '--param', 'agent'], /--param needs NAME=VALUE \[got:"agent"\]/],
    ['a parameter given twice', {}, [...S, '--param', 'a=1', '--param', 'a=2'], /--param a given twice/],
    ['TwiML over 4000 characters', {}, [...S, '--param', `big=${'x'.repeat(4000)}`], /Twilio takes at most 4000/],
    ['an ftp status callback', {}, [...S, '--status-callback', 'ftp://h/cb'], /--status-callback must be an http\(s\) URL/],
    ['an unknown option', {}, [...S, '--voice', 'alice'], /Unknown option '--voice'/],
  ])('%s', async (_what, env: Record<string, string>, args, message) => {
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    expect(await run('--to', TO, '--from', FROM, ...args, '--api-base', base)).toBe(2);
    expect(errors.join('\n')).toMatch(message);
    expect(server.requests).toEqual([]);
  });

  it('--help prints the options (exit 0); the dispatcher lists the command', async () => {
    expect(await run('--help')).toBe(0);
    expect(out.join('\n')).toContain(API_BASE_ENV);
    out = [];
    expect(await main(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/^ {2}call /m);
  });
});

describe('switchboard call: the real entry point (child process)', () => {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_') && !k.startsWith('TWILIO_') && k !== 'HTTP_PROXY'),
  );
  async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'call', ...args], {
      cwd: ROOT,
      env: { ...clean, TWILIO_CA_BUNDLE: TLS_CERT_PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  }

  it('places the call and prints the SID as JSON on stdout', async () => {
    const r = await cli(['--to', TO, '--from', FROM, '--param', 'agent=openai'], {
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: TOKEN,
      SWITCHBOARD_TWILIO__PUBLIC_URL: 'https://voice.example.com',
      [API_BASE_ENV]: base,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const call = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(call).toMatchObject({ status: 'queued', to: TO, from: FROM });
    const req = onlyRequest();
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(streamOf(TwilioRestServer.field(req, 'Twiml')!)).toEqual({ url: STREAM, parameters: [['agent', 'openai']] });
  });

  it('exits 1 with Twilio\'s message on a wrong token, and 2 on a bad number without a request', async () => {
    const env = { TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'wrong', [API_BASE_ENV]: base };
    const refused = await cli(['--to', TO, '--from', FROM, '--url', STREAM], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('switchboard call: Twilio error 20003: Authentication Error - invalid username');
    const bad = await cli(['--to', '555-1234', '--from', FROM, '--url', STREAM], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('switchboard call: --to must be an E.164 number');
    expect(server.requests).toHaveLength(1);
  });
});
