import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * How long a socket answered here may stay after its reply: input is read
 * and dropped meanwhile (a lingering close), then the socket is destroyed.
 * Destroying at once, with the client's bytes still unread, would make the
 * kernel send a reset that can cost the client the reply; waiting for the
 * client without a bound is what a slow sender wants.
 */
export const SOCKET_REPLY_LINGER_MS = 1_000;

/**
 * Answers on a raw socket, where there is no ServerResponse (a request
 * node:http could not parse, a refused WebSocket upgrade): a JSON error with
 * `Connection: close`, and the socket is gone when the client closes its side
 * or SOCKET_REPLY_LINGER_MS has passed, whichever is first. `end()` alone only
 * half-closes it, and node:http's sockets allow half-open connections: a
 * client that keeps sending would keep the descriptor open.
 */
export function replyOnSocket(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const linger = setTimeout(() => socket.destroy(), SOCKET_REPLY_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('end', () => socket.destroy());
  // Read and drop whatever else comes, so the kernel's queue is empty when the socket closes.
  socket.on('data', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
