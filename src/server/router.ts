import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Runtime } from '../supervisor/Runtime.ts';
import { HttpError } from './errors.ts';
import type { Reply } from './respond.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Path parameters, decoded (`/v1/calls/:id` → `{ id }`). */
  readonly params: Readonly<Record<string, string>>;
  readonly runtime: Runtime;
  readonly config: Config;
  readonly log: Logger;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  method: Method;
  /** `/v1/calls/:id`: literal segments and `:name` parameters. Also the route's metrics label. */
  path: string;
  handler: Handler;
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; allow: string[] }
  | { kind: 'none' };

interface Compiled {
  route: Route;
  segments: readonly string[];
}

/**
 * Matches a method and path against a fixed route table. A path that some
 * route has but not with this method is a 405 (with `Allow`), not a 404.
 * HEAD is served by GET routes (node:http sends no body for HEAD).
 */
export class Router {
  readonly #routes: Compiled[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  }

  match(method: string, pathname: string): Match {
    const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    const parts = trimmed.split('/').slice(1);
    const allow = new Set<string>();
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const c of this.#routes) {
      const params = matchSegments(c.segments, parts);
      if (params === undefined) continue;
      if (c.route.method === wanted) return { kind: 'found', route: c.route, params };
      allow.add(c.route.method);
      if (c.route.method === 'GET') allow.add('HEAD');
    }
    return allow.size > 0 ? { kind: 'wrong-method', allow: [...allow] } : { kind: 'none' };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(':')) {
      if (part === '') return undefined;
      params[p.slice(1)] = decodeSegment(part);
    } else if (p !== part) {
      return undefined;
    }
  }
  return params;
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (err) {
    if (!(err instanceof URIError)) throw err;
    throw new HttpError(400, 'bad_path', `path segment "${part}" is not valid percent-encoding`, { badInput: true });
  }
}
