/**
 * The layers below the schema: the config file, the environment and the
 * flags, each read into a raw object whose values remember where they came
 * from, and merged in order (src/config.ts).
 */

import { readFileSync } from 'node:fs';
import { parseJson } from '../wire/jsonSyntax.ts';
import { ConfigError } from './ConfigError.ts';
import { BY_ENV, BY_FLAG, type Kind } from './keys.ts';

export type Raw = Record<string, unknown>;

export const isPlainObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges `layer` into `into`, recording where every value it sets came from:
 * `source` names the layer, or each key of it (`SWITCHBOARD_PORT`, `--port`).
 */
export function mergeLayer(
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

export function parseFlags(argv: readonly string[]): Flags {
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

export function readEnv(env: Readonly<Record<string, string | undefined>>): { values: Raw; sources: Map<string, string> } {
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

export function readFile(file: string, shown: string): Raw {
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
