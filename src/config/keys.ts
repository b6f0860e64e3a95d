/**
 * The schema's leaves: each key's environment variable and flag, derived
 * from its path, and what it expects, for errors and for `--help`.
 */

import { z } from 'zod';
import { CONFIG_FILE, ConfigSchema, ENV_CONFIG_FILE, ENV_PREFIX } from './schema.ts';

export type Kind = 'int' | 'bool' | 'string' | 'group';

interface Key {
  /** Dotted path, e.g. `rtp.portMin`. */
  path: string;
  kind: Kind;
  env: string;
  flag: string;
}

export function unwrap(schema: z.ZodType): z.ZodType {
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
export const BY_ENV = new Map(KEYS.map((k) => [k.env, k]));
export const BY_FLAG = new Map(KEYS.map((k) => [k.flag, k]));

/** The schema node at a dotted path (undefined past the schema's keys). */
export function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = ConfigSchema;
  for (const seg of path) {
    const inner: z.ZodType | undefined = node === undefined ? undefined : unwrap(node);
    if (!(inner instanceof z.ZodObject)) return undefined;
    node = (inner.shape as Record<string, z.ZodType>)[String(seg)];
  }
  return node;
}

export function expectedAt(path: readonly PropertyKey[]): string {
  const node = schemaAt(path);
  if (node === undefined) return 'nothing here';
  const inner = unwrap(node);
  if (inner instanceof z.ZodObject) return `an object with keys ${Object.keys(inner.shape).join(', ')}`;
  return inner.description ?? node.description ?? 'a valid value';
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
