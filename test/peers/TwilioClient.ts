/**
 * A test peer that behaves as Twilio does on a bidirectional Media Stream
 * (`<Connect><Stream>`), as documented:
 * @see https://www.twilio.com/docs/voice/media-streams/websocket-messages
 * @see https://www.twilio.com/docs/api/errors/31950 (binary frames) and 31951 (invalid messages)
 *
 * - connects (signing the upgrade with X-Twilio-Signature when given a token),
 *   sends `connected` then `start`, then the caller's audio as `media` every
 *   20 ms with string `sequenceNumber`, `chunk` and `timestamp`;
 * - buffers the audio it receives and "plays" it in real time, 160 bytes per
 *   20 ms; echoes a `mark` only once every byte queued before it has played;
 * - on `clear` drops its buffer and echoes every pending mark at once;
 * - drops what Twilio drops (binary frames, invalid JSON, unknown events,
 *   missing or unexpected fields, another streamSid), recording the warning
 *   Twilio would log; `strict` closes the socket instead.
 *
 * Like every peer here it imports nothing from src/: its validation is
 * written independently of src/wire/twilio.ts, its µ-law and speech
 * (g711.ts, speech.ts) independently of src/dsp and src/wire/wav.ts, so the
 * two sides cannot share a mistake. `speedup` divides every interval (for
 * long clips); message contents stay in audio time.
 */
import { WebSocket, type RawData } from 'ws';
import twilio from 'twilio';

export { ulawSpeech } from './speech.ts';

export const CHUNK_BYTES = 160;
export const CHUNK_MS = 20;
const SILENCE = 0xff;

export interface TwilioClientOptions {
  url: string;
  /** Signs the upgrade request; `signatureUrl` is the URL Twilio would sign (default `url`). */
  authToken?: string;
  signatureUrl?: string;
  streamSid?: string;
  callSid?: string;
  accountSid?: string;
  customParameters?: Record<string, string>;
  /** The caller's µ-law audio, sent in 20 ms chunks. */
  audio?: Uint8Array;
  /** After the audio: hang up (`stop`, close) or keep sending silence until `hangup()`. */
  afterAudio?: 'stop' | 'silence';
  speedup?: number;
  strict?: boolean;
  /** Sequence numbers to skip, as a lossy path would (for gap-counting tests). */
  skipSequence?: ReadonlySet<number>;
}

export interface Received {
  atMs: number;
  binary: boolean;
  text: string;
}
export interface Warning {
  atMs: number;
  code: 31950 | 31951;
  detail: string;
}
export interface MarkEcho {
  atMs: number;
  name: string;
  /** Bytes played when echoed: everything queued before the mark. */
  playedBytes: number;
  cleared: boolean;
}
export interface ClearRecord {
  atMs: number;
  droppedBytes: number;
  /** Exact audio heard so far, including the part of the chunk playing when clear came. */
  heardMs: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class TwilioClient {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly received: Received[] = [];
  readonly warnings: Warning[] = [];
  readonly marks: MarkEcho[] = [];
  readonly clears: ClearRecord[] = [];
  /** Every byte played to the "caller", in order. */
  readonly played: number[] = [];
  /** Media messages sent: sequence number and wall time. */
  readonly sentMedia: Array<{ seq: number; atMs: number }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  readonly #o: Required<Omit<TwilioClientOptions, 'authToken' | 'signatureUrl' | 'audio'>> & TwilioClientOptions;
  readonly #tickMs: number;
  #ws: WebSocket | undefined;
  #t0 = 0;
  #seq = 0;
  #chunk = 0;
  #audioAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #running = false;
  /** Playout: queued bytes with marks at byte places; `#playedBytes` counts bytes finished playing. */
  #queue: number[] = [];
  #pendingMarks: Array<{ name: string; at: number }> = [];
  #playedBytes = 0;
  #playing = 0;
  #playingSince = 0;

  constructor(options: TwilioClientOptions) {
    this.#o = {
      streamSid: 'MZ' + '0'.repeat(32),
      callSid: 'CA' + '1'.repeat(32),
      accountSid: 'AC' + '2'.repeat(32),
      customParameters: {},
      afterAudio: 'stop',
      speedup: 1,
      strict: false,
      skipSequence: new Set(),
      ...options,
    };
    this.streamSid = this.#o.streamSid;
    this.callSid = this.#o.callSid;
    this.accountSid = this.#o.accountSid;
    this.#tickMs = CHUNK_MS / this.#o.speedup;
    let resolveClosed!: (v: { code: number; reason: string }) => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    this.#resolveClosed = resolveClosed;
  }
  readonly #resolveClosed: (v: { code: number; reason: string }) => void;

  /** Opens the stream: resolves once `connected` and `start` are sent; the audio then flows. */
  async connect(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.#o.authToken !== undefined) {
      headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(this.#o.authToken, this.#o.signatureUrl ?? this.#o.url, {});
    }
    const ws = new WebSocket(this.#o.url, { headers });
    this.#ws = ws;
    ws.on('close', (code, reason) => {
      this.#stopTimer();
      this.#resolveClosed({ code, reason: reason.toString() });
    });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused [status:${res.statusCode}]`)));
    });
    ws.on('error', () => undefined);
    this.#t0 = performance.now();
    this.#send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.#send({
      event: 'start',
      sequenceNumber: String(++this.#seq),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        customParameters: this.#o.customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: this.streamSid,
    });
    this.#running = true;
    this.#schedule();
  }

  /** Wall-clock ms since the stream opened. */
  now(): number {
    return performance.now() - this.#t0;
  }

  /** Bytes queued for playout and not yet played. */
  queuedBytes(): number {
    return this.#queue.length + this.#playing;
  }

  sendDtmf(digit: string): void {
    this.#send({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: String(++this.#seq), dtmf: { track: 'inbound_track', digit } });
  }

  /** Sends any text frame as is: for feeding the server malformed input. */
  sendRaw(data: string | Buffer): void {
    this.#ws?.send(data);
  }

  /** `stop`, then a normal close, as at the end of a call. */
  hangup(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#stopTimer();
    this.#send({
      event: 'stop',
      sequenceNumber: String(++this.#seq),
      streamSid: this.streamSid,
      stop: { accountSid: this.accountSid, callSid: this.callSid },
    });
    this.#ws?.close(1000);
  }

  /** The TCP connection drops without a close frame. */
  abort(): void {
    this.#running = false;
    this.#stopTimer();
    this.#ws?.terminate();
  }

  /** The connection stays open but this side goes silent and stops reading. */
  goHalfOpen(): void {
    this.#running = false;
    this.#stopTimer();
    this.#ws?.pause();
  }

  #send(msg: object): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }

  /** Drift-free ticks: the n-th at t0 + n·tick, whatever the timer's lateness. */
  #schedule(): void {
    const due = this.#t0 + (this.#ticks + 1) * this.#tickMs;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - performance.now()));
  }
  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (!this.#running) return;
    this.#ticks++;
    this.#playTick();
    this.#sendChunk();
    if (this.#running) this.#schedule();
  }

  #sendChunk(): void {
    const audio = this.#o.audio ?? new Uint8Array(0);
    if (this.#audioAt >= audio.length && this.#o.afterAudio === 'stop') {
      this.hangup();
      return;
    }
    const chunk = Buffer.alloc(CHUNK_BYTES, SILENCE);
    if (this.#audioAt < audio.length) chunk.set(audio.subarray(this.#audioAt, this.#audioAt + CHUNK_BYTES));
    this.#audioAt += CHUNK_BYTES;
    const seq = ++this.#seq;
    const n = ++this.#chunk;
    if (this.#o.skipSequence.has(seq)) return;
    this.sentMedia.push({ seq, atMs: this.now() });
    this.#send({
      event: 'media',
      sequenceNumber: String(seq),
      media: { track: 'inbound', chunk: String(n), timestamp: String((n - 1) * CHUNK_MS), payload: chunk.toString('base64') },
      streamSid: this.streamSid,
    });
  }

  /** One tick of playout: the chunk that was playing has finished; the next starts. */
  #playTick(): void {
    this.#playedBytes += this.#playing;
    this.#playing = 0;
    this.#echoPlayedMarks();
    const n = Math.min(CHUNK_BYTES, this.#queue.length);
    if (n > 0) {
      const bytes = this.#queue.splice(0, n);
      for (const b of bytes) this.played.push(b);
      this.#playing = n;
      this.#playingSince = performance.now();
    }
  }

  #echoPlayedMarks(): void {
    while (this.#pendingMarks.length > 0 && this.#pendingMarks[0]!.at <= this.#playedBytes) {
      this.#echo(this.#pendingMarks.shift()!.name, false);
    }
  }

  #echo(name: string, cleared: boolean): void {
    this.marks.push({ atMs: this.now(), name, playedBytes: this.#playedBytes, cleared });
    this.#send({ event: 'mark', sequenceNumber: String(++this.#seq), streamSid: this.streamSid, mark: { name } });
  }

  #warn(code: 31950 | 31951, detail: string): void {
    this.warnings.push({ atMs: this.now(), code, detail });
    if (this.#o.strict) this.#ws?.close(1008, `${code}: ${detail}`.slice(0, 120));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const text = isBinary ? '' : data.toString();
    this.received.push({ atMs: this.now(), binary: isBinary, text });
    if (isBinary) return this.#warn(31950, 'binary frame');
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      return this.#warn(31951, 'invalid JSON');
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return this.#warn(31951, 'not a JSON object');
    const msg = m as Record<string, unknown>;
    const keys = Object.keys(msg).sort().join(',');
    if (msg['streamSid'] !== this.streamSid) return this.#warn(31951, `streamSid mismatch [${String(msg['streamSid'])}]`);
    const body = (k: string): Record<string, unknown> | undefined => {
      const v = msg[k];
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    };
    switch (msg['event']) {
      case 'media': {
        const media = body('media');
        const payload = media?.['payload'];
        if (keys !== 'event,media,streamSid' || Object.keys(media ?? {}).join(',') !== 'payload' || typeof payload !== 'string' || !BASE64.test(payload)) {
          return this.#warn(31951, 'invalid media message');
        }
        for (const b of Buffer.from(payload, 'base64')) this.#queue.push(b);
        return;
      }
      case 'mark': {
        const name = body('mark')?.['name'];
        if (keys !== 'event,mark,streamSid' || typeof name !== 'string') return this.#warn(31951, 'invalid mark message');
        this.#pendingMarks.push({ name, at: this.#playedBytes + this.#playing + this.#queue.length });
        this.#echoPlayedMarks();
        return;
      }
      case 'clear': {
        if (keys !== 'event,streamSid') return this.#warn(31951, 'invalid clear message');
        const into = this.#playing === 0 ? 0 : Math.min(this.#playing, ((performance.now() - this.#playingSince) * this.#o.speedup * 8) | 0);
        const droppedBytes = this.#queue.length + this.#playing - into;
        // What was playing stops where it is; the rest of the buffer goes.
        this.played.length -= this.#playing - into;
        this.#playedBytes += into;
        this.#playing = 0;
        this.#queue.length = 0;
        this.clears.push({ atMs: this.now(), droppedBytes, heardMs: this.#playedBytes / 8 });
        for (const mark of this.#pendingMarks.splice(0)) this.#echo(mark.name, true);
        return;
      }
      default:
        return this.#warn(31951, `unsupported event [${String(msg['event'])}]`);
    }
  }
}
