import type { ServerResponse } from 'node:http';

/** What a route answers; the server writes it. */
export interface Reply {
  status: number;
  /** Serialised as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
  /** The handler answers on the response itself (an event stream): nothing more is written. */
  taken?: true;
}

/** Sent with every response: nothing here is meant to be cached or sniffed. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (reply.taken === true) return;
  let body: string | undefined;
  let type = reply.contentType;
  if (reply.json !== undefined) {
    body = `${JSON.stringify(reply.json)}\n`;
    type ??= 'application/json; charset=utf-8';
  } else if (reply.text !== undefined) {
    body = reply.text;
    type ??= 'text/plain; charset=utf-8';
  }
  res.statusCode = reply.status;
  for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', type!);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function errorReply(
  status: number,
  code: string,
  message: string,
  headers?: Readonly<Record<string, string>>,
): Reply {
  return headers === undefined
    ? { status, json: { error: { code, message } } }
    : { status, json: { error: { code, message } }, headers };
}
