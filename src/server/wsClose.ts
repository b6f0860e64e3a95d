import type { WebSocket } from 'ws';
import { truncateUtf8, WS_CLOSE_REASON_MAX_BYTES } from '../wire/text.ts';

/**
 * Closes a WebSocket with `code` and a reason cut to what a close frame holds
 * (RFC 6455 §5.5: 123 bytes of UTF-8). Never throws: closing a socket that
 * is already closing, or with a reason built from a peer's input, must not
 * become an error of its own.
 */
export function closeWebSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return;
  try {
    ws.close(code, truncateUtf8(reason, WS_CLOSE_REASON_MAX_BYTES));
  } catch {
    // Only an invalid code can get here (ours are constants): the socket goes without a close frame.
    ws.terminate();
  }
}
