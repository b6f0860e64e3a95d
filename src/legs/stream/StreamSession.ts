import type { WebSocket } from 'ws';
import type { FrameRing } from '../../frames/FrameRing.ts';
import { PacketWriter, type PacketCodec } from '../../frames/PacketRing.ts';
import { EchoWriter, WireReader, markSlot } from '../../frames/wireRing.ts';
import { closeWebSocket } from '../../server/wsClose.ts';
import { STREAM_CODECS, STREAM_STOP, buildStreamMark, parseStreamControl, type StreamStart } from '../../wire/streamControl.ts';
import {
  STREAM_CODEC_NUMBER,
  STREAM_HEADER_BYTES,
  STREAM_HEADER_CLOSE,
  STREAM_HEADER_REASON,
  StreamHeaderError,
  StreamHeaderView,
  parseStreamHeader,
} from '../../wire/streamHeader.ts';
import { codecClock } from '../../dsp/PacketDecoder.ts';
import { PENDING_MEDIA_MAX, type BadInput } from '../twilio/MediaStreamSession.ts';
import { quote } from '../../wire/text.ts';
import { frameDurationMs } from '../../wire/frameDuration.ts';
import { ClientMarks } from './ClientMarks.ts';
import { sendStreamWire } from './streamOutbound.ts';

/** The stream's frames carry no SSRC; one fixed value marks the stream for the jitter buffer. */
const STREAM_SSRC = 0x5354524d;

export interface StreamRings {
  /** The jitter actor's `in`. */
  packets: FrameRing;
  /** The stream leg's `wire` (this thread reads) and `echo` (this thread writes). */
  wire: FrameRing;
  echo: FrameRing;
  /** The jitter buffer's current delay, ms (its `currentDelayMs`): when the caller's audio plays. */
  delayMs?: () => number;
}

/** The main thread's figures of one raw stream; shown under the call as its `streamSocket` QoS. */
export const STREAM_SESSION_FIGURES = [
  'messagesIn',
  'framesIn',
  'frameBytesIn',
  'speechFramesIn',
  'sequenceGaps',
  'outOfOrder',
  'packetRingFull',
  'badMessages',
  'marksIn',
  'clientMarksEchoed',
  'clientMarksOverflow',
  'framesOut',
  'marksOut',
  'clearsOut',
] as const;
export type StreamSessionFigures = Record<(typeof STREAM_SESSION_FIGURES)[number], number>;

export type StreamPhase = 'connected' | 'starting' | 'live' | 'ended';

/** A refusal that ends the stream: the close code and reason the socket is closed with. */
export interface StreamFatal {
  code: number;
  reason: string;
}

/**
 * One raw audio stream (`WS /v1/stream`) on the main thread. Inbound binary
 * frames are parsed (wire/streamHeader.ts) and their payloads written
 * straight into the jitter actor's packet ring: the header's sequence is the
 * packet's, its millisecond timestamp becomes the codec's RTP clock, so a gap
 * is a loss the jitter/PLC actor conceals. Outbound, `pump()` frames what the
 * stream leg put in `wire` (encoded frames, marks, clears) and mark echoes go
 * back to the leg through `echo`. A client's own marks are echoed once the
 * audio sent before them has played out of the jitter buffer (ClientMarks.ts).
 *
 * A malformed header or a codec other than the one started ends the stream
 * (the server closes the socket with the code `onBinary` returns); bad JSON is
 * dropped and counted, the stream goes on.
 */
export class StreamSession {
  readonly figures: StreamSessionFigures = Object.fromEntries(STREAM_SESSION_FIGURES.map((n) => [n, 0])) as StreamSessionFigures;
  readonly #ws: WebSocket;
  readonly #bad: BadInput;
  #phase: StreamPhase = 'connected';
  #start: StreamStart | undefined;
  #codec: PacketCodec = 'PCMU';
  #codecNumber = 0;
  /** RTP clock units per header millisecond. */
  #unitsPerMs = 8;
  #io: { packets: PacketWriter; wire: WireReader; echo: EchoWriter; delayMs: () => number } | undefined;
  #endCall: ((reason: string) => void) | undefined;
  #pending: Array<{ seq: number; ts: number; bytes: Uint8Array; marker: boolean; arrivalMs: number }> = [];
  readonly #header = new StreamHeaderView();
  #lastSequence = -1;
  #firstPacket = true;
  #speech = false;
  #endedReason: string | undefined;
  #lastMessageMs: number;
  /** Client marks in order, each waiting for the audio before it to play. */
  readonly #clientMarks = new ClientMarks();
  /** When the newest echo of one of our marks came, or -1: a clear's fence says how long ago (TwilioPacer.fence). */
  #lastEchoAtMs = -1;
  onStart: ((start: StreamStart) => void) | undefined;

  constructor(ws: WebSocket, bad: BadInput, nowMs: number) {
    this.#ws = ws;
    this.#bad = bad;
    this.#lastMessageMs = nowMs;
  }

  get phase(): StreamPhase {
    return this.#phase;
  }
  get start(): StreamStart | undefined {
    return this.#start;
  }
  get endedReason(): string | undefined {
    return this.#endedReason;
  }
  get lastMessageMs(): number {
    return this.#lastMessageMs;
  }

  /** The call is up: its rings are known; frames that arrived meanwhile go in now. */
  bind(rings: StreamRings, endCall: (reason: string) => void): void {
    this.#endCall = endCall;
    if (this.#phase === 'ended') endCall(this.#endedReason ?? 'the stream ended');
    this.#io = {
      packets: new PacketWriter(rings.packets, this.#codec),
      wire: new WireReader(rings.wire),
      echo: new EchoWriter(rings.echo),
      delayMs: rings.delayMs ?? (() => 0),
    };
    if (this.#phase === 'starting') this.#phase = 'live';
    for (const p of this.#pending) this.#write(p.seq, p.ts, p.bytes, p.bytes.length, p.marker, p.arrivalMs);
    this.#pending = [];
  }

  /** A text message; bad ones are counted and dropped. */
  onText(text: string, nowMs: number): void {
    this.#lastMessageMs = nowMs;
    this.figures.messagesIn++;
    const r = parseStreamControl(text);
    if (!r.ok) return this.#refuse(r.reason, r.detail);
    const m = r.msg;
    switch (m.event) {
      case 'start':
        if (this.#phase !== 'connected') return this.#refuse('second-start', 'a second start message on one stream');
        this.#start = m;
        this.#codec = STREAM_CODECS[m.codec];
        this.#codecNumber = STREAM_CODEC_NUMBER[this.#codec];
        this.#unitsPerMs = codecClock(this.#codec, m.rateHz) / 1000;
        this.#phase = 'starting';
        this.onStart?.(m);
        return;
      case 'mark': {
        this.figures.marksIn++;
        const slot = markSlot(m.name);
        // One of ours coming back: the leg accounts for it. Any other name is the client's own.
        if (slot >= 0 && this.#io !== undefined && this.#io.echo.mark(slot)) {
          this.#lastEchoAtMs = nowMs;
          return;
        }
        const evicted = this.#clientMarks.mark(m.name, nowMs);
        if (evicted !== undefined) {
          this.figures.clientMarksOverflow++;
          this.#echoClientMark(evicted);
        }
        return;
      }
      case 'stop':
        this.end('the client stopped the stream');
        return;
    }
  }

  /**
   * A binary message: one header and frame. Returns undefined when taken (or
   * dropped and counted), or the close code and reason that end the stream.
   */
  onBinary(data: Uint8Array, nowMs: number, arrivalEpochMs: number): StreamFatal | undefined {
    this.#lastMessageMs = nowMs;
    this.figures.messagesIn++;
    const h = this.#header;
    const err = parseStreamHeader(data, data.length, h);
    if (err !== StreamHeaderError.OK) {
      this.figures.badMessages++;
      const reason = STREAM_HEADER_REASON[err];
      const detail =
        err === StreamHeaderError.UNKNOWN_CODEC
          ? `codec byte ${h.codec} is none of 1–5`
          : err === StreamHeaderError.FRAME_TOO_LARGE
            ? `a ${h.payloadLength}-byte frame (limit 1500)`
            : `a ${data.length}-byte binary message (a header is ${STREAM_HEADER_BYTES} bytes and a frame follows it)`;
      this.#bad(reason, detail);
      return { code: STREAM_HEADER_CLOSE[err], reason: `${reason}: ${detail}` };
    }
    if (this.#phase === 'connected' || this.#phase === 'ended') {
      this.#refuse('frame-outside-stream', 'a frame before start or after stop');
      return undefined;
    }
    if (h.codec !== this.#codecNumber) {
      this.figures.badMessages++;
      const detail = `codec byte ${h.codec}, but the stream started as ${quote(this.#start!.codec)} (${this.#codecNumber})`;
      this.#bad('codec-mismatch', detail);
      return { code: 1003, reason: `codec-mismatch: ${detail}` };
    }
    this.figures.framesIn++;
    this.figures.frameBytesIn += h.payloadLength;
    if (h.speech) this.figures.speechFramesIn++;
    this.#checkSequence(h.sequence);
    // RTP's marker starts a talkspurt (RFC 3551 §4.1): the first frame, and speech after non-speech.
    const marker = h.speech && !this.#speech;
    this.#speech = h.speech;
    const ts = (h.timestampMs * this.#unitsPerMs) >>> 0;
    const payload = data.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
    // Its place on the playout clock, even if the packet ring is full: the buffer conceals that time.
    const durationMs = frameDurationMs(this.#codec, payload, payload.length, this.#start!.rateHz);
    this.#clientMarks.frame(nowMs, h.timestampMs, durationMs, this.#io?.delayMs() ?? 0);
    if (this.#io === undefined) {
      if (this.#pending.length < PENDING_MEDIA_MAX) this.#pending.push({ seq: h.sequence, ts, bytes: payload.slice(), marker, arrivalMs: arrivalEpochMs });
      return undefined;
    }
    this.#write(h.sequence, ts, payload, payload.length, marker, arrivalEpochMs);
    return undefined;
  }

  /** Sends what the leg queued, and the client marks now due; false when the socket is backed up. */
  pump(nowMs: number): boolean {
    const io = this.#io;
    if (io === undefined) return true;
    for (let name = this.#clientMarks.due(nowMs); name !== undefined; name = this.#clientMarks.due(nowMs)) this.#echoClientMark(name);
    return sendStreamWire(this.#ws, io.wire, io.echo, this.#codecNumber, this.figures, nowMs, this.#lastEchoAtMs);
  }

  /** The stream is over (stop, socket closed, idle, hang-up): once. */
  end(reason: string): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.#endedReason = reason;
    this.#pending = [];
    this.#endCall?.(reason);
  }

  /** Hang-up from our side: `stop`, then the socket closes. */
  hangup(reason: string): void {
    const ws = this.#ws;
    if (this.#phase !== 'ended' && ws.readyState === ws.OPEN) ws.send(STREAM_STOP);
    this.end(reason);
    closeWebSocket(ws, 1000, 'call ended');
  }

  /** A control message from the server (`started`). */
  sendText(text: string): void {
    const ws = this.#ws;
    if (ws.readyState === ws.OPEN) ws.send(text);
  }

  #echoClientMark(name: string): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    ws.send(buildStreamMark(name));
    this.figures.clientMarksEchoed++;
  }

  #write(seq: number, ts: number, bytes: Uint8Array, length: number, marker: boolean, arrivalMs: number): void {
    if (!this.#io!.packets.write(seq, ts, bytes, length, marker || this.#firstPacket, STREAM_SSRC, arrivalMs)) {
      this.figures.packetRingFull++;
      return;
    }
    this.#firstPacket = false;
  }

  #checkSequence(n: number): void {
    if (this.#lastSequence >= 0) {
      const step = (n - this.#lastSequence) & 0xffff;
      if (step === 0 || step >= 0x8000) this.figures.outOfOrder++;
      else if (step > 1) this.figures.sequenceGaps += step - 1;
      if (step === 0 || step >= 0x8000) return;
    }
    this.#lastSequence = n;
  }

  #refuse(reason: string, detail: string): void {
    this.figures.badMessages++;
    this.#bad(reason, detail);
  }
}
