import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseJson } from './supervisor/http/jsonSyntax.ts';

/**
 * The daemon's configuration. Layers, each overriding the one before:
 *
 *   defaults ← switchboard.config.json in the working directory, or --config FILE
 *            ← environment (SWITCHBOARD_PORT, SWITCHBOARD_RTP__PORT_MIN, …)
 *            ← command-line flags (--port, --rtp.port-min, …)
 *
 * The schema below is the single list of keys: environment names and flags
 * are derived from it (camelCase → SCREAMING_SNAKE / kebab-case, nesting by
 * `__` / `.`), and each leaf's `describe()` text is what an error says was
 * expected. Every value remembers which layer set it, so an error can name
 * the variable, flag or file to fix.
 */

export const CONFIG_FILE = 'switchboard.config.json';
export const ENV_PREFIX = 'SWITCHBOARD_';
/** Names a config file in the environment, below `--config`. */
export const ENV_CONFIG_FILE = 'SWITCHBOARD_CONFIG';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The agents of DESIGN.md; one is the default for calls that name none. */
export const AGENTS = ['echo', 'loopback', 'tone', 'openai'] as const;

const int = (min: number, max: number) =>
  z.number().int().min(min).max(max).describe(`an integer ${min}–${max}`);
// RTP takes the even port of a pair and RTCP the odd one above it (RFC 3550 §11).
const rtpPort = z
  .number()
  .int()
  .min(1024)
  .max(65534)
  .refine((n) => n % 2 === 0)
  .describe('an even integer 1024–65534');

const ConfigSchema = z.strictObject({
  host: z.string().min(1).describe('a host name or IP address'),
  port: int(0, 65535),
  mediaWorkers: int(1, 256),
  networkWorkers: int(1, 64),
  agentWorkers: int(1, 64),
  captureWorkers: int(1, 16),
  controlToken: z.string().min(1).describe('a non-empty string').optional(),
  enableFaultInjection: z.boolean().describe('true or false'),
  logLevel: z.enum(LOG_LEVELS).describe(`one of ${LOG_LEVELS.join(', ')}`),
  drainDeadlineMs: int(0, 3_600_000),
  rtp: z
    .strictObject({
      portMin: rtpPort,
      portMax: rtpPort,
      /** A call whose peer sends neither RTP nor RTCP this long is over (a peer gone without BYE). */
      idleTimeoutMs: int(1000, 3_600_000),
      /**
       * The address RTP legs bind (a trunk must reach it); defaults to `host`. Separate from
       * `host` so media can face the network while the control API stays on loopback.
       */
      bindHost: z.string().min(1).describe('an IP address of this machine').optional(),
    })
    .superRefine((r, ctx) => {
      if (r.portMin >= r.portMax) {
        ctx.addIssue({
          code: 'custom',
          path: ['portMin'],
          message: `expected a port below rtp.portMax (${r.portMax})`,
          params: { explained: true },
        });
      }
    }),
  agent: z.strictObject({ default: z.enum(AGENTS).describe(`one of ${AGENTS.join(', ')}`) }),
  // The `openai` agent (OpenAI Realtime API). The key is OPENAI_API_KEY, from the environment only.
  openai: z.strictObject({
    baseUrl: z.url().describe('an http(s) URL such as https://api.openai.com/v1'),
    model: z.string().min(1).describe('a Realtime model name'),
    voice: z.string().min(1).describe('a voice name such as marin'),
    instructions: z.string().describe('the session instructions'),
    /** A JSON file holding the session's `tools` array (function definitions). */
    toolsFile: z.string().min(1).describe('a path to a JSON file holding an array of tools').optional(),
    /** A PEM file of extra trusted CAs for the Realtime endpoint (a private gateway). */
    caFile: z.string().min(1).describe('a path to a PEM file').optional(),
  }),
  twilio: z.strictObject({
    /**
     * The public https URL Twilio reaches this daemon at (e.g. https://voice.example.com):
     * what Twilio signs its requests with, and where the TwiML points the stream
     * (wss://…/twilio/media). Without it both come from the request's Host header.
     */
    publicUrl: z.url().describe('an https URL such as https://voice.example.com').optional(),
    /** A stream that sends nothing this long is treated as gone (Twilio sends media every 20 ms). */
    idleTimeoutMs: int(100, 600_000),
  }),
  http: z.strictObject({ bodyLimitBytes: int(64, 16 * 1024 * 1024) }),
});

/** Credentials, read from the environment only and never reported. */
export interface Secrets {
  openaiApiKey?: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
}

const SECRET_ENV: Readonly<Record<keyof Secrets, string>> = {
  openaiApiKey: 'OPENAI_API_KEY',
  twilioAccountSid: 'TWILIO_ACCOUNT_SID',
  twilioAuthToken: 'TWILIO_AUTH_TOKEN',
};

export type Config = z.infer<typeof ConfigSchema> & {
  readonly secrets: Secrets;
  /** The file the configuration came from, when there was one. */
  readonly configFile: string | undefined;
};

export function defaults(parallelism: number): z.input<typeof ConfigSchema> {
  return {
    host: '127.0.0.1',
    port: 8080,
    mediaWorkers: parallelism,
    networkWorkers: 1,
    agentWorkers: 1,
    captureWorkers: 1,
    enableFaultInjection: false,
    logLevel: 'info',
    drainDeadlineMs: 30_000,
    rtp: { portMin: 10_000, portMax: 20_000, idleTimeoutMs: 60_000 },
    agent: { default: 'echo' },
    openai: {
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-realtime',
      voice: 'marin',
      instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
    },
    twilio: { idleTimeoutMs: 10_000 },
    http: { bodyLimitBytes: 65_536 },
  };
}

/** A configuration that cannot start the daemon; the message is for the user. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigInput {
  /** The command's arguments (after `start`). */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Default for mediaWorkers (os.availableParallelism() when not given). */
  parallelism?: number;
}

// ── the schema's leaves ─────────────────────────────────────────────────────

type Kind = 'int' | 'bool' | 'string' | 'group';

interface Key {
  /** Dotted path, e.g. `rtp.portMin`. */
  path: string;
  kind: Kind;
  env: string;
  flag: string;
}

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

function kindOf(schema: z.ZodType): Kind {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return 'group';
  if (s instanceof z.ZodNumber) return 'int';
  if (s instanceof z.ZodBoolean) return 'bool';
  return 'string';
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function listKeys(schema: z.ZodObject, prefix: string[] = []): Key[] {
  const keys: Key[] = [];
  for (const [name, child] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const path = [...prefix, name];
    const inner = unwrap(child);
    if (inner instanceof z.ZodObject) {
      keys.push(...listKeys(inner, path));
    } else {
      keys.push({
        path: path.join('.'),
        kind: kindOf(child),
        env: ENV_PREFIX + path.map(snake).join('__'),
        flag: `--${path.map(kebab).join('.')}`,
      });
    }
  }
  return keys;
}

const KEYS = listKeys(ConfigSchema);
const BY_ENV = new Map(KEYS.map((k) => [k.env, k]));
const BY_FLAG = new Map(KEYS.map((k) => [k.flag, k]));

/** The schema node at a dotted path (undefined past the schema's keys). */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = ConfigSchema;
  for (const seg of path) {
    const inner: z.ZodType | undefined = node === undefined ? undefined : unwrap(node);
    if (!(inner instanceof z.ZodObject)) return undefined;
    node = (inner.shape as Record<string, z.ZodType>)[String(seg)];
  }
  return node;
}

function expectedAt(path: readonly PropertyKey[]): string {
  const node = schemaAt(path);
  if (node === undefined) return 'nothing here';
  const inner = unwrap(node);
  if (inner instanceof z.ZodObject) return `an object with keys ${Object.keys(inner.shape).join(', ')}`;
  return inner.description ?? node.description ?? 'a valid value';
}

// ── layers ──────────────────────────────────────────────────────────────────

type Raw = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges `layer` into `into`, recording where every value it sets came from:
 * `source` names the layer, or each key of it (`SWITCHBOARD_PORT`, `--port`).
 */
function mergeLayer(
  into: Raw,
  layer: Raw,
  source: string | ReadonlyMap<string, string>,
  sources: Map<string, string>,
  prefix = '',
): void {
  for (const [name, value] of Object.entries(layer)) {
    const path = prefix + name;
    // Own properties only, defined rather than assigned: a file's "__proto__" key stays a key
    // (reported as unknown) instead of reaching a prototype.
    const here = Object.hasOwn(into, name) ? into[name] : undefined;
    if (isPlainObject(value) && isPlainObject(here)) {
      mergeLayer(here, value, source, sources, `${path}.`);
    } else {
      Object.defineProperty(into, name, {
        value: isPlainObject(value) ? structuredClone(value) : value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      sources.set(path, typeof source === 'string' ? source : (source.get(path) ?? path));
    }
  }
}

function setPath(into: Raw, dotted: string, value: unknown): void {
  const segs = dotted.split('.');
  let node = into;
  for (const seg of segs.slice(0, -1)) {
    const next = node[seg];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Raw = {};
      node[seg] = created;
      node = created;
    }
  }
  node[segs[segs.length - 1]!] = value;
}

/**
 * Environment and flags carry text; the key's kind says how to read it. Text
 * that does not read as the kind is passed on unchanged, so validation
 * reports it as given (`got "abc"`).
 */
function fromText(kind: Kind, text: string): unknown {
  if (kind === 'int') return /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  if (kind === 'bool') {
    const t = text.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    return text;
  }
  return text;
}

interface Flags {
  values: Raw;
  sources: Map<string, string>;
  configFile: string | undefined;
}

function parseFlags(argv: readonly string[]): Flags {
  const values: Raw = {};
  const sources = new Map<string, string>();
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`config: unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    let name = eq < 0 ? arg : arg.slice(0, eq);
    let inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name.startsWith('--no-') && BY_FLAG.get(`--${name.slice(5)}`)?.kind === 'bool') {
      if (inline !== undefined) throw new ConfigError(`config: ${name} takes no value`);
      name = `--${name.slice(5)}`;
      inline = 'false';
    }
    const key = BY_FLAG.get(name);
    if (name !== '--config' && key === undefined) {
      throw new ConfigError(
        `config: unknown option ${name} (known: --config, ${[...BY_FLAG.keys()].join(', ')})`,
      );
    }
    let text = inline;
    if (text === undefined) {
      if (key?.kind === 'bool') {
        text = 'true';
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new ConfigError(`config: ${name} needs a value`);
        text = next;
        i++;
      }
    }
    if (key === undefined) {
      configFile = text;
    } else {
      setPath(values, key.path, fromText(key.kind, text));
      sources.set(key.path, name);
    }
  }
  return { values, sources, configFile };
}

function readEnv(env: LoadConfigInput['env']): { values: Raw; sources: Map<string, string> } {
  const values: Raw = {};
  const sources = new Map<string, string>();
  // Other SWITCHBOARD_* variables (SWITCHBOARD_DSP_WASM, …) belong to other parts and are left alone.
  for (const [name, text] of Object.entries(env)) {
    const key = BY_ENV.get(name);
    if (key === undefined || text === undefined) continue;
    setPath(values, key.path, fromText(key.kind, text));
    sources.set(key.path, name);
  }
  return { values, sources };
}

function readFile(file: string, shown: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: cannot read ${shown}: ${(err as Error).message}`);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) throw new ConfigError(`config: ${shown} is not valid JSON: ${parsed.message}`);
  if (!isPlainObject(parsed.value)) {
    throw new ConfigError(`config: ${shown}: expected a JSON object at the top level`);
  }
  return parsed.value;
}

// ── loading ─────────────────────────────────────────────────────────────────

function valueAt(raw: Raw, path: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const seg of path) node = isPlainObject(node) ? node[String(seg)] : undefined;
  return node;
}

function sourceOf(sources: Map<string, string>, path: readonly PropertyKey[]): string {
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
  return { ...parsed.data, secrets, configFile };
}

/** The configuration as it may be logged or shown: no secrets, the token only as present or not. */
export function publicConfig(config: Config): Record<string, unknown> {
  const { secrets, controlToken, ...rest } = config;
  return {
    ...rest,
    controlToken: controlToken === undefined ? 'none' : 'set',
    secrets: Object.keys(secrets),
  };
}

/** Flags and environment variables, for `--help`. */
export function configHelp(): string {
  const flagWidth = Math.max(...KEYS.map((k) => k.flag.length)) + 2;
  const envWidth = Math.max(...KEYS.map((k) => k.env.length)) + 2;
  return [
    `  ${'--config FILE'.padEnd(flagWidth)}${ENV_CONFIG_FILE.padEnd(envWidth)}a JSON file (default: ./${CONFIG_FILE} if present)`,
    ...KEYS.map((k) => `  ${k.flag.padEnd(flagWidth)}${k.env.padEnd(envWidth)}${expectedAt(k.path.split('.'))}`),
  ].join('\n');
}
