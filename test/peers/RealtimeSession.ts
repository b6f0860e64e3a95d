/**
 * One connection to the local Realtime API stand-in (see RealtimeServer.ts):
 * the session configuration, the input audio buffer with its energy VAD, the
 * conversation items with the audio sent for each, and the response streamer.
 */
import type { WebSocket } from 'ws';
import { ulawDecodeSample, ulawEncodeSample } from './g711.ts';
import type { RealtimeServer, Reply } from './RealtimeServer.ts';

type Json = Record<string, unknown>;
interface Format {
  type: 'audio/pcm' | 'audio/pcmu';
  rate?: number;
}
interface Item {
  id: string;
  role: 'user' | 'assistant' | 'tool';
  audioMsSent: number;
}

const FRAME_MS = 10;
const bytesPerMs = (f: Format): number => (f.type === 'audio/pcmu' ? 8 : 48);

/** The tone or clip in the output format: µ-law at 8 kHz or s16le at 24 kHz. */
function renderReply(reply: Reply, format: Format): Buffer {
  const pcm24 =
    reply.kind === 'clip'
      ? reply.pcm24k
      : Int16Array.from({ length: reply.ms * 24 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * reply.hz * i) / 24000)));
  if (format.type === 'audio/pcm') return Buffer.from(pcm24.buffer, pcm24.byteOffset, pcm24.byteLength);
  const out = Buffer.alloc(Math.floor(pcm24.length / 3));
  for (let i = 0; i < out.length; i++) out[i] = ulawEncodeSample(Math.round((pcm24[3 * i]! + pcm24[3 * i + 1]! + pcm24[3 * i + 2]!) / 3));
  return out;
}

export class Session {
  readonly #server: RealtimeServer;
  readonly #ws: WebSocket;
  readonly #n: number;
  #session: Json;
  readonly #items = new Map<string, Item>();
  #lastItem: string | null = null;
  #responses = 0;
  /** The response being streamed and how to stop it. */
  #active: { id: string; cancel: (reason: string) => void } | undefined;
  // Input audio and VAD state, in ms of audio appended since the session began.
  #inputMs = 0;
  #bufferStartMs = 0;
  #frame: number[] = [];
  #speechRun = 0;
  #silenceRun = 0;
  #speechItem: string | undefined;

  constructor(server: RealtimeServer, ws: WebSocket, n: number, model: string) {
    this.#server = server;
    this.#ws = ws;
    this.#n = n;
    this.#session = {
      type: 'realtime',
      object: 'realtime.session',
      id: server.id('sess'),
      model,
      output_modalities: ['audio'],
      instructions: '',
      tools: [],
      tool_choice: 'auto',
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
      },
    };
    ws.on('message', (data, isBinary) => this.#onMessage(isBinary ? null : data.toString()));
    ws.on('close', () => this.#active?.cancel('client_cancelled'));
    this.#emit({ type: 'session.created', session: this.#session });
  }

  #emit(event: Json): void {
    const full = { event_id: this.#server.id('event'), ...event };
    this.#server.sent.push({ atMs: this.#server.nowMs(), session: this.#n, event: full });
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(full));
  }
  #error(message: string, clientEventId: unknown, code: string | null, param: string | null = null): void {
    this.#emit({
      type: 'error',
      error: { type: 'invalid_request_error', code, message, param, event_id: typeof clientEventId === 'string' ? clientEventId : null },
    });
  }
  #audio(dir: 'input' | 'output'): Json {
    return (this.#session['audio'] as Json)[dir] as Json;
  }

  #onMessage(text: string | null): void {
    let event: Json;
    try {
      const v: unknown = JSON.parse(text ?? '');
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      event = v as Json;
    } catch {
      return this.#error("We could not parse the JSON body of your request. Expected a JSON object.", null, 'invalid_json');
    }
    this.#server.received.push({ atMs: this.#server.nowMs(), session: this.#n, event });
    const id = event['event_id'];
    switch (event['type']) {
      case 'session.update': {
        const s = event['session'] as Json | undefined;
        if (s?.['type'] !== 'realtime') return this.#error("Missing required parameter: 'session.type'.", id, 'missing_required_parameter', 'session.type');
        const audio = (s['audio'] ?? {}) as Json;
        const merged = { ...this.#session, ...s, audio: {
          input: { ...this.#audio('input'), ...((audio['input'] ?? {}) as Json) },
          output: { ...this.#audio('output'), ...((audio['output'] ?? {}) as Json) },
        } };
        for (const dir of ['input', 'output'] as const) {
          const f = ((merged.audio[dir] as Json)['format'] ?? {}) as Format;
          if (f.type !== 'audio/pcmu' && !(f.type === 'audio/pcm' && (f.rate ?? 24000) === 24000)) {
            return this.#error(`Invalid audio format for ${dir}.`, id, 'invalid_value', `session.audio.${dir}.format`);
          }
        }
        this.#session = merged;
        return this.#emit({ type: 'session.updated', session: this.#session });
      }
      case 'input_audio_buffer.append': {
        const audio = event['audio'];
        if (typeof audio !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(audio)) return this.#error('Invalid base64 audio.', id, 'invalid_value', 'audio');
        return this.#append(Buffer.from(audio, 'base64'));
      }
      case 'input_audio_buffer.commit':
        if (this.#inputMs - this.#bufferStartMs < 100) {
          return this.#error(`Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${(this.#inputMs - this.#bufferStartMs).toFixed(2)}ms of audio.`, id, 'input_audio_buffer_commit_empty');
        }
        this.#commit(this.#server.id('item'));
        return;
      case 'input_audio_buffer.clear':
        this.#bufferStartMs = this.#inputMs;
        this.#speechItem = undefined;
        return this.#emit({ type: 'input_audio_buffer.cleared' });
      case 'response.create':
        if (this.#active !== undefined) return this.#error(`Conversation already has an active response in progress: ${this.#active.id}.`, id, 'conversation_already_has_active_response');
        return this.#respond();
      case 'response.cancel':
        if (this.#active === undefined) return this.#error('Cancellation failed: no active response found', id, 'response_cancel_not_active');
        return this.#active.cancel('client_cancelled');
      case 'conversation.item.truncate': {
        const itemId = event['item_id'];
        const endMs = event['audio_end_ms'];
        const item = typeof itemId === 'string' ? this.#items.get(itemId) : undefined;
        if (item === undefined) return this.#error(`Item with item_id not found: ${String(itemId)}`, id, 'item_not_found', 'item_id');
        if (item.role !== 'assistant') return this.#error('Only assistant messages can be truncated.', id, 'invalid_value', 'item_id');
        if (event['content_index'] !== 0) return this.#error('Invalid content_index.', id, 'invalid_value', 'content_index');
        if (typeof endMs !== 'number' || !Number.isInteger(endMs) || endMs < 0) return this.#error('Invalid audio_end_ms.', id, 'invalid_value', 'audio_end_ms');
        if (endMs > item.audioMsSent) {
          return this.#error(`Audio content of ${item.audioMsSent}ms is already shorter than ${endMs}ms`, id, 'invalid_value', 'audio_end_ms');
        }
        item.audioMsSent = endMs;
        return this.#emit({ type: 'conversation.item.truncated', item_id: item.id, content_index: 0, audio_end_ms: endMs });
      }
      case 'conversation.item.create': {
        const item = (event['item'] ?? {}) as Json;
        const itemId = typeof item['id'] === 'string' ? item['id'] : this.#server.id('item');
        this.#items.set(itemId, { id: itemId, role: item['type'] === 'function_call_output' ? 'tool' : 'user', audioMsSent: 0 });
        const full = { ...item, id: itemId, object: 'realtime.item', status: 'completed' };
        this.#emit({ type: 'conversation.item.added', previous_item_id: this.#lastItem, item: full });
        this.#lastItem = itemId;
        return this.#emit({ type: 'conversation.item.done', previous_item_id: null, item: full });
      }
      default:
        return this.#error(`Invalid value: '${String(event['type']).slice(0, 60)}'. Supported values are client events.`, id, 'invalid_value', 'type');
    }
  }

  /** Appends input audio and runs the energy VAD over it in 10 ms frames. */
  #append(bytes: Buffer): void {
    const input = this.#audio('input');
    const format = input['format'] as Format;
    const samples: number[] = [];
    if (format.type === 'audio/pcmu') for (const b of bytes) samples.push(ulawDecodeSample(b));
    else for (let i = 0; i + 1 < bytes.length; i += 2) samples.push(bytes.readInt16LE(i));
    const perFrame = format.type === 'audio/pcmu' ? 80 : 240;
    const td = input['turn_detection'] as Json | null;
    for (const s of samples) {
      this.#frame.push(s);
      if (this.#frame.length < perFrame) continue;
      let energy = 0;
      for (const x of this.#frame) energy += x * x;
      this.#frame.length = 0;
      this.#inputMs += FRAME_MS;
      if (td === null || td === undefined) continue;
      const dbfs = 10 * Math.log10(energy / perFrame / (32768 * 32768) + 1e-12);
      this.#vadFrame(dbfs > this.#server.options.vadThresholdDbfs, td);
    }
  }

  #vadFrame(speech: boolean, td: Json): void {
    const o = this.#server.options;
    if (this.#speechItem === undefined) {
      this.#speechRun = speech ? this.#speechRun + FRAME_MS : 0;
      if (this.#speechRun < o.vadMinSpeechMs) return;
      this.#speechItem = this.#server.id('item');
      this.#silenceRun = 0;
      const startMs = Math.max(this.#bufferStartMs, this.#inputMs - this.#speechRun - Number(td['prefix_padding_ms'] ?? 300));
      this.#emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: startMs, item_id: this.#speechItem });
      if (td['interrupt_response'] !== false) this.#active?.cancel('turn_detected');
      return;
    }
    this.#silenceRun = speech ? 0 : this.#silenceRun + FRAME_MS;
    if (this.#silenceRun < Number(td['silence_duration_ms'] ?? 500)) return;
    const itemId = this.#speechItem;
    this.#speechItem = undefined;
    this.#speechRun = 0;
    this.#emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: this.#inputMs, item_id: itemId });
    this.#commit(itemId);
    if (td['create_response'] !== false && this.#active === undefined) this.#respond();
  }

  #commit(itemId: string): void {
    this.#emit({ type: 'input_audio_buffer.committed', previous_item_id: this.#lastItem, item_id: itemId });
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] };
    this.#items.set(itemId, { id: itemId, role: 'user', audioMsSent: 0 });
    this.#emit({ type: 'conversation.item.added', previous_item_id: this.#lastItem, item });
    this.#lastItem = itemId;
    this.#emit({ type: 'conversation.item.done', previous_item_id: null, item });
    this.#bufferStartMs = this.#inputMs;
  }

  #respond(): void {
    const o = this.#server.options;
    const responseId = this.#server.id('resp');
    const format = this.#audio('output')['format'] as Format;
    const base = { object: 'realtime.response', id: responseId, conversation_id: 'conv_1', output_modalities: ['audio'], audio: { output: { format, voice: this.#audio('output')['voice'] } }, usage: null, metadata: null };
    this.#emit({ type: 'response.created', response: { ...base, status: 'in_progress', output: [] } });
    const first = this.#responses++ === 0;
    if (first && o.tool !== undefined) return this.#functionCall(base, responseId, o.tool);

    const itemId = this.#server.id('item');
    const item: Item = { id: itemId, role: 'assistant', audioMsSent: 0 };
    this.#items.set(itemId, item);
    const ref = { response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
    const msg = (status: string): Json => ({ id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', status, content: [{ type: 'output_audio', transcript: '' }] });
    this.#emit({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: { ...msg('in_progress'), content: [] } });
    this.#emit({ type: 'conversation.item.added', previous_item_id: this.#lastItem, item: { ...msg('in_progress'), content: [] } });
    this.#lastItem = itemId;
    this.#emit({ type: 'response.content_part.added', ...ref, part: { type: 'audio', transcript: '' } });

    const audio = renderReply(o.reply, format);
    const step = o.deltaMs * bytesPerMs(format);
    const started = performance.now();
    let at = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (status: 'completed' | 'cancelled', reason?: string): void => {
      if (timer !== undefined) clearTimeout(timer);
      this.#active = undefined;
      this.#emit({ type: 'response.output_audio.done', ...ref });
      this.#emit({ type: 'response.output_audio_transcript.done', ...ref, transcript: '' });
      this.#emit({ type: 'response.content_part.done', ...ref, part: { type: 'audio', transcript: '' } });
      const itemStatus = status === 'completed' ? 'completed' : 'incomplete';
      this.#emit({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: msg(itemStatus) });
      this.#emit({ type: 'conversation.item.done', previous_item_id: null, item: msg(itemStatus) });
      this.#emit({
        type: 'response.done',
        response: { ...base, status, status_details: reason === undefined ? null : { type: 'cancelled', reason }, output: [msg(itemStatus)] },
      });
    };
    const sendNext = (): void => {
      const chunk = audio.subarray(at, at + step);
      at += chunk.length;
      item.audioMsSent += chunk.length / bytesPerMs(format);
      this.#emit({ type: 'response.output_audio.delta', ...ref, delta: chunk.toString('base64') });
      if (at >= audio.length) return finish('completed');
      const n = at / step;
      const wait = o.pace === 'burst' ? 0 : started + (n * o.deltaMs) / o.speedup - performance.now();
      timer = setTimeout(sendNext, Math.max(0, wait));
    };
    this.#active = { id: responseId, cancel: (reason) => finish('cancelled', reason) };
    timer = setTimeout(sendNext, 0);
  }

  #functionCall(base: Json, responseId: string, tool: { name: string; arguments: string }): void {
    const itemId = this.#server.id('item');
    const callId = this.#server.id('call');
    this.#items.set(itemId, { id: itemId, role: 'assistant', audioMsSent: 0 });
    const item = (status: string, args: string): Json => ({ id: itemId, object: 'realtime.item', type: 'function_call', status, name: tool.name, call_id: callId, arguments: args });
    this.#emit({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: item('in_progress', '') });
    this.#emit({ type: 'conversation.item.added', previous_item_id: this.#lastItem, item: item('in_progress', '') });
    this.#lastItem = itemId;
    const ref = { response_id: responseId, item_id: itemId, output_index: 0, call_id: callId };
    this.#emit({ type: 'response.function_call_arguments.delta', ...ref, delta: tool.arguments });
    this.#emit({ type: 'response.function_call_arguments.done', ...ref, name: tool.name, arguments: tool.arguments });
    this.#emit({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: item('completed', tool.arguments) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: null, item: item('completed', tool.arguments) });
    this.#emit({ type: 'response.done', response: { ...base, status: 'completed', status_details: null, output: [item('completed', tool.arguments)] } });
  }
}
