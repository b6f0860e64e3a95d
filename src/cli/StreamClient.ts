import { WebSocket, type RawData } from 'ws';
import { PacketDecoder, type JitterCodec } from '../dsp/PacketDecoder.ts';
import { FrameEncoder } from '../dsp/FrameEncoder.ts';
import { STREAM_CODECS, type StreamCodecName } from '../wire/streamControl.ts';
import {
  STREAM_CODEC_NUMBER,
  STREAM_FLAG_SPEECH,
  STREAM_HEADER_BYTES,
  StreamHeaderError,
  StreamHeaderView,
  parseStreamHeader,
  writeStreamHeader,
} from '../wire/streamHeader.ts';

/** The subprotocol (StreamServer.ts has the server's copy of the name). */
const SUBPROTOCOL = 'audio-stream-v1';
const FRAME_MS = 20;

export interface StreamClientOptions {
  /** `ws://host:port/v1/stream` */
  url: string;
  codec: StreamCodecName;
  rateHz: number;
  agent?: string;
  /** The control token, when the daemon has one. */
  token?: string;
  custom?: Record<string, unknown>;
}

/**
 * The reference client of the raw audio stream (DESIGN: "The raw audio
 * stream protocol"): sends PCM as encoded 20 ms frames at real-time pace, and
 * plays what comes back on a simulated playout clock, as a phone would. The
 * server's marks are echoed when the playout clock has passed the audio
 * before them; on `clear` the audio not yet played is dropped and every
 * pending mark echoed at once (as Twilio does). `heard` is what was played,
 * placed in time by the frames' timestamps, silence where nothing came.
 */
export class StreamClient {
  readonly #o: StreamClientOptions;
  readonly #codec: JitterCodec;
  readonly #encoder: FrameEncoder;
  readonly #decoder: PacketDecoder;
  readonly #spf: number;
  #ws: WebSocket | undefined;
  /**
   * Decoded frames scheduled on the playout clock (each plays for 20 ms from when the one before
   * ends, or from its arrival after a pause), and marks at the time the audio before them ends.
   */
  #queue: Array<{ pcm: Int16Array; tsMs: number; endMs: number } | { mark: string; endMs: number }> = [];
  #playoutEndMs = 0;
  #firstTsMs: number | undefined;
  #player: NodeJS.Timeout | undefined;
  /** Played audio: frames by their place (timestamp − first timestamp) ÷ 20 ms. */
  readonly #heard = new Map<number, Int16Array>();
  callId: string | undefined;
  readonly events: Array<{ event: string; [key: string]: unknown }> = [];
  framesReceived = 0;
  framesSent = 0;
  /** The header timestamp (ms) of every frame received, in arrival order. */
  readonly timestampsMs: number[] = [];
  marksEchoed = 0;
  clears = 0;
  /** Frames played so far on the playout clock. */
  playedFrames = 0;
  /** At each `clear`: when it came and how much had been played by then (ms), the truth a barge-in is measured against. */
  readonly clearsAt: Array<{ atMs: number; heardMs: number }> = [];
  /** Our own marks as they came back: name and arrival (performance.now()). */
  readonly markEchoes: Array<{ name: string; atMs: number }> = [];
  readonly #ownMarks = new Set<string>();
  /** Close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;

  constructor(opts: StreamClientOptions) {
    this.#o = opts;
    this.#codec = STREAM_CODECS[opts.codec];
    this.#encoder = new FrameEncoder(this.#codec, opts.rateHz);
    this.#decoder = new PacketDecoder(this.#codec, opts.rateHz);
    this.#spf = (opts.rateHz * FRAME_MS) / 1000;
  }

  get samplesPerFrame(): number {
    return this.#spf;
  }

  /** Opens the socket, sends `start` and resolves with the call's id on `started`. */
  async connect(timeoutMs = 5000): Promise<string> {
    const headers: Record<string, string> = this.#o.token === undefined ? {} : { Authorization: `Bearer ${this.#o.token}` };
    const ws = new WebSocket(this.#o.url, SUBPROTOCOL, { headers });
    this.#ws = ws;
    const closed = new Promise<never>((_, reject) => {
      ws.once('close', (code, reason) => reject(new Error(`the stream closed before started [code:${code}, reason:${reason.toString()}]`)));
      ws.once('error', reject);
    });
    closed.catch(() => undefined);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      clearInterval(this.#player);
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    await Promise.race([new Promise((resolve) => ws.once('open', resolve)), closed]);
    const start: Record<string, unknown> = { event: 'start', codec: this.#o.codec, rateHz: this.#o.rateHz };
    if (this.#o.agent !== undefined) start['agent'] = this.#o.agent;
    if (this.#o.custom !== undefined) start['custom'] = this.#o.custom;
    ws.send(JSON.stringify(start));
    this.#player = setInterval(() => this.#play(), 5);
    const started = new Promise<string>((resolve) => {
      const check = setInterval(() => {
        if (this.callId === undefined) return;
        clearInterval(check);
        resolve(this.callId);
      }, 5);
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no started within ${timeoutMs} ms`)), timeoutMs).unref());
    return Promise.race([started, closed, timeout]);
  }

  /**
   * Sends `pcm` (at the stream's rate) as 20 ms frames at real-time pace (or all at once: `burst`);
   * frames flagged speech where `speech` says so, and those `drop` picks left out (a gap in sequence and time).
   */
  async sendAudio(
    pcm: Int16Array,
    opts: { speech?: (frame: number) => boolean; startTsMs?: number; startSeq?: number; drop?: (frame: number) => boolean; burst?: boolean } = {},
  ): Promise<void> {
    const spf = this.#spf;
    const frame = new Int16Array(spf);
    const out = new Uint8Array(STREAM_HEADER_BYTES + 2048);
    const payload = out.subarray(STREAM_HEADER_BYTES);
    const t0 = performance.now();
    const frames = Math.ceil(pcm.length / spf);
    for (let f = 0; f < frames; f++) {
      // The stream is over (stopped, closed by the server): nothing more to send.
      if (this.#ws?.readyState !== WebSocket.OPEN) return;
      frame.fill(0);
      frame.set(pcm.subarray(f * spf, Math.min(pcm.length, (f + 1) * spf)));
      const n = this.#encoder.encode(frame, payload);
      if (n <= 0) throw new Error(`cannot encode frame ${f} [codec:${this.#codec}, code:${n}]`);
      const speech = opts.speech?.(f) ?? true;
      writeStreamHeader(out, (opts.startTsMs ?? 0) + f * FRAME_MS, ((opts.startSeq ?? 0) + f) & 0xffff, STREAM_CODEC_NUMBER[this.#codec], speech ? STREAM_FLAG_SPEECH : 0);
      // A dropped frame keeps its sequence number and time: the server sees a gap, as from a lossy network.
      if (opts.drop?.(f) !== true) {
        this.sendRaw(out.slice(0, STREAM_HEADER_BYTES + n));
        this.framesSent++;
      }
      if (opts.burst === true) continue; // all at once, as a client that is ahead of real time
      const due = t0 + (f + 1) * FRAME_MS - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
  }

  /** Sends bytes as one binary message (tests send malformed ones). */
  sendRaw(bytes: Uint8Array): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(bytes, { binary: true });
  }

  /** Sends a mark of our own after the audio sent so far; the server echoes it once that audio has played. */
  sendMark(name: string): void {
    this.#ownMarks.add(name);
    this.sendText(JSON.stringify({ event: 'mark', name }));
  }

  sendText(text: string): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  /** Sends `stop` and waits for the socket to close. */
  async stop(timeoutMs = 3000): Promise<void> {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    this.sendText('{"event":"stop"}');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  abort(): void {
    clearInterval(this.#player);
    this.#ws?.terminate();
    this.#encoder.destroy();
  }

  /** What was played, in time order from the first frame received (silence where nothing came). */
  heard(): Int16Array {
    let last = -1;
    for (const k of this.#heard.keys()) last = Math.max(last, k);
    const out = new Int16Array((last + 1) * this.#spf);
    for (const [k, pcm] of this.#heard) out.set(pcm, k * this.#spf);
    return out;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) return this.#onFrame(bytes);
    let m: { event: string; [key: string]: unknown };
    try {
      m = JSON.parse(bytes.toString()) as typeof m;
    } catch {
      return;
    }
    this.events.push(m);
    if (m.event === 'started' && typeof m['callId'] === 'string') this.callId = m['callId'];
    else if (m.event === 'mark' && typeof m['name'] === 'string') {
      if (this.#ownMarks.delete(m['name'])) this.markEchoes.push({ name: m['name'], atMs: performance.now() });
      else this.#queue.push({ mark: m['name'], endMs: this.#playoutEndMs });
    } else if (m.event === 'clear') {
      this.clears++;
      this.#play();
      this.clearsAt.push({ atMs: performance.now(), heardMs: this.playedFrames * FRAME_MS });
      // Drop what has not played; every pending mark comes back at once.
      for (const q of this.#queue) if ('mark' in q) this.#echo(q.mark);
      this.#queue = [];
      this.#playoutEndMs = performance.now();
    }
  }

  #onFrame(bytes: Uint8Array): void {
    const h = new StreamHeaderView();
    if (parseStreamHeader(bytes, bytes.length, h) !== StreamHeaderError.OK) return;
    const pcm = new Int16Array(this.#decoder.maxPacketSamples);
    const n = this.#decoder.decode(bytes.subarray(h.payloadOffset), h.payloadLength, pcm);
    if (n <= 0) return;
    this.framesReceived++;
    this.timestampsMs.push(h.timestampMs);
    this.#playoutEndMs = Math.max(this.#playoutEndMs, performance.now()) + FRAME_MS;
    this.#queue.push({ pcm: pcm.slice(0, this.#spf), tsMs: h.timestampMs, endMs: this.#playoutEndMs });
  }

  /** Everything whose time on the playout clock has passed: frames are heard, marks go back. */
  #play(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.endMs <= now) {
      const q = this.#queue.shift()!;
      if ('mark' in q) {
        this.#echo(q.mark);
        continue;
      }
      this.#firstTsMs ??= q.tsMs;
      this.playedFrames++;
      this.#heard.set(Math.round(((q.tsMs - this.#firstTsMs) >>> 0) / FRAME_MS), q.pcm);
    }
  }

  #echo(name: string): void {
    this.marksEchoed++;
    this.sendText(JSON.stringify({ event: 'mark', name }));
  }
}
