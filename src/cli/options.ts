import { parseArgs } from 'node:util';
import { UsageError } from './main.ts';

/** A command's `--name value` options (strings and boolean flags), every parse error a UsageError with the command's usage. */
export function parseCommandOptions(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>,
  usage: string,
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** A positive decimal option (`fallback` when absent); anything else a UsageError naming the option. */
export function positiveOption(v: string | boolean | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+(?:\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`--${name} expects a positive number [got:${String(v).slice(0, 40)}]`);
  return n;
}
