import type { WebSocket } from 'ws';
import { type EchoWriter, WireMessage, type WireReader, markName } from '../../frames/wireRing.ts';
import { STREAM_CLEAR, buildStreamMark } from '../../wire/streamControl.ts';
import { STREAM_HEADER_BYTES, writeStreamHeader } from '../../wire/streamHeader.ts';
import { SEND_HIGH_WATER_BYTES } from '../twilio/MediaStreamSession.ts';

/** The outbound counts of one stream (StreamSession's figures). */
export interface StreamOutboundFigures {
  framesOut: number;
  marksOut: number;
  clearsOut: number;
}

/**
 * Sends what the stream leg put in `wire` — encoded frames behind the 8-byte
 * header, marks, clears — in one corked write; after a `clear` the leg is
 * fenced (`echo`) with the time since the newest echo of our marks
 * (`lastEchoAtMs`, -1 for none; TwilioPacer.fence). Returns false when the
 * socket is backed up (the rest waits in the ring); on a closed socket the
 * ring is drained unsent.
 */
export function sendStreamWire(
  ws: WebSocket,
  wire: WireReader,
  echo: EchoWriter,
  codecNumber: number,
  figures: StreamOutboundFigures,
  nowMs: number,
  lastEchoAtMs: number,
): boolean {
  if (wire.available() === 0) return true;
  const open = ws.readyState === ws.OPEN;
  const socket = open ? (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket : undefined;
  socket?.cork();
  try {
    while (wire.available() > 0) {
      if (open && ws.bufferedAmount > SEND_HIGH_WATER_BYTES) return false;
      const message = wire.read();
      if (message === WireMessage.NONE) break;
      if (!open) continue;
      if (message === WireMessage.CLEAR) {
        ws.send(STREAM_CLEAR);
        figures.clearsOut++;
        // Echoes read after this may be the client's flush of the cleared audio; what played since the newest one was heard.
        echo.fence(lastEchoAtMs < 0 ? Number.NaN : nowMs - lastEchoAtMs);
      } else if (message === WireMessage.MARK) {
        ws.send(buildStreamMark(markName(wire.markSlot)));
        figures.marksOut++;
      } else {
        const n = wire.byteLength;
        // A buffer per message: ws hands an unmasked server frame to the socket as it is, and a corked
        // socket holds it until uncork, so a buffer reused for the next frame would overwrite this one.
        const out = Buffer.allocUnsafe(STREAM_HEADER_BYTES + n);
        writeStreamHeader(out, wire.timestamp, wire.sequence, codecNumber, wire.flags);
        const bytes = wire.bytes;
        for (let i = 0; i < n; i++) out[STREAM_HEADER_BYTES + i] = bytes[i]!;
        ws.send(out, { binary: true });
        figures.framesOut++;
      }
    }
    return true;
  } finally {
    socket?.uncork();
  }
}
