import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { ActorCommand, ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { BASE64_TOO_LARGE, base64Decode, base64Encode } from '../../wire/base64.ts';
import { commandRefused, type ActorContext, type HostedActor } from '../Actor.ts';
import { AGENT_STATS } from './kind.ts';
import { Heard, HeardTracker } from './HeardTracker.ts';
import { ToolCalls } from './ToolCalls.ts';
import { parseOpenAIAgentConfig } from './OpenAIAgentConfig.ts';
import { bytesPerMs, Downlink, Uplink } from './RealtimeAudio.ts';
import { RealtimeItems } from './RealtimeItems.ts';
import { isKnownServerEvent } from './realtimeEvents.ts';

/**
 * The `openai` agent: one OpenAI Realtime session (GA protocol) per call,
 * through the `openai` package's `OpenAIRealtimeWS`.
 * @see https://platform.openai.com/docs/api-reference/realtime-client-events
 * @see https://platform.openai.com/docs/guides/realtime-conversations (interruption and truncation)
 *
 * The caller's frames go up as `input_audio_buffer.append`; the server's VAD
 * finds the turns and answers; `response.output_audio.delta` audio is decoded
 * into a queue and played one frame per tick, so the leg's own queue stays
 * short and a barge-in has little to throw away. Barge-in follows the
 * protocol in kind.ts: on `speech_started` over queued or unheard audio the
 * agent writes CLEAR, drops the interrupted audio, waits for the leg's final
 * heard count and truncates the item there — counted in the item's own audio
 * frames, never from wall-clock time.
 *
 * The server cancels the response itself on `speech_started` (we set
 * `interrupt_response`); the agent sends `response.cancel` only if that
 * response is still running when it truncates, and takes the API's
 * `response_cancel_not_active` answer to a cancel that crossed the server's
 * own as the no-op it is. A lost session is re-opened (see `connect`).
 */

/** Frames per `input_audio_buffer.append`: 40 ms halves the messages (and base64/JSON work) of one per frame, and adds at most one frame to the server VAD's latency, which truncation does not depend on. */
export const APPEND_FRAMES = 2;
/** Caller audio kept while the socket is not open yet (or stalls). */
export const UPLINK_BUFFER_MS = 2000;
/** Agent audio the queue holds: the API sends faster than real time. */
export const PLAYOUT_QUEUE_MS = 60_000;
/** The largest delta decoded (bytes); larger ones are counted as bad. 10 s of 24 kHz PCM. */
const MAX_DELTA_BYTES = 480_000;
/** Errors logged one by one before the log thins out to one in LOG_EVERY. */
const LOG_FIRST = 10;
const LOG_EVERY = 100;
export const RECONNECT_ATTEMPTS = 5;
/** A session up this long ends its outage: the next loss starts counting attempts again. */
export const RECONNECT_STABLE_MS = 30_000;

const STAT = Object.fromEntries(AGENT_STATS.map((n, i) => [n, i])) as Record<(typeof AGENT_STATS)[number], number>;

type Json = Record<string, unknown>;

export function createOpenAIAgent(ctx: ActorContext, config: ActorConfig): HostedActor {
  const cfg = parseOpenAIAgentConfig(config);
  const input = ctx.rings['in'];
  const output = ctx.rings['out'];
  if (input === undefined || output === undefined) throw new RangeError('agent openai: needs in and out rings');
  const { rateHz, format } = cfg;
  const tickMs = ctx.tickMs;
  const spf = (rateHz * tickMs) / 1000;
  const stats = ctx.stats;
  stats[STAT.rateHz] = rateHz;
  const log = ctx.log;

  const frame = new Int16Array(spf);
  const silence = new Int16Array(spf);
  const meta = new FrameMeta();
  const uplink = new Uplink(format, rateHz, tickMs, UPLINK_BUFFER_MS / tickMs);
  const downlink = new Downlink(format, rateHz, tickMs, PLAYOUT_QUEUE_MS / tickMs);
  const appendBytes = new Uint8Array(APPEND_FRAMES * uplink.bytesPerFrame);
  let deltaBytes = new Uint8Array(64 * 1024);
  const items = new RealtimeItems();
  const heard = new HeardTracker(ctx.rings['heard'], (from, to) => items.heardFrames(from, to));

  let outSeq = 0;
  /** Sequence of the last agent-audio frame written, -1 before any. */
  let lastAudioSeq = -1;
  let open = false;
  let closing = false;
  /** The response in progress (response.created … response.done). */
  let activeResponse: string | undefined;
  // A barge-in waiting for its heard count, and then for the sender.
  let cutOrdinal = -1;
  let cutResponse: string | undefined;
  let truncateReady = false;
  let cancelSentAt = -Infinity;
  let errorsLogged = 0;

  const client = new OpenAI({ apiKey: cfg.apiKey, baseURL: cfg.baseUrl });

  const report = (kind: string, data: Json): void => {
    stats[STAT.errors]++;
    const n = stats[STAT.errors]!;
    if (errorsLogged < LOG_FIRST || n % LOG_EVERY === 0) {
      errorsLogged++;
      log.warn({ kind, ...data, errors: n }, 'openai agent error');
    }
    ctx.emit('openai.error', { kind, ...data });
  };

  const send = (event: Json): void => {
    if (open) rt.send(event as never);
  };
  const toolCalls = new ToolCalls();

  const sessionUpdate = (): Json => {
    const audioFormat = format === 'pcmu' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 24000 };
    return {
      type: 'session.update',
      session: {
        type: 'realtime',
        output_modalities: ['audio'],
        instructions: cfg.instructions,
        tools: cfg.tools,
        audio: {
          input: {
            format: audioFormat,
            turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
          },
          output: { format: audioFormat, voice: cfg.voice },
        },
      },
    };
  };

  /** The sender: truncation after a barge-in, then the caller's audio in whole batches. */
  const pump = (): void => {
    if (!open) return;
    if (truncateReady) {
      truncateReady = false;
      if (cutResponse !== undefined && cutResponse === activeResponse) {
        cancelSentAt = performance.now();
        send({ type: 'response.cancel' });
      }
      const itemId = cutOrdinal >= sessionFirstOrdinal ? items.idOf(cutOrdinal) : undefined;
      if (itemId !== undefined) {
        const audioEndMs = Math.floor(Math.min(items.heardOf(cutOrdinal) * tickMs, items.receivedBytesOf(cutOrdinal) / bytesPerMs(format)));
        send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
        stats[STAT.truncates]++;
        stats[STAT.lastTruncateMs] = audioEndMs;
      }
      cutOrdinal = -1;
    }
    for (;;) {
      const n = uplink.take(appendBytes, APPEND_FRAMES);
      if (n === 0) break;
      send({ type: 'input_audio_buffer.append', audio: base64Encode(appendBytes, n) });
      stats[STAT.appendsSent]++;
    }
  };
  const pumpTimer = setInterval(pump, tickMs);

  /** The caller started speaking (server VAD). */
  const bargeIn = (): void => {
    const unheard = lastAudioSeq >= heard.heard;
    if (!unheard && downlink.queuedFrames === 0 && !downlink.holdsPartial) return;
    // The item to truncate: the one the caller is hearing, else the one queued to play next.
    const ordinal = unheard ? items.ordinalAt(lastAudioSeq) : downlink.headOrdinal();
    stats[STAT.bargeIns]++;
    items.interruptAll();
    downlink.clear();
    // CLEAR takes the next sequence number without using it up: the next audio frame reuses it.
    if (output.write(silence, 0, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, FrameFlags.CLEAR)) stats[STAT.framesOut]++;
    else stats[STAT.outOverflows]++;
    // A previous barge-in not yet truncated (still waiting for its heard
    // count, or for the sender) is truncated now, with the count so far.
    heard.clear(outSeq, performance.now());
    if (cutOrdinal >= 0) {
      truncateReady = true;
      pump();
      truncateReady = false;
    }
    cutOrdinal = ordinal;
    cutResponse = activeResponse;
  };

  const onDelta = (e: Json): void => {
    stats[STAT.deltasIn]++;
    const itemId = e['item_id'];
    const delta = e['delta'];
    if (typeof itemId !== 'string' || typeof delta !== 'string') {
      stats[STAT.badEvents]++;
      return;
    }
    if (items.isInterrupted(itemId)) return;
    let n = base64Decode(delta, deltaBytes);
    if (n === BASE64_TOO_LARGE && delta.length <= (MAX_DELTA_BYTES / 3) * 4) {
      deltaBytes = new Uint8Array(MAX_DELTA_BYTES);
      n = base64Decode(delta, deltaBytes);
    }
    if (n < 0) {
      stats[STAT.badEvents]++;
      return;
    }
    const ordinal = items.receive(itemId, n);
    downlink.push(deltaBytes, n, ordinal);
    stats[STAT.audioMsIn] += n / bytesPerMs(format);
    stats[STAT.queueOverflows] = downlink.overflows;
  };

  const onEvent = (e: Json): void => {
    const type = e['type'];
    switch (type) {
      case 'response.output_audio.delta':
        return onDelta(e);
      case 'input_audio_buffer.speech_started':
        return bargeIn();
      case 'response.created':
        activeResponse = String((e['response'] as Json | undefined)?.['id']);
        return;
      case 'response.output_audio.done':
        if (typeof e['item_id'] === 'string' && !items.isInterrupted(e['item_id'])) downlink.endItem();
        items.endReceiving();
        return;
      case 'response.done':
        if (String((e['response'] as Json | undefined)?.['id']) === activeResponse) activeResponse = undefined;
        downlink.endItem();
        items.endReceiving();
        return;
      case 'response.function_call_arguments.done':
        stats[STAT.toolCalls]++;
        if (typeof e['call_id'] === 'string') toolCalls.called(e['call_id']);
        ctx.emit('tool.call', { name: e['name'], callId: e['call_id'], arguments: e['arguments'] });
        return;
      case 'error':
        return; // the 'error' listener has it
      default:
        if (typeof type !== 'string' || !isKnownServerEvent(type)) stats[STAT.unknownEvents]++;
    }
  };

  /**
   * One Realtime connection. A session lost mid-call (the socket closed or
   * never opened, not by us) is re-opened after reconnectBaseMs, doubling,
   * at most RECONNECT_ATTEMPTS times per outage (an outage ends once a
   * session has stayed up RECONNECT_STABLE_MS). The new session gets the same
   * session.update; it knows nothing of the old one's items, so a barge-in
   * still waiting to truncate an old item is dropped, and the old reply's
   * audio already queued here plays out (it was received whole or in part;
   * cutting it would be a second interruption the caller did not make).
   * Caller audio during the outage: the last UPLINK_BUFFER_MS are kept and
   * sent on the new session, older audio is dropped (counted).
   */
  const connect = (): void => {
    const conn = new OpenAIRealtimeWS({ model: cfg.model, options: cfg.ca === undefined ? {} : { ca: cfg.ca } }, client);
    rt = conn;
    let failed = false;
    conn.on('event', (e) => {
      if (conn === rt) onEvent(e as unknown as Json);
    });
    conn.on('error', (err) => {
      if (conn !== rt) return;
      const server = err.error;
      if (server !== undefined) {
        // A cancel that crossed the server's own (interrupt_response) finds nothing to cancel: not a fault.
        if (server.code === 'response_cancel_not_active' && performance.now() - cancelSentAt < 5000) return;
        report('server', { type: server.type, code: server.code ?? null, message: server.message, param: server.param ?? null });
      } else if (err.message.startsWith('could not parse')) {
        stats[STAT.badEvents]++;
      } else if (!closing) {
        if (!open) failed = true;
        // One report per outage, not one per attempt.
        if (attempts === 0) report('connection', { message: err.message });
      }
    });
    conn.socket.on('open', () => {
      if (conn !== rt || closing) return;
      open = true;
      openedAt = performance.now();
      stats[STAT.openaiConnected] = 1;
      if (attempts > 0) {
        stats[STAT.reconnects]++;
        ctx.emit('openai.reconnected', { attempts });
        sessionFirstOrdinal = items.nextOrdinal;
      }
      conn.send(sessionUpdate() as never);
      pump();
    });
    conn.socket.on('close', (code: number, reason: Buffer) => {
      if (conn !== rt) return;
      const wasOpen = open;
      open = false;
      stats[STAT.openaiConnected] = 0;
      if (closing) return;
      // A connection that never opened was reported as its error already.
      if (wasOpen || (!failed && attempts === 0)) report('closed', { code, reason: reason.toString().slice(0, 200), wasOpen });
      activeResponse = undefined;
      items.endReceiving();
      if (wasOpen && performance.now() - openedAt >= RECONNECT_STABLE_MS) attempts = 0;
      if (attempts >= RECONNECT_ATTEMPTS) {
        report('gave-up', { attempts, message: 'the Realtime session could not be re-opened; the call goes on in silence' });
        return;
      }
      const delay = cfg.reconnectBaseMs * 2 ** attempts;
      attempts++;
      reconnectTimer = setTimeout(connect, delay);
    });
  };
  let rt!: OpenAIRealtimeWS;
  let attempts = 0;
  let openedAt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** Items from before the last reconnect belong to a session that is gone: never truncated. */
  let sessionFirstOrdinal = 0;
  connect();

  return {
    tick(): number {
      let frames = 0;
      while (input.available() > 0 && input.read(frame, meta)) {
        frames++;
        stats[STAT.framesIn]++;
        if (meta.sampleCount !== spf || meta.rateHz !== rateHz) stats[STAT.wrongSizeFrames]++;
        else uplink.push(frame);
      }
      stats[STAT.inputDroppedFrames] = uplink.dropped;

      const h = heard.poll(performance.now());
      if (h !== Heard.NONE && cutOrdinal >= 0) {
        if (h === Heard.TIMED_OUT) stats[STAT.heardTimeouts]++;
        truncateReady = true;
      }

      const ordinal = downlink.pop(frame);
      if (ordinal >= 0) {
        items.played(outSeq, ordinal);
        lastAudioSeq = outSeq;
        send1(frame, FrameFlags.SPEECH);
      } else {
        items.played(outSeq, -1);
        if (items.streaming()) stats[STAT.underrunFrames]++;
        send1(silence, FrameFlags.SILENCE);
      }
      return frames + 1;
    },
    /**
     * `toolOutput`: the application's answer to a tool call; the model gets it
     * as a function_call_output item and responds. The agent takes no other command.
     */
    command(c: ActorCommand): void {
      if (c.type !== 'toolOutput') throw commandRefused('agent', c);
      if (!open) throw new RangeError('openai: the Realtime session is not connected');
      const { callId, output } = c;
      toolCalls.answer(callId, output);
      send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
      send({ type: 'response.create' });
      stats[STAT.toolOutputs]++;
      ctx.emit('tool.output', { callId });
    },
    close(): void {
      closing = true;
      clearInterval(pumpTimer);
      clearTimeout(reconnectTimer);
      rt.close();
      uplink.destroy();
      downlink.destroy();
    },
  };

  function send1(samples: Int16Array, flags: number): void {
    if (output.write(samples, spf, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, flags)) stats[STAT.framesOut]++;
    else stats[STAT.outOverflows]++;
    outSeq++;
  }
}
