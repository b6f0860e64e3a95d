import { quote } from '../wire/text.ts';
import type { z } from 'zod';
import { HttpError } from './errors.ts';

/**
 * Checks a parsed body against a schema; on failure a 422 whose message
 * names each bad field, what it expects (from `expected`, by dotted path),
 * and what it got. A refinement that explains itself adds its issue with
 * `params: { explained: true }` and its message is used as it is.
 */
export function validateBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  expected: Readonly<Record<string, string>>,
): z.output<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(422, 'invalid_request', `request body: expected a JSON object, got ${describe(body)}`, {
      badInput: true,
    });
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown field`).join('; ');
    }
    // Cross-field rules (superRefine) word their own message and mark it so.
    if (issue.code === 'custom' && (issue.params as { explained?: boolean } | undefined)?.explained === true) {
      return `${path}: ${issue.message}`;
    }
    const got = valueAt(body, issue.path);
    const want = expected[path] ?? 'a valid value';
    return got === undefined ? `${path}: required (${want})` : `${path}: expected ${want}, got ${quote(got)}`;
  });
  throw new HttpError(422, 'invalid_request', problems.join('; '), { badInput: true });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function valueAt(body: object, path: readonly PropertyKey[]): unknown {
  let node: unknown = body;
  for (const seg of path) {
    node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  return node;
}
