/**
 * A local stand-in for the OpenAI Realtime API (GA protocol) on
 * `wss://127.0.0.1:<port>/v1/realtime?model=…`, faithful to what the
 * `openai` package's `OpenAIRealtimeWS` client expects: TLS (the client always
 * turns the base URL into wss), `Authorization: Bearer …`, JSON text events.
 * @see https://platform.openai.com/docs/api-reference/realtime-client-events
 * @see https://platform.openai.com/docs/api-reference/realtime-server-events
 *
 * What it does: `session.created` on connect; `session.update` → `session.updated`
 * (GA: `session.type` is required); `input_audio_buffer.append/commit/clear`;
 * server VAD by short-term energy on the appended audio (`speech_started` with
 * `audio_start_ms` less the prefix padding, `speech_stopped` after the silence
 * duration, `committed`, then a response when `create_response`; a response in
 * progress is cancelled when speech starts and `interrupt_response`);
 * `response.create` streams `response.output_audio.delta` (a tone, or a clip)
 * paced in real time or in a burst; `response.cancel`; `conversation.item.truncate`,
 * which fails with an `error` event when `audio_end_ms` exceeds the audio sent
 * for the item, as the API does; an optional function call as the first
 * response. Audio formats: `audio/pcmu` (8 kHz) and `audio/pcm` (24 kHz s16le).
 * Every event received is recorded for assertions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Session } from './RealtimeSession.ts';

export const TLS_CERT = readFileSync(new URL('./tls/localhost.crt', import.meta.url));
const TLS_KEY = readFileSync(new URL('./tls/localhost.key', import.meta.url));

export type Reply = { kind: 'tone'; hz: number; ms: number } | { kind: 'clip'; pcm24k: Int16Array };

export interface RealtimeServerOptions {
  reply?: Reply;
  /** Audio per `response.output_audio.delta`. */
  deltaMs?: number;
  /** 'realtime' paces deltas at playback speed (÷ speedup); 'burst' sends them as fast as it can. */
  pace?: 'realtime' | 'burst';
  speedup?: number;
  /** The first response of each session is this function call instead of audio. */
  tool?: { name: string; arguments: string };
  /** Energy VAD: a 10 ms frame above this level is speech. */
  vadThresholdDbfs?: number;
  /** Consecutive speech needed to declare speech_started. */
  vadMinSpeechMs?: number;
}

export interface Recorded {
  atMs: number;
  session: number;
  event: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export class RealtimeServer {
  readonly received: Recorded[] = [];
  readonly sent: Recorded[] = [];
  readonly #o: Required<Omit<RealtimeServerOptions, 'tool'>> & RealtimeServerOptions;
  readonly #https: Server;
  readonly #wss: WebSocketServer;
  readonly #t0 = performance.now();
  #sessions = 0;
  #ids = 0;

  constructor(options: RealtimeServerOptions = {}) {
    this.#o = {
      reply: { kind: 'tone', hz: 440, ms: 1000 },
      deltaMs: 100,
      pace: 'realtime',
      speedup: 1,
      vadThresholdDbfs: -45,
      vadMinSpeechMs: 30,
      ...options,
    };
    this.#https = createServer({ cert: TLS_CERT, key: TLS_KEY });
    this.#wss = new WebSocketServer({ noServer: true });
    this.#https.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const auth = req.headers.authorization ?? '';
      const refuse = (status: string): void => void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      if (url.pathname !== '/v1/realtime') return refuse('404 Not Found');
      if (!/^Bearer \S+$/.test(auth)) return refuse('401 Unauthorized');
      const model = url.searchParams.get('model');
      if (model === null || model === '') return refuse('400 Bad Request');
      this.#wss.handleUpgrade(req, socket, head, (ws) => new Session(this, ws, ++this.#sessions, model));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#https.listen(0, '127.0.0.1', r));
    return (this.#https.address() as AddressInfo).port;
  }
  /** Base URL for `new OpenAI({ baseURL })`. */
  baseUrl(): string {
    return `https://127.0.0.1:${(this.#https.address() as AddressInfo).port}/v1`;
  }
  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    await new Promise((r) => this.#https.close(r));
  }
  /** Sends raw text to every open session, as a misbehaving server would (malformed or unknown events). */
  sendRaw(text: string): void {
    for (const ws of this.#wss.clients) ws.send(text);
  }
  /** Closes every session's socket from the server side, mid-call. */
  closeSessions(code = 1011, reason = 'server going away'): void {
    for (const ws of this.#wss.clients) ws.close(code, reason);
  }
  /** Events of one type sent, in order. */
  sentOf(type: string): Json[] {
    return this.sent.filter((r) => r.event['type'] === type).map((r) => r.event);
  }
  /** Events of one type received, in order. */
  eventsOf(type: string): Json[] {
    return this.received.filter((r) => r.event['type'] === type).map((r) => r.event);
  }

  get options(): Required<Omit<RealtimeServerOptions, 'tool'>> & RealtimeServerOptions {
    return this.#o;
  }
  nowMs(): number {
    return performance.now() - this.#t0;
  }
  id(prefix: string): string {
    return `${prefix}_${(++this.#ids).toString(36).padStart(8, '0')}`;
  }
}
