/**
 * The driver's HTTP requests to the daemon (call set-up and hang-up, /status,
 * /readyz), with the bearer token where one is given and a deadline on each.
 */

/** A request the daemon refused with 503 (full, draining or overloaded): the run counts it and goes on. */
export class CallRefusedError extends Error {
  override name = 'CallRefusedError';
}

/** The daemon could not be reached at all. */
export class DaemonUnreachableError extends Error {
  override name = 'DaemonUnreachableError';
}

export const REQUEST_TIMEOUT_MS = 10_000;

export interface DaemonResponse {
  status: number;
  json: unknown;
  bytes: number;
}

export async function daemonRequest(
  baseUrl: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  opts: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<DaemonResponse> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DaemonUnreachableError(`cannot reach the daemon [${method} ${baseUrl}${path}: ${cause?.code ?? cause?.message ?? (err as Error).message}]`);
  }
  const text = await res.text();
  let json: unknown = null;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = { text: text.slice(0, 200) };
    }
  }
  return { status: res.status, json, bytes: text.length };
}

/** The `error.message` of the daemon's error body, or the status. */
export function errorText(res: DaemonResponse): string {
  const e = (res.json as { error?: { code?: string; message?: string } } | null)?.error;
  return e?.message !== undefined ? `${res.status} ${e.code ?? ''}: ${e.message}`.slice(0, 200) : `status ${res.status}`;
}
