import OpenAI, { toFile } from 'openai';
import type { PipelineAgentConfig, StageConfig } from './PipelineAgentConfig.ts';
import { MalformedReply, OversizeReply, type AttemptContext } from './StageAttempts.ts';

/**
 * The three HTTP APIs of the pipeline, each through the `openai` package
 * against its own base URL (OpenAI, or a compatible self-hosted server):
 * - STT `POST /audio/transcriptions` — the turn as a WAV upload; with
 *   `stt.stream` the transcript comes as `transcript.text.*` server-sent events;
 * - LLM `POST /chat/completions` with `stream: true` — content and tool-call
 *   deltas as they come;
 * - TTS `POST /audio/speech` with `response_format: "pcm"` (24 kHz 16-bit
 *   mono, little-endian) — bytes handed on as they arrive.
 * @see https://platform.openai.com/docs/api-reference/audio
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 *
 * The package's own retries are off (maxRetries 0): StageAttempts retries once
 * and reports every failure. A server is trusted with nothing: transcripts,
 * replies, tool calls and speech are bounded (a reply beyond its bound is
 * malformed; what was spoken of it stays). Control rate: all of this
 * allocates freely.
 */
/** A caller's turn is seconds of speech: a transcript beyond this is not one. */
export const MAX_TRANSCRIPT_CHARS = 8000;
/** A spoken reply of minutes: the model rambling on, or a server streaming without end. */
export const MAX_REPLY_CHARS = 6000;
/** Tool calls in one reply, and the size of a call's name and arguments. */
export const MAX_TOOL_CALLS = 16;
const MAX_TOOL_NAME_CHARS = 64;
const MAX_TOOL_ARGUMENT_CHARS = 65_536;
/** One sentence's speech (at most MAX_SENTENCE_CHARS): a minute is far beyond any voice. */
export const MAX_SENTENCE_SPEECH_BYTES = 60 * 48_000;
export type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: string;
}

function client(s: StageConfig): OpenAI {
  return new OpenAI({ apiKey: s.apiKey, baseURL: s.baseUrl, maxRetries: 0, timeout: 600_000, logLevel: 'off' });
}

/**
 * Reports the request's time to its response headers less the server's own
 * (OpenAI's `openai-processing-ms` header; servers without it report nothing).
 * @see https://platform.openai.com/docs/api-reference/debugging-requests
 */
function overhead(a: AttemptContext, startedAt: number, headers: Headers): void {
  const v = headers.get('openai-processing-ms');
  const serverMs = v === null ? Number.NaN : Number(v);
  if (Number.isFinite(serverMs) && serverMs >= 0) a.overhead(Math.max(0, performance.now() - startedAt - serverMs));
}

function transcript(text: string): string {
  if (text.length > MAX_TRANSCRIPT_CHARS) throw new OversizeReply(`transcript longer than ${MAX_TRANSCRIPT_CHARS} characters`);
  return text;
}

/**
 * The first `fetch` of a thread loads and compiles the HTTP client (100 ms and
 * more): done once when a worker's first pipeline starts, not in a caller's
 * first turn.
 */
let warmed = false;
function warmUp(): void {
  if (warmed) return;
  warmed = true;
  const form = new FormData();
  form.append('file', new File([new Uint8Array(44)], 'turn.wav', { type: 'audio/wav' }));
  // A multipart body as the STT upload makes one, and a fetch: the two paths a first turn takes.
  Promise.all([new Response(form).arrayBuffer(), fetch('data:,').then((r) => r.arrayBuffer())]).catch(() => undefined);
}

export class PipelineStages {
  readonly #cfg: PipelineAgentConfig;
  readonly #stt: OpenAI;
  readonly #llm: OpenAI;
  readonly #tts: OpenAI;

  constructor(cfg: PipelineAgentConfig) {
    this.#cfg = cfg;
    this.#stt = client(cfg.stt);
    this.#llm = client(cfg.llm);
    this.#tts = client(cfg.tts);
    warmUp();
  }

  /** The caller's turn (a WAV file) as text. */
  async transcribe(wav: Uint8Array, a: AttemptContext): Promise<string> {
    const file = await toFile(wav, 'turn.wav', { type: 'audio/wav' });
    const { model, stream } = this.#cfg.stt;
    const startedAt = performance.now();
    if (!stream) {
      const { data: r, response } = await this.#stt.audio.transcriptions.create({ file, model, response_format: 'json' }, { signal: a.signal }).withResponse();
      overhead(a, startedAt, response.headers);
      const text = (r as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new MalformedReply('transcription without a text field');
      return transcript(text);
    }
    const { data: events, response } = await this.#stt.audio.transcriptions.create({ file, model, stream: true }, { signal: a.signal }).withResponse();
    overhead(a, startedAt, response.headers);
    let text = '';
    for await (const e of events as AsyncIterable<unknown>) {
      a.touch();
      const ev = e as { type?: unknown; delta?: unknown; text?: unknown };
      if (ev.type === 'transcript.text.delta' && typeof ev.delta === 'string') text = transcript(text + ev.delta);
      else if (ev.type === 'transcript.text.done' && typeof ev.text === 'string') return transcript(ev.text);
    }
    throw new MalformedReply(`transcription stream ended without transcript.text.done [text so far:${text.length} chars]`);
  }

  /**
   * One streamed chat completion: `onText` gets each content delta as it
   * arrives; tool-call deltas are joined by their index. A stream that ends
   * without a finish_reason, or a chunk without `choices`, is malformed.
   */
  async chat(messages: ChatMessage[], a: AttemptContext, onText: (delta: string) => void): Promise<ChatResult> {
    const { model, tools } = this.#cfg.llm;
    const body: OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming = { model, messages, stream: true };
    if (tools.length > 0) body.tools = tools as OpenAI.Chat.Completions.ChatCompletionTool[];
    const startedAt = performance.now();
    const { data: stream, response } = await this.#llm.chat.completions.create(body, { signal: a.signal }).withResponse();
    overhead(a, startedAt, response.headers);
    let text = '';
    let finishReason = '';
    const calls: ToolCall[] = [];
    for await (const chunk of stream) {
      a.touch();
      const choices = (chunk as { choices?: unknown }).choices;
      if (!Array.isArray(choices)) throw new MalformedReply('chat chunk without choices');
      const choice = choices[0] as OpenAI.Chat.Completions.ChatCompletionChunk.Choice | undefined;
      if (choice === undefined) continue; // a usage-only chunk
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        text += delta.content;
        if (text.length > MAX_REPLY_CHARS) throw new OversizeReply(`reply longer than ${MAX_REPLY_CHARS} characters`);
        onText(delta.content);
      }
      for (const d of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        if (!Number.isInteger(d.index) || d.index < 0 || d.index >= MAX_TOOL_CALLS) {
          throw new MalformedReply(`tool-call delta index must be an integer 0-${MAX_TOOL_CALLS - 1} [got:${String(d.index).slice(0, 20)}]`);
        }
        const c = (calls[d.index] ??= { id: '', name: '', arguments: '' });
        if (typeof d.id === 'string') c.id = d.id.slice(0, MAX_TOOL_NAME_CHARS);
        if (typeof d.function?.name === 'string') c.name += d.function.name;
        if (typeof d.function?.arguments === 'string') c.arguments += d.function.arguments;
        if (c.name.length > MAX_TOOL_NAME_CHARS || c.arguments.length > MAX_TOOL_ARGUMENT_CHARS) {
          throw new OversizeReply(`tool call beyond ${MAX_TOOL_NAME_CHARS} characters of name or ${MAX_TOOL_ARGUMENT_CHARS} of arguments`);
        }
      }
      if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
    }
    if (finishReason === '') throw new MalformedReply(`chat stream ended without a finish_reason [text so far:${text.length} chars]`);
    return { text, toolCalls: calls.filter((c) => c !== undefined), finishReason };
  }

  /** Speaks `input`: `onBytes` gets the 24 kHz s16le PCM as it arrives. */
  async speak(input: string, a: AttemptContext, onBytes: (bytes: Uint8Array) => void): Promise<void> {
    const { model, voice } = this.#cfg.tts;
    const startedAt = performance.now();
    const res = await this.#tts.audio.speech.create({ model, voice, input, response_format: 'pcm' }, { signal: a.signal });
    overhead(a, startedAt, res.headers);
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('application/json') || type.startsWith('text/')) throw new MalformedReply(`speech answered ${type}, not audio`);
    if (res.body === null) throw new MalformedReply('speech without a body');
    const reader = res.body.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      a.touch();
      bytes += value.length;
      if (bytes > MAX_SENTENCE_SPEECH_BYTES) {
        await reader.cancel();
        throw new OversizeReply(`speech of one sentence longer than ${MAX_SENTENCE_SPEECH_BYTES / 48_000} s`);
      }
      onBytes(value);
    }
  }
}
