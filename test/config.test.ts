import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicConfig, type LoadConfigInput } from '../src/config.ts';

const DIR = fileURLToPath(new URL('./fixtures/config/', import.meta.url));
/** Holds a switchboard.config.json: port 7000, host 127.0.0.2, rtp.portMin 12000, logLevel debug. */
const WITH_FILE = join(DIR, 'cwd');
const EMPTY = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
afterAll(() => rmSync(EMPTY, { recursive: true, force: true }));

function load(input: Partial<LoadConfigInput> = {}) {
  return loadConfig({ argv: [], env: {}, cwd: EMPTY, parallelism: 6, ...input });
}

/** The ConfigError message `input` produces. */
function errorOf(input: Partial<LoadConfigInput>): string {
  try {
    load(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: layers', () => {
  it('has the documented defaults', () => {
    const c = load();
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 8080,
      mediaWorkers: 6,
      networkWorkers: 1,
      agentWorkers: 1,
      captureWorkers: 1,
      placement: 'call',
      spareThreads: true,
      enableFaultInjection: false,
      logLevel: 'info',
      drainDeadlineMs: 30_000,
      rtp: { portMin: 10_000, portMax: 20_000, idleTimeoutMs: 60_000 },
      sip: { enabled: false, port: 5060, tlsPort: 5061, authRealm: 'switchboard', invitesPerSecond: 50 },
      tls: {},
      agent: { default: 'echo' },
      openai: {
        baseUrl: 'https://api.openai.com/v1',
        model: 'gpt-realtime',
        voice: 'marin',
        instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
        reconnectBaseMs: 250,
      },
      pipeline: {
        hangoverMs: 500,
        timeoutMs: 10_000,
        stt: { baseUrl: 'https://api.openai.com/v1', model: 'whisper-1', apiKeyEnv: 'OPENAI_API_KEY', stream: false },
        llm: {
          baseUrl: 'https://api.openai.com/v1',
          model: 'gpt-4o-mini',
          apiKeyEnv: 'OPENAI_API_KEY',
          instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
        },
        tts: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini-tts', voice: 'alloy', apiKeyEnv: 'OPENAI_API_KEY' },
      },
      stream: { pingIntervalMs: 5000, maxMessageBytes: 4096 },
      twilio: { idleTimeoutMs: 10_000, allowUnsigned: false },
      http: {
        bodyLimitBytes: 65_536,
        maxConnections: 1024,
        maxWebSocketsPerIp: 500,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
      },
      limits: {},
      recording: { dir: 'recordings', retentionDays: 30, maxActive: 1000, twilio: false, opus: true, mp3: true, report: true, jobThreads: 1, jobQueue: 1000 },
      metrics: { perCallSeries: false },
      capture: 'none',
      playback: 'none',
      devices: { listen: 'agent', blockMs: 20 },
      secrets: {},
      configFile: undefined,
    });
    expect(c.controlToken).toBeUndefined();
  });

  it('reads switchboard.config.json from the working directory, keeping defaults for the rest', () => {
    const c = load({ cwd: WITH_FILE });
    expect(c).toMatchObject({ port: 7000, host: '127.0.0.2', logLevel: 'debug', rtp: { portMin: 12_000, portMax: 20_000 } });
    expect(c.configFile).toBe(join(WITH_FILE, 'switchboard.config.json'));
  });

  it('--config names another file (relative to the working directory), as does SWITCHBOARD_CONFIG', () => {
    expect(load({ cwd: WITH_FILE, argv: ['--config', '../other.json'] })).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      agent: { default: 'tone' },
    });
    expect(load({ cwd: WITH_FILE, env: { SWITCHBOARD_CONFIG: '../other.json' } }).port).toBe(9000);
    expect(load({ cwd: WITH_FILE, env: { SWITCHBOARD_CONFIG: 'nope.json' }, argv: ['--config=../other.json'] }).port).toBe(9000);
  });

  it('takes defaults ← file ← environment ← flags', () => {
    const env = { SWITCHBOARD_PORT: '7001', SWITCHBOARD_HOST: '127.0.0.3', SWITCHBOARD_RTP__PORT_MIN: '14000' };
    expect(load({ cwd: WITH_FILE, env })).toMatchObject({
      port: 7001,
      host: '127.0.0.3',
      logLevel: 'debug',
      rtp: { portMin: 14_000, portMax: 20_000 },
    });
    const c = load({ cwd: WITH_FILE, env, argv: ['--port', '7002', '--rtp.port-max=16000'] });
    expect(c).toMatchObject({ port: 7002, host: '127.0.0.3', rtp: { portMin: 14_000, portMax: 16_000 } });
  });

  it('reads every key from its environment variable and flag', () => {
    const env = {
      SWITCHBOARD_MEDIA_WORKERS: '3',
      SWITCHBOARD_NETWORK_WORKERS: '2',
      SWITCHBOARD_AGENT_WORKERS: '4',
      SWITCHBOARD_CONTROL_TOKEN: 'tok',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      SWITCHBOARD_DRAIN_DEADLINE_MS: '500',
      SWITCHBOARD_AGENT__DEFAULT: 'loopback',
      SWITCHBOARD_HTTP__BODY_LIMIT_BYTES: '1024',
      SWITCHBOARD_ENABLE_FAULT_INJECTION: 'yes',
      SWITCHBOARD_PIPELINE__STT__BASE_URL: 'http://127.0.0.1:8081/v1',
      SWITCHBOARD_PIPELINE__LLM__API_KEY_ENV: 'VLLM_KEY',
      SWITCHBOARD_PIPELINE__TTS__VOICE: 'nova',
      SWITCHBOARD_PIPELINE__HANGOVER_MS: '700',
      SWITCHBOARD_PIPELINE__STT__STREAM: 'true',
    };
    expect(load({ env })).toMatchObject({
      mediaWorkers: 3,
      networkWorkers: 2,
      agentWorkers: 4,
      controlToken: 'tok',
      logLevel: 'warn',
      drainDeadlineMs: 500,
      agent: { default: 'loopback' },
      http: { bodyLimitBytes: 1024 },
      enableFaultInjection: true,
      pipeline: { hangoverMs: 700, stt: { baseUrl: 'http://127.0.0.1:8081/v1', stream: true }, llm: { apiKeyEnv: 'VLLM_KEY' }, tts: { voice: 'nova' } },
    });
    const argv = ['--host', '::1', '--media-workers', '2', '--enable-fault-injection', '--log-level', 'debug', '--control-token', 'flagtok'];
    expect(load({ env, argv })).toMatchObject({
      host: '::1',
      mediaWorkers: 2,
      enableFaultInjection: true,
      logLevel: 'debug',
      controlToken: 'flagtok',
    });
  });

  it('reads booleans as words or bits, and --no-… turns a flag off', () => {
    for (const [text, value] of [['true', true], ['1', true], ['ON', true], ['false', false], ['0', false], ['no', false]] as const) {
      expect([text, load({ env: { SWITCHBOARD_ENABLE_FAULT_INJECTION: text } }).enableFaultInjection]).toEqual([text, value]);
    }
    expect(load({ env: { SWITCHBOARD_ENABLE_FAULT_INJECTION: 'true' }, argv: ['--no-enable-fault-injection'] }).enableFaultInjection).toBe(false);
    expect(load({ argv: ['--enable-fault-injection=false'] }).enableFaultInjection).toBe(false);
  });

  it('leaves other SWITCHBOARD_* variables to their owners', () => {
    expect(load({ env: { SWITCHBOARD_DSP_WASM: 'build/x.wasm', SWITCHBOARD_WHATEVER: 'x' } }).port).toBe(8080);
  });

  it('reads secrets from the environment and never shows them', () => {
    const c = load({
      env: {
        OPENAI_API_KEY: 'sk-1',
        TWILIO_ACCOUNT_SID: 'AC2',
        TWILIO_AUTH_TOKEN: 'tw3',
        SWITCHBOARD_CONTROL_TOKEN: 'ctl4',
        SWITCHBOARD_STATUS_TOKEN: 'st5',
      },
    });
    expect(c.secrets).toEqual({ openaiApiKey: 'sk-1', twilioAccountSid: 'AC2', twilioAuthToken: 'tw3' });
    expect(c.statusToken).toBe('st5');
    const shown = JSON.stringify(publicConfig(c));
    for (const secret of ['sk-1', 'AC2', 'tw3', 'ctl4', 'st5']) expect(shown).not.toContain(secret);
    expect(publicConfig(c)).toMatchObject({
      controlToken: 'set',
      statusToken: 'set',
      secrets: ['openaiApiKey', 'twilioAccountSid', 'twilioAuthToken'],
    });
    expect(publicConfig(load())).toMatchObject({ controlToken: 'none', statusToken: 'none' });
  });

  it('reads the status token, the Twilio and the connection settings from the environment and flags', () => {
    const env = {
      SWITCHBOARD_STATUS_TOKEN: 'read-only',
      SWITCHBOARD_TWILIO__ALLOW_UNSIGNED: 'true',
      SWITCHBOARD_TWILIO__PUBLIC_URL: 'https://voice.example.com',
      SWITCHBOARD_HTTP__MAX_CONNECTIONS: '64',
      SWITCHBOARD_HTTP__MAX_WEB_SOCKETS_PER_IP: '8',
      SWITCHBOARD_HTTP__HEADERS_TIMEOUT_MS: '200',
      SWITCHBOARD_HTTP__REQUEST_TIMEOUT_MS: '400',
      SWITCHBOARD_HTTP__KEEP_ALIVE_TIMEOUT_MS: '300',
    };
    expect(load({ env })).toMatchObject({
      statusToken: 'read-only',
      twilio: { allowUnsigned: true, publicUrl: 'https://voice.example.com' },
      http: { maxConnections: 64, maxWebSocketsPerIp: 8, headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 300 },
    });
    const argv = ['--status-token', 'flag-read', '--no-twilio.allow-unsigned', '--http.max-web-sockets-per-ip', '3'];
    expect(load({ env, argv })).toMatchObject({ statusToken: 'flag-read', twilio: { allowUnsigned: false }, http: { maxWebSocketsPerIp: 3 } });
  });
});

describe('loadConfig: errors name the key, the expected form and the source', () => {
  it('a bad environment value', () => {
    expect(errorOf({ env: { SWITCHBOARD_PORT: 'abc' } })).toBe(
      'config: port: expected an integer 0–65535, got "abc" (from SWITCHBOARD_PORT)',
    );
    expect(errorOf({ env: { SWITCHBOARD_HTTP__BODY_LIMIT_BYTES: '1.5' } })).toBe(
      'config: http.bodyLimitBytes: expected an integer 64–16777216, got "1.5" (from SWITCHBOARD_HTTP__BODY_LIMIT_BYTES)',
    );
    expect(errorOf({ env: { SWITCHBOARD_ENABLE_FAULT_INJECTION: 'maybe' } })).toBe(
      'config: enableFaultInjection: expected true or false, got "maybe" (from SWITCHBOARD_ENABLE_FAULT_INJECTION)',
    );
    expect(errorOf({ env: { SWITCHBOARD_CONTROL_TOKEN: '' } })).toBe(
      'config: controlToken: expected a non-empty string, got "" (from SWITCHBOARD_CONTROL_TOKEN)',
    );
    expect(errorOf({ env: { SWITCHBOARD_STREAM__PING_INTERVAL_MS: '50' } })).toBe(
      'config: stream.pingIntervalMs: expected an integer 100–600000, got 50 (from SWITCHBOARD_STREAM__PING_INTERVAL_MS)',
    );
    expect(errorOf({ env: { SWITCHBOARD_STREAM__MAX_MESSAGE_BYTES: 'lots' } })).toBe(
      'config: stream.maxMessageBytes: expected an integer 64–1048576, got "lots" (from SWITCHBOARD_STREAM__MAX_MESSAGE_BYTES)',
    );
  });

  it('a bad pipeline value', () => {
    expect(errorOf({ env: { SWITCHBOARD_PIPELINE__STT__BASE_URL: 'file:///etc/passwd' } })).toBe(
      'config: pipeline.stt.baseUrl: expected an http(s) URL such as https://api.openai.com/v1, got "file:///etc/passwd" (from SWITCHBOARD_PIPELINE__STT__BASE_URL)',
    );
    expect(errorOf({ env: { SWITCHBOARD_PIPELINE__LLM__API_KEY_ENV: 'KEY; rm -rf /' } })).toBe(
      'config: pipeline.llm.apiKeyEnv: expected an environment variable name, or empty for no key, got "KEY; rm -rf /" (from SWITCHBOARD_PIPELINE__LLM__API_KEY_ENV)',
    );
    expect(errorOf({ env: { SWITCHBOARD_PIPELINE__HANGOVER_MS: '5001' } })).toBe(
      'config: pipeline.hangoverMs: expected an integer 20–5000, got 5001 (from SWITCHBOARD_PIPELINE__HANGOVER_MS)',
    );
    expect(errorOf({ env: { SWITCHBOARD_PIPELINE__TTS__VOICE: '' } })).toBe(
      'config: pipeline.tts.voice: expected a voice name such as alloy, got "" (from SWITCHBOARD_PIPELINE__TTS__VOICE)',
    );
  });

  it('a bad flag value, an unknown flag, a flag without its value, a stray argument', () => {
    expect(errorOf({ argv: ['--media-workers', '0'] })).toBe(
      'config: mediaWorkers: expected an integer 1–256, got 0 (from --media-workers)',
    );
    expect(errorOf({ argv: ['--log-level', 'loud'] })).toBe(
      'config: logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got "loud" (from --log-level)',
    );
    expect(errorOf({ argv: ['--prot', '80'] })).toMatch(/^config: unknown option --prot \(known: --config, --host, --port, /);
    expect(errorOf({ argv: ['--port'] })).toBe('config: --port needs a value');
    expect(errorOf({ argv: ['--port', '--host', 'x'] })).toBe('config: --port needs a value');
    expect(errorOf({ argv: ['8080'] })).toBe('config: unexpected argument "8080"');
    expect(errorOf({ argv: ['--no-port'] })).toMatch(/^config: unknown option --no-port/);
  });

  it('a file that is not JSON, with the line and column', () => {
    expect(errorOf({ argv: ['--config', 'bad-json.json'], cwd: DIR })).toBe(
      'config: bad-json.json is not valid JSON: expected a property name in double quotes, found "}" at line 4, column 1 (position 41)',
    );
  });

  it('a file that is not an object, or cannot be read', () => {
    expect(errorOf({ argv: ['--config', 'not-object.json'], cwd: DIR })).toBe(
      'config: not-object.json: expected a JSON object at the top level',
    );
    expect(errorOf({ argv: ['--config', 'missing.json'], cwd: DIR })).toMatch(
      /^config: cannot read missing\.json: ENOENT: no such file or directory/,
    );
    expect(errorOf({ argv: ['--config', ''], cwd: DIR })).toBe('config: --config is empty');
  });

  it('unknown keys in the file, at any depth', () => {
    expect(errorOf({ argv: ['--config', 'unknown-key.json'], cwd: DIR }).split('\n')).toEqual([
      'config: unknown key "rtp.portMid" (from unknown-key.json); known keys: portMin, portMax, idleTimeoutMs, bindHost, latchCidr',
      expect.stringMatching(/^config: unknown key "colour" \(from unknown-key\.json\); known keys: host, port, mediaWorkers, /),
    ]);
  });

  it('"__proto__" in the file is an unknown key, never a prototype', () => {
    expect(errorOf({ argv: ['--config', 'proto.json'], cwd: DIR }).split('\n')).toEqual([
      'config: unknown key "rtp.__proto__" (from proto.json); known keys: portMin, portMax, idleTimeoutMs, bindHost, latchCidr',
      expect.stringMatching(/^config: unknown key "__proto__" \(from proto\.json\)/),
    ]);
    expect(({} as Record<string, unknown>).controlToken).toBeUndefined();
  });

  it('bad types in the file, every one reported', () => {
    expect(errorOf({ argv: ['--config', 'bad-type.json'], cwd: DIR }).split('\n')).toEqual([
      'config: port: expected an integer 0–65535, got "eighty" (from bad-type.json)',
      'config: drainDeadlineMs: expected an integer 0–3600000, got -5 (from bad-type.json)',
      'config: rtp: expected an object with keys portMin, portMax, idleTimeoutMs, bindHost, latchCidr, got 5 (from bad-type.json)',
    ]);
  });

  it('a Twilio public URL that Twilio cannot have signed: not https, with credentials, a query or a fragment', () => {
    const expected = 'expected an https URL without credentials, query or fragment, such as https://voice.example.com';
    expect(errorOf({ env: { SWITCHBOARD_TWILIO__PUBLIC_URL: 'javascript:alert(1)' } })).toBe(
      `config: twilio.publicUrl: ${expected}, got "javascript:alert(1)" (from SWITCHBOARD_TWILIO__PUBLIC_URL)`,
    );
    expect(errorOf({ argv: ['--twilio.public-url', 'http://voice.example.com'] })).toBe(
      `config: twilio.publicUrl: ${expected}, got "http://voice.example.com" (from --twilio.public-url)`,
    );
    for (const url of ['wss://voice.example.com', 'https://user:pw@voice.example.com', 'https://voice.example.com/?a=1', 'https://voice.example.com/#x', 'https://']) {
      expect(errorOf({ argv: ['--twilio.public-url', url] })).toBe(`config: twilio.publicUrl: ${expected}, got ${JSON.stringify(url)} (from --twilio.public-url)`);
    }
    for (const url of ['https://voice.example.com', 'https://203.0.113.7:8443', 'https://voice.example.com/edge/', 'HTTPS://Voice.Example.com']) {
      expect(load({ argv: ['--twilio.public-url', url] }).twilio.publicUrl).toBe(url);
    }
  });

  it('HTTP timeouts node:http would refuse, and connection limits out of range', () => {
    expect(errorOf({ argv: ['--http.headers-timeout-ms', '40000'] })).toBe(
      'config: http.headersTimeoutMs: expected at most http.requestTimeoutMs (30000), got 40000 (from --http.headers-timeout-ms)',
    );
    expect(errorOf({ env: { SWITCHBOARD_HTTP__MAX_WEB_SOCKETS_PER_IP: '0' } })).toBe(
      'config: http.maxWebSocketsPerIp: expected an integer 1–1000000, got 0 (from SWITCHBOARD_HTTP__MAX_WEB_SOCKETS_PER_IP)',
    );
    expect(errorOf({ argv: ['--http.max-connections', '8'] })).toBe(
      'config: http.maxConnections: expected an integer 16–1000000, got 8 (from --http.max-connections)',
    );
    expect(errorOf({ env: { SWITCHBOARD_STATUS_TOKEN: '' } })).toBe(
      'config: statusToken: expected a non-empty string, got "" (from SWITCHBOARD_STATUS_TOKEN)',
    );
  });

  it('an RTP range that is odd or empty', () => {
    expect(errorOf({ argv: ['--rtp.port-min', '10001'] })).toBe(
      'config: rtp.portMin: expected an even integer 1024–65534, got 10001 (from --rtp.port-min)',
    );
    expect(errorOf({ env: { SWITCHBOARD_RTP__PORT_MIN: '30000' } })).toBe(
      'config: rtp.portMin: expected a port below rtp.portMax (20000), got 30000 (from SWITCHBOARD_RTP__PORT_MIN)',
    );
    expect(errorOf({ cwd: WITH_FILE, argv: ['--rtp.port-max', '12000'] })).toBe(
      'config: rtp.portMin: expected a port below rtp.portMax (12000), got 12000 (from switchboard.config.json)',
    );
  });
});
