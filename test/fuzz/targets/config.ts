import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { BY_ENV, BY_FLAG } from '../../../src/config/keys.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedText } from '../mutations.ts';

/**
 * The operator's inputs: environment values, command-line flags and the
 * config file. loadConfig either returns a configuration or throws a
 * ConfigError naming the key; anything else (a TypeError from a value of
 * the wrong shape) would be a stack trace instead of a message.
 */

/** An empty working directory, so no switchboard.config.json is picked up; the fuzzed file is written here. */
const DIR = mkdtempSync(join(tmpdir(), 'switchboard-fuzz-config-'));
const FILE = join(DIR, 'fuzz.config.json');

function load(argv: readonly string[], env: Record<string, string>): string | undefined {
  try {
    const config = loadConfig({ argv, env, cwd: DIR, parallelism: 2 });
    if (typeof config.port !== 'number') return 'a loaded config without a numeric port';
  } catch (err) {
    if (err instanceof ConfigError && err.message.startsWith('config')) return undefined;
    throw err;
  }
  return undefined;
}

const ENV_NAMES = [...BY_ENV.keys()];
const FLAGS = [...BY_FLAG.keys(), '--config', '--no-' + [...BY_FLAG.keys()][0]!.slice(2)];
const VALUE = fc.oneof(
  fc.constantFrom('', '0', '-1', '65536', '8080', 'true', 'off', '1e3', ' 12 ', '0x10', '127.0.0.1', '::', 'info', '9'.repeat(30)),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

export const configEnvTarget = fuzzTarget({
  name: 'config-env',
  entry: 'loadConfig (src/config.ts): SWITCHBOARD_* environment values and flags',
  inputs: fc.tuple(
    fc.dictionary(fc.constantFrom(...ENV_NAMES), VALUE, { maxKeys: 4 }),
    fc.array(fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...FLAGS).chain((f) => VALUE.map((v) => `${f}=${v}`)), VALUE), { maxLength: 5 }),
  ),
  ciRuns: 400,
  check([env, argv]) {
    // --config would read whatever file a fuzzed value names: left to the file target.
    return load(argv.filter((a) => !a.startsWith('--config')), env);
  },
});

const FILES = [
  '{"port":0,"logLevel":"info","drainDeadlineMs":5000,"mediaWorkers":1}',
  '{"rtp":{"portMin":10000,"portMax":10100},"http":{"bodyLimitBytes":1024}}',
  '{"__proto__":{"port":1},"constructor":{"prototype":{}}}',
  '{"agent":{"default":"echo"},"twilio":{"allowUnsigned":true}}',
];

export const configFileTarget = fuzzTarget({
  name: 'config-file',
  entry: 'loadConfig --config FILE (src/config.ts, src/config/layers.ts)',
  inputs: fc.oneof(mutatedText(FILES), fc.json({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ rtp: v, port: v }))),
  ciRuns: 300,
  check(text) {
    writeFileSync(FILE, text);
    return load(['--config', FILE], {});
  },
});
