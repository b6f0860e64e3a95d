import OpenAI, { toFile } from 'openai';
import type { PipelineAgentConfig, StageConfig } from './PipelineAgentConfig.ts';
import { MalformedReply, type AttemptContext } from './StageAttempts.ts';

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
 * and reports every failure. Control rate: all of this allocates freely.
 */
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
  }

  /** The caller's turn (a WAV file) as text. */
  async transcribe(wav: Uint8Array, a: AttemptContext): Promise<string> {
    const file = await toFile(wav, 'turn.wav', { type: 'audio/wav' });
    const { model, stream } = this.#cfg.stt;
    if (!stream) {
      const r = (await this.#stt.audio.transcriptions.create({ file, model, response_format: 'json' }, { signal: a.signal })) as unknown;
      const text = (r as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new MalformedReply('transcription without a text field');
      return text;
    }
    const events = await this.#stt.audio.transcriptions.create({ file, model, stream: true }, { signal: a.signal });
    let text = '';
    for await (const e of events as AsyncIterable<unknown>) {
      a.touch();
      const ev = e as { type?: unknown; delta?: unknown; text?: unknown };
      if (ev.type === 'transcript.text.delta' && typeof ev.delta === 'string') text += ev.delta;
      else if (ev.type === 'transcript.text.done' && typeof ev.text === 'string') return ev.text;
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
    const stream = await this.#llm.chat.completions.create(body, { signal: a.signal });
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
        onText(delta.content);
      }
      for (const d of delta.tool_calls ?? []) {
        if (typeof d.index !== 'number') throw new MalformedReply('tool-call delta without an index');
        const c = (calls[d.index] ??= { id: '', name: '', arguments: '' });
        if (typeof d.id === 'string') c.id = d.id;
        if (typeof d.function?.name === 'string') c.name += d.function.name;
        if (typeof d.function?.arguments === 'string') c.arguments += d.function.arguments;
      }
      if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
    }
    if (finishReason === '') throw new MalformedReply(`chat stream ended without a finish_reason [text so far:${text.length} chars]`);
    return { text, toolCalls: calls.filter((c) => c !== undefined), finishReason };
  }

  /** Speaks `input`: `onBytes` gets the 24 kHz s16le PCM as it arrives. */
  async speak(input: string, a: AttemptContext, onBytes: (bytes: Uint8Array) => void): Promise<void> {
    const { model, voice } = this.#cfg.tts;
    const res = await this.#tts.audio.speech.create({ model, voice, input, response_format: 'pcm' }, { signal: a.signal });
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('application/json') || type.startsWith('text/')) throw new MalformedReply(`speech answered ${type}, not audio`);
    if (res.body === null) throw new MalformedReply('speech without a body');
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      a.touch();
      onBytes(value);
    }
  }
}
