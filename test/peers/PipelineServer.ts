/**
 * A local stand-in for the three OpenAI-compatible HTTP APIs the `pipeline`
 * agent calls, faithful to what the `openai` package sends and expects:
 * - `POST /v1/audio/transcriptions`: a multipart/form-data upload (parsed by
 *   the platform's own form-data parser), its `file` read as a WAV; answers
 *   `{"text": …}`, or with `stream=true` the `transcript.text.delta` /
 *   `transcript.text.done` server-sent events;
 * - `POST /v1/chat/completions` with `stream: true`: `chat.completion.chunk`
 *   server-sent events as the API streams them — the role first, the content
 *   word by word, tool calls as `tool_calls` deltas (id and name first, the
 *   arguments in pieces), a last chunk with `finish_reason`, then `data: [DONE]`;
 * - `POST /v1/audio/speech` with `response_format: "pcm"`: 24 kHz s16le mono,
 *   chunked transfer, 100 ms a chunk; each sentence is a tone lasting
 *   `msPerChar` per character, so a test knows how much of which text played.
 * @see https://platform.openai.com/docs/api-reference/audio
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 *
 * Faults are queued per stage and used by the next requests: `timeout` (no
 * answer), `429` / `500` (the API's error body), `malformed` (JSON that does
 * not parse mid-stream; for speech a JSON body instead of audio), and a
 * hostile server's: `huge` (a 10,000-character transcript), `endless` (a chat
 * stream or a speech body that never ends), `bad-tool-index` (a tool-call
 * delta at index 1e9). Fixed
 * latencies stand in for a model's time, and every response carries
 * `openai-processing-ms` as the API's do. Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readPcm16Wav } from './speech.ts';

export type Stage = 'stt' | 'llm' | 'tts';
export type Fault = 'timeout' | '429' | '500' | 'malformed' | 'huge' | 'endless' | 'bad-tool-index';
/** Faults that answer 200 and go wrong in the body: the stage's handler plays them. */
const IN_BODY: readonly Fault[] = ['malformed', 'huge', 'endless', 'bad-tool-index'];
type Json = Record<string, any>;

export interface PipelineServerOptions {
  /** The transcript of an uploaded turn (default: its length, "turn of N ms"). */
  transcribe?: (samples: Int16Array, rateHz: number) => string;
  /** The model's answer to the conversation so far: text, or a tool call. */
  reply?: (messages: Json[]) => string | { tool: { name: string; arguments: string } };
  /** Latencies: before the transcript, before the first chat chunk, before the first speech byte. */
  sttMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  /** Between two content chunks of the chat stream. */
  llmChunkMs?: number;
  msPerChar?: number;
}

export interface Request {
  stage: Stage;
  atMs: number;
  body: Json;
  /** STT: the uploaded WAV's rate and length. */
  wav?: { rateHz: number; ms: number };
}

export const TTS_RATE_HZ = 24000;
/** Speech is a 400 Hz tone in chunks of 100 ms (40 whole periods), made once. */
const TONE_CHUNK_SAMPLES = TTS_RATE_HZ / 10;
const TONE_CHUNK = Buffer.alloc(TONE_CHUNK_SAMPLES * 2);
for (let i = 0; i < TONE_CHUNK_SAMPLES; i++) TONE_CHUNK.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 400 * i) / TTS_RATE_HZ)), i * 2);
/** Endless speech comes a second at a time: the client's cut (a minute) is reached in 60 writes, not 600. */
const ENDLESS_CHUNK = Buffer.concat(Array.from({ length: 10 }, () => TONE_CHUNK));

export class PipelineServer {
  readonly requests: Request[] = [];
  readonly faults: Record<Stage, Fault[]> = { stt: [], llm: [], tts: [] };
  readonly #o: PipelineServerOptions;
  readonly #http: Server;
  readonly #held = new Set<ServerResponse>();
  #ids = 0;

  constructor(o: PipelineServerOptions = {}) {
    this.#o = o;
    this.#http = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err), type: 'server_error' } }));
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#http.listen(0, '127.0.0.1', r));
  }

  baseUrl(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}/v1`;
  }

  of(stage: Stage): Request[] {
    return this.requests.filter((r) => r.stage === stage);
  }

  async close(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.#http.closeAllConnections();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // As the API does, every response says how long the server worked on it (to its headers).
    const startedAt = performance.now();
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      res.setHeader('openai-processing-ms', String(Math.round(performance.now() - startedAt)));
      return writeHead(...args);
    }) as typeof res.writeHead;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const stage: Stage | undefined =
      req.url === '/v1/audio/transcriptions' ? 'stt' : req.url === '/v1/chat/completions' ? 'llm' : req.url === '/v1/audio/speech' ? 'tts' : undefined;
    if (req.method !== 'POST' || stage === undefined) return error(res, 404, 'invalid_request_error', `unknown route ${req.method} ${req.url}`);
    if (req.headers.authorization?.startsWith('Bearer ') !== true) return error(res, 401, 'invalid_request_error', 'missing bearer token');
    const entry: Request = { stage, atMs: performance.now(), body: {} };
    this.requests.push(entry);
    if (stage === 'stt') {
      // The platform's multipart parser, as any server would use one.
      const form = await new globalThis.Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
      const file = form.get('file');
      if (!(file instanceof Blob)) return error(res, 400, 'invalid_request_error', 'file is required');
      for (const [k, v] of form.entries()) if (typeof v === 'string') entry.body[k] = v;
      // A server's own reader: the upload must be the 16-bit mono PCM WAV the API takes.
      const wav = readPcm16Wav(new Uint8Array(await file.arrayBuffer()), 'upload');
      const samples = wav.samples;
      entry.wav = { rateHz: wav.rateHz, ms: (samples.length / wav.rateHz) * 1000 };
      entry.body['filename'] = (file as File).name;
      entry.body['fileType'] = file.type;
      if (this.#fault(stage, res)) return;
      await sleep(this.#o.sttMs ?? 0);
      const huge = this.faults.stt[0] === 'huge' ? this.faults.stt.shift() : undefined;
      const text = huge !== undefined ? 'word '.repeat(2000) : (this.#o.transcribe?.(samples, wav.rateHz) ?? `turn of ${Math.round(entry.wav.ms)} ms`);
      if (entry.body['stream'] !== 'true') return json(res, { text });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of text.split(/(?<= )/)) res.write(`data: ${JSON.stringify({ type: 'transcript.text.delta', delta: word })}\n\n`);
      res.end(`data: ${JSON.stringify({ type: 'transcript.text.done', text })}\n\n`);
      return;
    }
    entry.body = JSON.parse(raw.toString('utf8')) as Json;
    if (this.#fault(stage, res)) return;
    if (stage === 'llm') return this.#chat(entry.body, res);
    return this.#speech(entry.body, res);
  }

  /** Applies the stage's next queued fault; true when it answered (or holds) the request. */
  #fault(stage: Stage, res: ServerResponse): boolean {
    const f = this.faults[stage][0];
    if (f === undefined || IN_BODY.includes(f)) return false;
    this.faults[stage].shift();
    if (f === 'timeout') {
      this.#held.add(res);
      return true;
    }
    if (f === '429') error(res, 429, 'rate_limit_exceeded', 'Rate limit reached, try again shortly');
    else error(res, 500, 'server_error', 'The server had an error while processing your request');
    return true;
  }

  async #chat(body: Json, res: ServerResponse): Promise<void> {
    if (body['stream'] !== true) return error(res, 400, 'invalid_request_error', 'this server streams only');
    const fault = this.faults.llm[0] !== undefined && IN_BODY.includes(this.faults.llm[0]) ? this.faults.llm.shift() : undefined;
    const answer = this.#o.reply?.(body['messages'] as Json[]) ?? 'Hello there. How can I help you today?';
    const id = `chatcmpl-${++this.#ids}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Json, finish: string | null = null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body['model'], system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    await sleep(this.#o.llmFirstTokenMs ?? 0);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (fault === 'malformed') {
      res.end(`data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel\n\n`);
      return;
    }
    if (fault === 'bad-tool-index') {
      res.write(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 1e9, id: 'call_x', type: 'function', function: { name: 'f', arguments: '' } }] }));
      res.write(chunk({}, 'tool_calls'));
      res.end('data: [DONE]\n\n');
      return;
    }
    if (fault === 'endless') {
      // Words without a full stop, until the client gives up.
      res.write(chunk({ role: 'assistant', content: '', refusal: null }));
      while (!res.destroyed) {
        res.write(chunk({ content: 'and on ' }));
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    if (typeof answer !== 'string') {
      const { name, arguments: args } = answer.tool;
      res.write(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: `call_${this.#ids}`, type: 'function', function: { name, arguments: '' } }], refusal: null }));
      for (let i = 0; i < args.length; i += 8) res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 8) } }] }));
      res.write(chunk({}, 'tool_calls'));
      res.end('data: [DONE]\n\n');
      return;
    }
    res.write(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const word of answer.split(/(?<= )/)) {
      if (res.destroyed) return;
      res.write(chunk({ content: word }));
      if ((this.#o.llmChunkMs ?? 0) > 0) await sleep(this.#o.llmChunkMs!);
    }
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  async #speech(body: Json, res: ServerResponse): Promise<void> {
    if (body['response_format'] !== 'pcm') return error(res, 400, 'invalid_request_error', 'this server speaks pcm only');
    const fault = this.faults.tts[0] !== undefined && IN_BODY.includes(this.faults.tts[0]) ? this.faults.tts.shift() : undefined;
    if (fault === 'malformed') return json(res, { error: { message: 'not audio', type: 'server_error' } });
    const input = String(body['input']);
    const samples = fault === 'endless' ? Number.POSITIVE_INFINITY : Math.round((input.length * (this.#o.msPerChar ?? 20) * TTS_RATE_HZ) / 1000);
    await sleep(this.#o.ttsFirstByteMs ?? 0);
    res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
    const whole = fault === 'endless' ? ENDLESS_CHUNK : TONE_CHUNK;
    for (let at = 0; at < samples && !res.destroyed; at += whole.length / 2) {
      const n = Math.min(whole.length / 2, samples - at);
      // 100 ms holds whole periods of the tone: every chunk is the same bytes.
      const b = whole.subarray(0, n * 2);
      res.write(b);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The API's error body: `{"error": {"message", "type", "param", "code"}}`. */
function error(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } }));
}
