import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config/ConfigError.ts';
import { expectedAt, schemaAt, unwrap } from './config/keys.ts';
import { isPlainObject, mergeLayer, parseFlags, readEnv, readFile, type Raw } from './config/layers.ts';
import { CONFIG_FILE, ConfigSchema, defaults, ENV_CONFIG_FILE, SECRET_ENV, type Config, type Secrets } from './config/schema.ts';

/**
 * The daemon's configuration. Layers, each overriding the one before:
 *
 *   defaults ← switchboard.config.json in the working directory, or --config FILE
 *            ← environment (SWITCHBOARD_PORT, SWITCHBOARD_RTP__PORT_MIN, …)
 *            ← command-line flags (--port, --rtp.port-min, …)
 *
 * The schema (config/schema.ts) is the single list of keys: environment names and flags
 * are derived from it (camelCase → SCREAMING_SNAKE / kebab-case, nesting by
 * `__` / `.`), and each leaf's `describe()` text is what an error says was
 * expected. Every value remembers which layer set it, so an error can name
 * the variable, flag or file to fix.
 */

export { configHelp } from './config/keys.ts';
export { ConfigError } from './config/ConfigError.ts';
export {
  AGENTS,
  CONFIG_FILE,
  defaults,
  ENV_CONFIG_FILE,
  ENV_PREFIX,
  LOG_LEVELS,
  type Config,
  type Secrets,
} from './config/schema.ts';

export interface LoadConfigInput {
  /** The command's arguments (after `start`). */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Default for mediaWorkers (os.availableParallelism() when not given). */
  parallelism?: number;
}

// ── loading ─────────────────────────────────────────────────────────────────

function valueAt(raw: Raw, path: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const seg of path) node = isPlainObject(node) ? node[String(seg)] : undefined;
  return node;
}

function sourceOf(sources: ReadonlyMap<string, string>, path: readonly PropertyKey[]): string {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).join('.'));
    if (s !== undefined) return s;
  }
  return 'defaults';
}

function describeIssue(issue: z.core.$ZodIssue, raw: Raw, sources: Map<string, string>): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length === 0 ? '' : `${issue.path.join('.')}.`;
    const known = schemaAt(issue.path);
    const inner = known === undefined ? undefined : unwrap(known);
    const names = inner instanceof z.ZodObject ? Object.keys(inner.shape).join(', ') : '';
    return issue.keys
      .map(
        (k) =>
          `config: unknown key "${where}${k}" (from ${sourceOf(sources, [...issue.path, k])}); known keys: ${names}`,
      )
      .join('\n');
  }
  const path = issue.path.join('.');
  const explained = issue.code === 'custom' && (issue.params as { explained?: boolean } | undefined)?.explained;
  const expected = explained === true ? issue.message : `expected ${expectedAt(issue.path)}`;
  const got = valueAt(raw, issue.path);
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  return `config: ${path}: ${expected}, got ${shown} (from ${sourceOf(sources, issue.path)})`;
}

/**
 * Reads the configuration from its layers. Pure apart from reading the config
 * file: process globals come in as arguments. Throws ConfigError, whose
 * message names the key, what was expected, and where the bad value came from.
 */
export function loadConfig({ argv, env, cwd, parallelism }: LoadConfigInput): Config {
  const flags = parseFlags(argv);
  const fromEnv = readEnv(env);
  const sources = new Map<string, string>();
  const raw: Raw = {};
  mergeLayer(raw, defaults(parallelism ?? availableParallelism()), 'defaults', sources);

  const named = flags.configFile ?? env[ENV_CONFIG_FILE];
  let configFile: string | undefined;
  if (named !== undefined) {
    if (named === '') throw new ConfigError(`config: ${flags.configFile !== undefined ? '--config' : ENV_CONFIG_FILE} is empty`);
    configFile = resolve(cwd, named);
    mergeLayer(raw, readFile(configFile, named), named, sources);
  } else if (existsSync(resolve(cwd, CONFIG_FILE))) {
    configFile = resolve(cwd, CONFIG_FILE);
    mergeLayer(raw, readFile(configFile, CONFIG_FILE), CONFIG_FILE, sources);
  }
  mergeLayer(raw, fromEnv.values, fromEnv.sources, sources);
  mergeLayer(raw, flags.values, flags.sources, sources);

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, raw, sources)).join('\n'));
  }
  const secrets: Secrets = {};
  for (const [field, name] of Object.entries(SECRET_ENV) as [keyof Secrets, string][]) {
    const v = env[name];
    if (v !== undefined && v !== '') secrets[field] = v;
  }
  const config: Config = { ...parsed.data, secrets, configFile };
  SOURCES.set(config, sources);
  return config;
}

/** Where each loaded configuration's values came from, for errors found after loading (src/config/preflight.ts). */
const SOURCES = new WeakMap<Config, ReadonlyMap<string, string>>();

/** The layer that set the key at `path` (`rtp.bindHost`): a flag, a variable, a file, or `defaults`. */
export function configSource(config: Config, path: string): string {
  const sources = SOURCES.get(config);
  return sources === undefined ? 'defaults' : sourceOf(sources, path.split('.'));
}

/** The configuration as it may be logged or shown: no secrets, the tokens only as present or not. */
export function publicConfig(config: Config): Record<string, unknown> {
  const { secrets, controlToken, statusToken, ...rest } = config;
  return {
    ...rest,
    controlToken: controlToken === undefined ? 'none' : 'set',
    statusToken: statusToken === undefined ? 'none' : 'set',
    secrets: Object.keys(secrets),
    sip: { ...rest.sip, authUsers: rest.sip.authUsers === undefined ? 'none' : 'set', trunk: rest.sip.trunk === undefined ? 'none' : 'set' },
  };
}
