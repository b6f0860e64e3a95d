import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { preflight } from '../../src/config/preflight.ts';
import { loadOpenAISettings } from '../../src/supervisor/agentConfig.ts';

/**
 * Values that read well but cannot work on this machine are found before
 * the daemon starts, named with where they came from (exit 2 through
 * `switchboard start`: test/cli/start.test.ts).
 */
const DIR = mkdtempSync(join(tmpdir(), 'switchboard-preflight-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const CERT = fileURLToPath(new URL('../peers/tls/localhost.crt', import.meta.url));

function file(name: string, text: string): string {
  const path = join(DIR, name);
  writeFileSync(path, text);
  return path;
}

async function problems(argv: string[], env: Record<string, string> = {}): Promise<string[]> {
  const config = loadConfig({ argv, env, cwd: DIR, parallelism: 1 });
  try {
    await preflight(config);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  return [];
}

describe('preflight: rtp.bindHost', () => {
  it('an address this machine does not have (8.8.8.8) is refused, naming the key and its source', async () => {
    expect(await problems(['--rtp.bind-host', '8.8.8.8'])).toEqual([
      'config: rtp.bindHost: cannot bind UDP on "8.8.8.8" (from --rtp.bind-host): no such address on this machine (EADDRNOTAVAIL); expected an IP address of this machine',
    ]);
    expect(await problems([], { SWITCHBOARD_RTP__BIND_HOST: '192.0.2.1' })).toEqual([
      expect.stringMatching(/^config: rtp\.bindHost: cannot bind UDP on "192\.0\.2\.1" \(from SWITCHBOARD_RTP__BIND_HOST\): no such address/),
    ]);
  });

  it('loopback addresses (all of 127/8), the unspecified address and no setting at all pass', async () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '0.0.0.0']) expect([host, await problems(['--rtp.bind-host', host])]).toEqual([host, []]);
    expect(await problems([])).toEqual([]);
  });
});

describe('preflight: openai.toolsFile and openai.caFile', () => {
  it('a missing tools file', async () => {
    const missing = join(DIR, 'no-tools.json');
    expect(await problems(['--openai.tools-file', missing])).toEqual([
      `config: openai.toolsFile: ${JSON.stringify(missing)} (from --openai.tools-file) cannot be read [ENOENT: no such file or directory, open '${missing}']; ` +
        'expected a path to a JSON file holding an array of tools',
    ]);
  });

  it('a tools file that is not JSON (with the position), or not an array', async () => {
    const broken = file('broken.json', '[{"type": "function",]\n');
    expect(await problems([], { SWITCHBOARD_OPENAI__TOOLS_FILE: broken })).toEqual([
      expect.stringMatching(
        new RegExp(`^config: openai\\.toolsFile: "${broken}" \\(from SWITCHBOARD_OPENAI__TOOLS_FILE\\) is not valid JSON: .* at line 1, column 22 .*; expected a path`),
      ),
    ]);
    const object = file('object.json', '{"tools": []}');
    expect(await problems(['--openai.tools-file', object])).toEqual([
      `config: openai.toolsFile: ${JSON.stringify(object)} (from --openai.tools-file) holds an object, not an array; expected a path to a JSON file holding an array of tools`,
    ]);
  });

  it('a CA file that is missing, holds no certificate, or a certificate that does not parse', async () => {
    const missing = join(DIR, 'no-ca.pem');
    expect(await problems(['--openai.ca-file', missing])).toEqual([expect.stringMatching(/^config: openai\.caFile: ".*no-ca\.pem" \(from --openai\.ca-file\) cannot be read \[ENOENT/)]);
    const text = file('text.pem', 'not a certificate\n');
    expect(await problems(['--openai.ca-file', text])).toEqual([
      `config: openai.caFile: ${JSON.stringify(text)} (from --openai.ca-file) holds no PEM certificate; expected a path to a PEM file of CA certificates`,
    ]);
    const good = readFileSync(CERT, 'utf8');
    const second = file('second-bad.pem', `${good}\n-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`);
    expect(await problems(['--openai.ca-file', second])).toEqual([
      expect.stringMatching(/^config: openai\.caFile: ".*second-bad\.pem" \(from --openai\.ca-file\) has a certificate that does not parse \(number 2\)/),
    ]);
  });

  it('good files pass, and are what the agent gets', async () => {
    const tools = file('tools.json', '[{"type":"function","name":"lookup","parameters":{"type":"object"}}]');
    expect(await problems(['--openai.tools-file', tools, '--openai.ca-file', CERT])).toEqual([]);
    const settings = loadOpenAISettings({ baseUrl: 'https://api.openai.com/v1', model: 'm', voice: 'v', instructions: '', toolsFile: tools, caFile: CERT }, 'sk');
    expect(settings.tools).toEqual([{ type: 'function', name: 'lookup', parameters: { type: 'object' } }]);
    expect(settings.ca).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('every problem at once, one line each; the runtime sees the same ConfigError without a source', async () => {
    const missing = join(DIR, 'absent.json');
    const lines = await problems(['--rtp.bind-host', '8.8.8.8', '--openai.tools-file', missing]);
    expect(lines.map((l) => l.split(':').slice(0, 2).join(':'))).toEqual(['config: rtp.bindHost', 'config: openai.toolsFile']);
    expect(() => loadOpenAISettings({ baseUrl: 'https://x', model: 'm', voice: 'v', instructions: '', toolsFile: missing }, undefined)).toThrow(
      new ConfigError(
        `config: openai.toolsFile: ${JSON.stringify(missing)} cannot be read [ENOENT: no such file or directory, open '${missing}']; expected a path to a JSON file holding an array of tools`,
      ),
    );
  });
});
