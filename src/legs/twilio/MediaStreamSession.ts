import { closeWebSocket } from '../../server/wsClose.ts';
import { quote } from '../../wire/text.ts';
import type { WebSocket } from 'ws';
import type { FrameRing } from '../../frames/FrameRing.ts';
import { PacketWriter } from '../../frames/PacketRing.ts';
import { EchoWriter, WireMessage, WireReader, markName, markSlot } from '../../frames/wireRing.ts';
import {
  TWILIO_ENCODING,
  TWILIO_RATE_HZ,
  buildTwilioClear,
  buildTwilioMark,
  buildTwilioMedia,
  parseTwilioInbound,
  type TwilioStart,
} from '../../wire/twilio.ts';

/** Media a stream may send before its call is up (actors being created): 1 s of 20 ms chunks. */
export const PENDING_MEDIA_MAX = 50;
/** Bytes queued on the socket beyond which the pump stops reading the wire ring (the leg's pacer waits). */
export const SEND_HIGH_WATER_BYTES = 256 * 1024;
/** Twilio's packets carry no SSRC; one fixed value marks the stream for the jitter buffer. */
const STREAM_SSRC = 0x54574c4f;
/** Media payloads are 20 ms (160 bytes); a generous bound for the decode buffer. */
const MAX_PAYLOAD = 4096;

export interface SessionRings {
  /** The jitter actor's `in`: inbound µ-law packets. */
  packets: FrameRing;
  /** The Twilio leg's `wire` (this thread reads) and `echo` (this thread writes). */
  wire: FrameRing;
  echo: FrameRing;
}

/** What a session reports about the input it refused (counted by the server, per reason). */
export type BadInput = (reason: string, detail: string) => void;

/** The main thread's figures of one stream; shown under the call as its `twilio` QoS. */
export const SESSION_FIGURES = [
  'messagesIn',
  'mediaIn',
  'mediaBytesIn',
  'sequenceGaps',
  'timestampGapMs',
  'outOfOrder',
  'packetRingFull',
  'badMessages',
  'marksIn',
  'marksUnknown',
  'dtmfIn',
  'mediaOut',
  'marksOut',
  'clearsOut',
] as const;
export type SessionFigures = Record<(typeof SESSION_FIGURES)[number], number>;

export type SessionPhase = 'connected' | 'starting' | 'live' | 'ended';

/**
 * One Twilio Media Stream (bidirectional `<Connect><Stream>`) on the main
 * thread. Inbound: each text frame is parsed (src/wire/twilio.ts) and its
 * µ-law payload written straight into the jitter actor's packet ring,
 * stamped with its arrival time; its `media.timestamp` becomes the RTP
 * timestamp and the sequence number, so a gap in timestamps is a loss the
 * jitter/PLC actor conceals, not silence. Outbound: `pump()` turns what the
 * leg put in its `wire` ring into `media`, `mark` and `clear` messages, and
 * mark echoes go back to the leg through `echo`.
 *
 * The session owns no call state beyond counters: the call (jitter, agent,
 * leg actors) is made by the `twilio` transport when `start` arrives, and
 * ended through the runtime when the stream stops or the socket goes.
 */
export class MediaStreamSession {
  readonly figures: SessionFigures = Object.fromEntries(SESSION_FIGURES.map((n) => [n, 0])) as SessionFigures;
  readonly #ws: WebSocket;
  readonly #bad: BadInput;
  #phase: SessionPhase = 'connected';
  #start: TwilioStart | undefined;
  /** The call's rings, once it is up, through the views of their contracts. */
  #io: { packets: PacketWriter; wire: WireReader; echo: EchoWriter } | undefined;
  #emit: ((name: string, data: Record<string, unknown>) => void) | undefined;
  #endCall: ((reason: string) => void) | undefined;
  #pending: Array<{ timestampMs: number; bytes: Uint8Array; arrivalMs: number }> = [];
  #lastSequence = -1;
  #lastTimestampMs = -1;
  /** When the newest mark echo came (performance.now()), or -1: a clear's fence says how long ago. */
  #lastEchoAtMs = -1;
  #firstPacket = true;
  #endedReason: string | undefined;
  #lastMessageMs: number;
  readonly #payload = new Uint8Array(MAX_PAYLOAD);
  /** Called with the `start` message when the stream begins (the server creates the call). */
  onStart: ((start: TwilioStart) => void) | undefined;
  /** Called once when the stream is over (stop, close, idle): the server hangs up the call. */
  onEnd: ((reason: string) => void) | undefined;

  constructor(ws: WebSocket, bad: BadInput, nowMs: number) {
    this.#ws = ws;
    this.#bad = bad;
    this.#lastMessageMs = nowMs;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }
  get start(): TwilioStart | undefined {
    return this.#start;
  }
  get endedReason(): string | undefined {
    return this.#endedReason;
  }
  get lastMessageMs(): number {
    return this.#lastMessageMs;
  }

  /**
   * The call is up: its rings are known, and `endCall` ends it when the
   * stream does (at once if it already has). Media that arrived meanwhile goes in now.
   */
  bind(rings: SessionRings, emit: (name: string, data: Record<string, unknown>) => void, endCall: (reason: string) => void): void {
    this.#endCall = endCall;
    if (this.#phase === 'ended') endCall(this.#endedReason ?? 'the stream ended');
    this.#io = { packets: new PacketWriter(rings.packets, 'PCMU'), wire: new WireReader(rings.wire), echo: new EchoWriter(rings.echo) };
    this.#emit = emit;
    if (this.#phase === 'starting') this.#phase = 'live';
    for (const p of this.#pending) this.#writePacket(p.timestampMs, p.bytes, p.bytes.length, p.arrivalMs);
    this.#pending = [];
  }

  onText(text: string, nowMs: number, arrivalEpochMs: number): void {
    this.#lastMessageMs = nowMs;
    this.figures.messagesIn++;
    const r = parseTwilioInbound(text, this.#payload);
    if (!r.ok) {
      this.figures.badMessages++;
      this.#bad(r.reason, r.detail);
      return;
    }
    const m = r.msg;
    if (m.event !== 'connected') this.#checkSequence(m.sequenceNumber);
    switch (m.event) {
      case 'connected':
        return;
      case 'start': {
        if (this.#phase !== 'connected') return this.#refuse('second-start', 'a second start message on one stream');
        const f = m.mediaFormat;
        if (f.encoding !== TWILIO_ENCODING || f.sampleRate !== TWILIO_RATE_HZ || f.channels !== 1) {
          this.#refuse('bad-media-format', `mediaFormat ${quote(f)}: only ${TWILIO_ENCODING} ${TWILIO_RATE_HZ} Hz mono`);
          this.end('unsupported media format');
          return;
        }
        this.#start = m;
        this.#phase = 'starting';
        this.onStart?.(m);
        return;
      }
      case 'media': {
        if (this.#phase === 'connected' || this.#phase === 'ended') return this.#refuse('media-outside-stream', 'media before start or after stop');
        if (m.streamSid !== this.#start!.streamSid) return this.#refuse('wrong-stream', `media for stream ${quote(m.streamSid)}`);
        if (m.track !== 'inbound') return this.#refuse('wrong-track', `media on track ${quote(m.track)} (bidirectional streams send inbound only)`);
        this.figures.mediaIn++;
        this.figures.mediaBytesIn += m.payloadBytes;
        if (this.#lastTimestampMs >= 0) {
          const step = m.timestampMs - this.#lastTimestampMs;
          if (step > 20) this.figures.timestampGapMs += step - 20;
        }
        this.#lastTimestampMs = Math.max(this.#lastTimestampMs, m.timestampMs);
        if (this.#io === undefined) {
          if (this.#pending.length < PENDING_MEDIA_MAX) {
            this.#pending.push({ timestampMs: m.timestampMs, bytes: this.#payload.slice(0, m.payloadBytes), arrivalMs: arrivalEpochMs });
          }
          return;
        }
        this.#writePacket(m.timestampMs, this.#payload, m.payloadBytes, arrivalEpochMs);
        return;
      }
      case 'mark': {
        this.figures.marksIn++;
        const slot = markSlot(m.name);
        if (slot < 0 || this.#io === undefined) {
          this.figures.marksUnknown++;
          return;
        }
        if (!this.#io.echo.mark(slot)) this.figures.marksUnknown++;
        else this.#lastEchoAtMs = performance.now();
        return;
      }
      case 'dtmf':
        this.figures.dtmfIn++;
        this.#emit?.('dtmf', { digit: m.digit, track: m.track });
        return;
      case 'stop':
        this.end('Twilio stopped the stream');
        return;
    }
  }

  onBinary(): void {
    this.figures.messagesIn++;
    this.figures.badMessages++;
    this.#bad('binary-frame', 'Media Streams messages are JSON text; a binary frame was dropped');
  }

  /** Sends what the leg queued; false when the socket is backed up (the rest waits in the ring). */
  pump(): boolean {
    const io = this.#io;
    if (io === undefined || this.#start === undefined) return true;
    const { wire } = io;
    const ws = this.#ws;
    const sid = this.#start.streamSid;
    const open = ws.readyState === ws.OPEN;
    if (wire.available() === 0) return true;
    // A chunk and its mark (and whatever else is queued) leave in one write: ws writes each
    // message at once, a system call apiece; corked, the socket gathers them into one.
    const socket = open ? (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket : undefined;
    socket?.cork();
    try {
      return this.#send(wire, ws, sid, open, io.echo);
    } finally {
      socket?.uncork();
    }
  }

  #send(wire: WireReader, ws: WebSocket, sid: string, open: boolean, echo: EchoWriter): boolean {
    while (wire.available() > 0) {
      if (open && ws.bufferedAmount > SEND_HIGH_WATER_BYTES) return false;
      const message = wire.read();
      if (message === WireMessage.NONE) break;
      if (!open) continue;
      if (message === WireMessage.CLEAR) {
        ws.send(buildTwilioClear(sid));
        this.figures.clearsOut++;
        // Echoes read after this may be Twilio's flush of the cleared audio; what played since the newest one was heard.
        echo.fence(this.#lastEchoAtMs < 0 ? Number.NaN : performance.now() - this.#lastEchoAtMs);
      } else if (message === WireMessage.MARK) {
        ws.send(buildTwilioMark(sid, markName(wire.markSlot)));
        this.figures.marksOut++;
      } else {
        ws.send(buildTwilioMedia(sid, wire.bytes, wire.byteLength));
        this.figures.mediaOut++;
      }
    }
    return true;
  }

  /** The stream is over (stop, socket closed, idle, hang-up): once. */
  end(reason: string): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.#endedReason = reason;
    this.#pending = [];
    this.onEnd?.(reason);
    this.#endCall?.(reason);
  }

  /** Hang-up from our side: close the socket (Twilio then ends the stream). */
  hangup(reason: string): void {
    this.end(reason);
    closeWebSocket(this.#ws, 1000, 'call ended');
  }

  #writePacket(timestampMs: number, bytes: Uint8Array, length: number, arrivalMs: number): void {
    // 20 ms per packet: the timestamp gives the sequence, so a gap in it is a loss to conceal.
    const seq = Math.round(timestampMs / 20) & 0xffff;
    const rtpTs = (timestampMs * (TWILIO_RATE_HZ / 1000)) >>> 0;
    if (!this.#io!.packets.write(seq, rtpTs, bytes, length, this.#firstPacket, STREAM_SSRC, arrivalMs)) {
      this.figures.packetRingFull++;
      return;
    }
    this.#firstPacket = false;
  }

  #checkSequence(n: number): void {
    if (this.#lastSequence >= 0) {
      if (n > this.#lastSequence + 1) this.figures.sequenceGaps += n - this.#lastSequence - 1;
      else if (n <= this.#lastSequence) this.figures.outOfOrder++;
    }
    this.#lastSequence = Math.max(this.#lastSequence, n);
  }

  #refuse(reason: string, detail: string): void {
    this.figures.badMessages++;
    this.#bad(reason, detail);
  }
}
