import { writeWav } from '../../../wire/wav.ts';
import type { Downlink } from '../RealtimeAudio.ts';
import { ToolCalls } from '../ToolCalls.ts';
import type { PipelineAgentConfig } from './PipelineAgentConfig.ts';
import { type ChatMessage, PipelineStages } from './PipelineStages.ts';
import { SentenceSplitter } from './SentenceSplitter.ts';
import type { SpokenSentences } from './SpokenSentences.ts';
import { Cancelled, OversizeReply, type StageFailure, withRetry } from './StageAttempts.ts';

/** 24 kHz 16-bit mono: bytes per ms of TTS audio. */
const TTS_BYTES_PER_MS = 48;
/** Speech synthesised ahead of playback at most; beyond, the next sentence waits (and the queue stays bounded). */
export const TTS_AHEAD_MS = 15_000;
/** Sentences in one reply: SpokenSentences keeps the last 64, and a cut must find every one of the reply's. */
export const MAX_REPLY_SENTENCES = 48;
/** How often a sentence waiting for room in the playout queue looks again. */
const TTS_WAIT_MS = 100;

/** One turn's figures (ms, from performance.now()), reported when its first audio plays. */
export interface TurnTiming {
  /** The VAD ended the caller's turn (after its hangover). */
  endedAt: number;
  /** -1 for a turn that had no speech to transcribe (the model answering a tool output). */
  sttMs: number;
  llmFirstTokenMs: number;
  /** Request to the end of the first whole sentence: what the model takes before speech can start. */
  llmFirstSentenceMs: number;
  ttsFirstByteMs: number;
  /**
   * Of those stage times, what the servers did not spend (they say theirs in
   * `openai-processing-ms`): round trips, the client, this thread's delays.
   * Engine time; 0 where no server said.
   */
  overheadMs: number;
}

/** What the conversation needs of its actor. */
export interface ConversationHost {
  readonly rateHz: number;
  readonly frameMs: number;
  readonly downlink: Downlink;
  readonly spoken: SpokenSentences;
  emit(name: string, data: Record<string, unknown>): void;
  failure(f: StageFailure): void;
  /** The turn's audio is queued: the first frame the actor plays closes its timing. */
  timing(t: TurnTiming): void;
  /** Audio was queued on the downlink. */
  audioReady(): void;
}

/** The reply being made: its sentences (ordinals [first, end)) and its message in the history. */
interface Reply {
  first: number;
  end: number;
  message: { role: 'assistant'; content: string } | undefined;
  /** What the model wrote (all of it, spoken or not). */
  text: string;
}

/**
 * The dialogue of one call: the history sent to the model, and the turn in
 * progress — STT, then the LLM's stream cut into sentences, each spoken by the
 * TTS in order as soon as it is complete, its PCM queued on the downlink.
 * `cancel` stops every stream of the turn (barge-in, a new turn, the call's
 * end); `cut` then rewrites the interrupted reply in the history to what the
 * caller heard. Control rate: runs on promises, allocates freely.
 */
export class Conversation {
  readonly history: ChatMessage[];
  readonly toolCalls = new ToolCalls();
  readonly #h: ConversationHost;
  readonly #cfg: PipelineAgentConfig;
  readonly #stages: PipelineStages;
  #turn = new AbortController();
  #reply: Reply | undefined;
  #speaking: Promise<void> = Promise.resolve();
  /** Tool calls of the last reply that still wait for their output. */
  readonly #awaiting = new Set<string>();
  #closed = false;

  constructor(cfg: PipelineAgentConfig, host: ConversationHost) {
    this.#cfg = cfg;
    this.#h = host;
    this.#stages = new PipelineStages(cfg);
    this.history = cfg.llm.instructions === '' ? [] : [{ role: 'system', content: cfg.llm.instructions }];
  }

  /** True from a turn's end until its reply is fully queued (or it failed). */
  busy = false;

  /** The caller's turn ended: transcribe it and answer. */
  startTurn(pcm: Int16Array, endedAt: number): void {
    this.cancel();
    const signal = this.#turn.signal;
    this.busy = true;
    this.#run(signal, () => this.#listen(pcm, endedAt, signal));
  }

  /** Stops the turn in progress (its streams are aborted, nothing more is queued). Returns the interrupted reply's sentence range. */
  cancel(): { first: number; end: number } | undefined {
    this.#turn.abort(new Cancelled('turn cancelled'));
    this.#turn = new AbortController();
    this.busy = false;
    const r = this.#reply;
    this.#reply = undefined;
    if (r === undefined) return undefined;
    // The reply enters the history now (the next turn may be sent before the cut is final).
    if (r.message === undefined && r.end > r.first) {
      r.message = { role: 'assistant', content: '' };
      this.history.push(r.message);
    }
    return r.message === undefined ? undefined : { first: r.first, end: r.end };
  }

  /** After a barge-in: the interrupted reply's message becomes what the caller heard of it. */
  cut(range: { first: number; end: number }): string {
    const heard = this.#h.spoken.heardText(range.first, range.end, this.#h.frameMs);
    const m = this.#lastAssistant();
    if (m !== undefined) m.content = heard;
    return heard;
  }

  /** The application answered a tool call; once all of the reply's calls are answered, the model goes on. */
  toolOutput(callId: string, output: string): void {
    this.toolCalls.answer(callId, output);
    this.history.push({ role: 'tool', tool_call_id: callId, content: output });
    this.#awaiting.delete(callId);
    if (this.#awaiting.size > 0) return;
    this.cancel();
    const signal = this.#turn.signal;
    this.busy = true;
    const timing: TurnTiming = { endedAt: performance.now(), sttMs: -1, llmFirstTokenMs: -1, llmFirstSentenceMs: -1, ttsFirstByteMs: -1, overheadMs: 0 };
    this.#run(signal, () => this.#respond(signal, timing));
  }

  close(): void {
    this.#closed = true;
    this.cancel();
  }

  #run(signal: AbortSignal, f: () => Promise<void>): void {
    f()
      .catch((err: unknown) => {
        if (!(err instanceof Cancelled) && !signal.aborted && !this.#closed) this.#h.emit('pipeline.error', { stage: 'agent', kind: 'internal', message: String(err).slice(0, 300) });
      })
      .finally(() => {
        if (!signal.aborted) this.busy = false;
      });
  }

  #lastAssistant(): { content: string } | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const m = this.history[i]!;
      if (m.role === 'assistant') return m as { content: string };
    }
    return undefined;
  }

  async #listen(pcm: Int16Array, endedAt: number, signal: AbortSignal): Promise<void> {
    const wav = writeWav({ rateHz: this.#h.rateHz, channels: 1, samples: pcm });
    const t = performance.now();
    let overheadMs = 0;
    const text = await withRetry(
      'stt',
      signal,
      this.#cfg.timeoutMs,
      (a) => this.#stages.transcribe(wav, a),
      (f) => this.#h.failure(f),
      (ms) => (overheadMs += ms),
    );
    const timing: TurnTiming = { endedAt, sttMs: performance.now() - t, llmFirstTokenMs: -1, llmFirstSentenceMs: -1, ttsFirstByteMs: -1, overheadMs };
    if (text === undefined) return;
    this.#h.emit('pipeline.transcript', { text, sttMs: Math.round(timing.sttMs) });
    if (text.trim() === '') return;
    this.history.push({ role: 'user', content: text });
    await this.#respond(signal, timing);
  }

  async #respond(signal: AbortSignal, timing: TurnTiming): Promise<void> {
    const reply: Reply = { first: this.#h.spoken.nextOrdinal, end: this.#h.spoken.nextOrdinal, message: undefined, text: '' };
    this.#reply = reply;
    const splitter = new SentenceSplitter();
    const t = performance.now();
    const say = (sentence: string): void => {
      if (timing.llmFirstSentenceMs < 0) timing.llmFirstSentenceMs = performance.now() - t;
      if (reply.end - reply.first >= MAX_REPLY_SENTENCES) throw new OversizeReply(`reply of more than ${MAX_REPLY_SENTENCES} sentences`);
      const ordinal = this.#h.spoken.add(sentence);
      reply.end = ordinal + 1;
      const previous = this.#speaking;
      this.#speaking = previous
        .then(() => this.#speak(sentence, ordinal, signal, timing))
        .catch((err: unknown) => {
          if (!(err instanceof Cancelled)) this.#h.emit('pipeline.error', { stage: 'tts', kind: 'internal', message: String(err).slice(0, 300) });
        });
    };
    const result = await withRetry(
      'llm',
      signal,
      this.#cfg.timeoutMs,
      (a) => {
        splitter.reset();
        reply.text = '';
        return this.#stages.chat(this.history, a, (delta) => {
          if (timing.llmFirstTokenMs < 0) timing.llmFirstTokenMs = performance.now() - t;
          reply.text += delta;
          // Once a sentence is spoken, a retry would say it again: the attempt is committed.
          for (const s of splitter.push(delta)) (a.committed = true), say(s);
        });
      },
      (f) => this.#h.failure(f),
      (ms) => (timing.overheadMs += ms),
    );
    if (signal.aborted) return;
    const rest = splitter.flush();
    if (rest !== undefined) say(rest);
    const calls = result?.toolCalls ?? [];
    if (result !== undefined || reply.end > reply.first) {
      const spokenText = result === undefined ? this.#h.spoken.textOf(reply.first, reply.end) : reply.text;
      const message: ChatMessage =
        calls.length === 0
          ? { role: 'assistant', content: spokenText }
          : { role: 'assistant', content: spokenText === '' ? null : spokenText, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) };
      reply.message = message as Reply['message'];
      this.history.push(message);
    }
    for (const c of calls) {
      this.toolCalls.called(c.id);
      this.#awaiting.add(c.id);
      this.#h.emit('tool.call', { name: c.name, callId: c.id, arguments: c.arguments });
    }
    // The reply stays current while it plays: a barge-in cuts it (`cancel`), the next turn replaces it.
    await this.#speaking;
  }

  async #speak(sentence: string, ordinal: number, signal: AbortSignal, timing: TurnTiming): Promise<void> {
    const { downlink, spoken, frameMs } = this.#h;
    while (!signal.aborted && downlink.queuedFrames * frameMs > TTS_AHEAD_MS) await new Promise((r) => setTimeout(r, TTS_WAIT_MS));
    if (signal.aborted) return;
    const t = performance.now();
    await withRetry(
      'tts',
      signal,
      this.#cfg.timeoutMs,
      (a) =>
        this.#stages.speak(sentence, a, (bytes) => {
          if (signal.aborted) return;
          a.committed = true;
          if (timing.ttsFirstByteMs < 0) {
            timing.ttsFirstByteMs = performance.now() - t;
            this.#h.timing(timing);
          }
          downlink.push(bytes, bytes.length, ordinal);
          spoken.received(ordinal, bytes.length / TTS_BYTES_PER_MS);
          this.#h.audioReady();
        }),
      (f) => this.#h.failure(f),
      // Only the first sentence's speech stands between the turn and its first audio.
      (ms) => {
        if (timing.ttsFirstByteMs < 0) timing.overheadMs += ms;
      },
    );
    if (signal.aborted) return;
    downlink.endItem();
    spoken.ended(ordinal);
  }
}
