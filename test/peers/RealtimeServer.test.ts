import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { within } from '../helpers/poll.ts';
import { RealtimeServer, type RealtimeServerOptions, TLS_CERT } from './RealtimeServer.ts';
import { ulawSpeech } from './speech.ts';

type Ev = Record<string, any>;
/** How long a test waits for the events it expects. */
const EVENTS_MS = 3000;
let server: RealtimeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The real client, pointed at the local server with a dummy key. */
async function open(options: RealtimeServerOptions = {}) {
  server = new RealtimeServer(options);
  await server.listen();
  const client = new OpenAI({ apiKey: 'sk-test-dummy', baseURL: server.baseUrl() });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: TLS_CERT } }, client);
  const events: Array<{ atMs: number; e: Ev }> = [];
  const errors: Ev[] = [];
  rt.on('event', (e) => events.push({ atMs: performance.now(), e: e as Ev }));
  rt.on('error', (err) => errors.push((err as unknown as { error: Ev }).error));
  await new Promise<void>((resolve, reject) => {
    rt.socket.once('open', () => resolve());
    rt.socket.once('error', reject);
  });
  const of = (type: string): Ev[] => events.filter((x) => x.e['type'] === type).map((x) => x.e);
  const usePcmu = async (): Promise<void> => {
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } } });
    await expect.poll(() => of('session.updated').length, within(EVENTS_MS, 'session.updated')).toBe(1);
  };
  const append = (bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i += 160) rt.send({ type: 'input_audio_buffer.append', audio: Buffer.from(bytes.subarray(i, i + 160)).toString('base64') });
  };
  return { rt, events, errors, of, usePcmu, append, server: server };
}

/** 0.8 s of speech then 0.8 s of µ-law silence. */
function turn(): Uint8Array {
  const out = new Uint8Array(12_800).fill(0xff);
  out.set(ulawSpeech('synth-m-8k', 800));
  return out;
}

describe('RealtimeServer through OpenAIRealtimeWS', () => {
  it('creates and updates the session; refuses an update without session.type', async () => {
    const { rt, of, usePcmu, errors } = await open();
    await expect.poll(() => of('session.created').length, within(EVENTS_MS, 'session.created')).toBe(1);
    expect(of('session.created')[0]!['session']).toMatchObject({ type: 'realtime', model: 'gpt-realtime' });
    await usePcmu();
    expect(of('session.updated')[0]!['session'].audio.output.format).toEqual({ type: 'audio/pcmu' });
    rt.send({ type: 'session.update', session: { instructions: 'x' } } as never);
    await expect.poll(() => errors.length, within(EVENTS_MS, 'the error events')).toBe(1);
    expect(errors[0]).toMatchObject({ type: 'invalid_request_error', param: 'session.type' });
    rt.close();
  });

  it('detects a turn with server VAD and answers with streamed audio', async () => {
    const { rt, of, usePcmu, append, server } = await open({ pace: 'burst', reply: { kind: 'tone', hz: 440, ms: 600 } });
    await usePcmu();
    append(turn());
    await expect.poll(() => of('response.done').length, within(EVENTS_MS, 'response.done')).toBe(1);
    const started = of('input_audio_buffer.speech_started')[0]!;
    const stopped = of('input_audio_buffer.speech_stopped')[0]!;
    expect(started['audio_start_ms']).toBeGreaterThanOrEqual(0);
    expect(started['audio_start_ms']).toBeLessThan(300);
    expect(stopped['item_id']).toBe(started['item_id']);
    // Speech ends by 800 ms; stopped after the 500 ms silence duration.
    expect(stopped['audio_end_ms']).toBeGreaterThan(800);
    expect(stopped['audio_end_ms']).toBeLessThanOrEqual(1400);
    expect(of('input_audio_buffer.committed')[0]!['item_id']).toBe(started['item_id']);
    const deltas = of('response.output_audio.delta');
    const bytes = deltas.reduce((n, d) => n + Buffer.from(d['delta'], 'base64').length, 0);
    expect(bytes).toBe(600 * 8);
    expect(of('response.output_audio.done')).toHaveLength(1);
    expect(of('response.done')[0]!['response'].status).toBe('completed');
    expect(server.eventsOf('input_audio_buffer.append').length).toBe(80);
    rt.close();
  });

  it('paces deltas in real time (with a speed-up)', async () => {
    const { rt, events, of } = await open({ reply: { kind: 'tone', hz: 300, ms: 1000 }, speedup: 2 });
    rt.send({ type: 'response.create' });
    await expect.poll(() => of('response.done').length, within(EVENTS_MS, 'response.done')).toBe(1);
    const times = events.filter((x) => x.e['type'] === 'response.output_audio.delta').map((x) => x.atMs);
    expect(times).toHaveLength(10);
    const span = times.at(-1)! - times[0]!;
    expect(span).toBeGreaterThan(450 - 30);
    expect(span).toBeLessThan(450 + 60);
    // PCM 24 kHz by default: 100 ms is 2400 samples of s16le.
    expect(Buffer.from(of('response.output_audio.delta')[0]!['delta'], 'base64').length).toBe(4800);
    rt.close();
  });

  it('truncates within the audio sent and errors beyond it', async () => {
    const { rt, of, errors } = await open({ reply: { kind: 'tone', hz: 300, ms: 2000 }, speedup: 4 });
    rt.send({ type: 'response.create' });
    await expect.poll(() => of('response.output_audio.delta').length, within(EVENTS_MS, 'response.output_audio.delta')).toBeGreaterThanOrEqual(3);
    const itemId = of('response.output_audio.delta')[0]!['item_id'];
    rt.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 1500, event_id: 'evt_late' });
    await expect.poll(() => errors.length, within(EVENTS_MS, 'the error events')).toBe(1);
    expect(errors[0]).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'audio_end_ms', event_id: 'evt_late' });
    expect(errors[0]!['message']).toMatch(/already shorter than 1500ms/);
    rt.send({ type: 'response.cancel' });
    await expect.poll(() => of('response.done').length, within(EVENTS_MS, 'response.done')).toBe(1);
    expect(of('response.done')[0]!['response']).toMatchObject({ status: 'cancelled', status_details: { reason: 'client_cancelled' } });
    const sentMs = of('response.output_audio.delta').length * 100;
    rt.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: sentMs + 1 });
    rt.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: sentMs });
    await expect.poll(() => of('conversation.item.truncated').length, within(EVENTS_MS, 'conversation.item.truncated')).toBe(1);
    expect(errors).toHaveLength(2);
    expect(of('conversation.item.truncated')[0]).toMatchObject({ item_id: itemId, content_index: 0, audio_end_ms: sentMs });
    rt.send({ type: 'conversation.item.truncate', item_id: 'item_nope', content_index: 0, audio_end_ms: 0 });
    rt.send({ type: 'response.cancel' });
    await expect.poll(() => errors.length, within(EVENTS_MS, 'the error events')).toBe(4);
    expect(errors.slice(2).map((e) => e['code'])).toEqual(['item_not_found', 'response_cancel_not_active']);
    rt.close();
  });

  it('cancels the response when the caller barges in', async () => {
    const { rt, of, usePcmu, append } = await open({ reply: { kind: 'tone', hz: 300, ms: 3000 }, speedup: 2 });
    await usePcmu();
    rt.send({ type: 'response.create' });
    await expect.poll(() => of('response.output_audio.delta').length, within(EVENTS_MS, 'response.output_audio.delta')).toBeGreaterThanOrEqual(2);
    append(turn().subarray(0, 4000));
    await expect.poll(() => of('response.done').length, within(EVENTS_MS, 'response.done')).toBe(1);
    expect(of('input_audio_buffer.speech_started')).toHaveLength(1);
    expect(of('response.done')[0]!['response']).toMatchObject({ status: 'cancelled', status_details: { reason: 'turn_detected' } });
    rt.close();
  });

  it('emits the configured function call as the first response', async () => {
    const { rt, of } = await open({ tool: { name: 'transfer_call', arguments: '{"to":"sales"}' } });
    rt.send({ type: 'response.create' });
    await expect.poll(() => of('response.done').length, within(EVENTS_MS, 'response.done')).toBe(1);
    const done = of('response.function_call_arguments.done')[0]!;
    expect(done).toMatchObject({ name: 'transfer_call', arguments: '{"to":"sales"}' });
    expect(typeof done['call_id']).toBe('string');
    rt.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: done['call_id'], output: '{"ok":true}' } });
    await expect.poll(() => of('conversation.item.done').length, within(EVENTS_MS, 'conversation.item.done')).toBeGreaterThanOrEqual(2);
    rt.close();
  });

  it('answers malformed and unknown events with error events and stays open', async () => {
    const { rt, of, errors } = await open();
    rt.socket.send('{not json');
    rt.send({ type: 'no.such.event' } as never);
    rt.send({ type: 'input_audio_buffer.append', audio: '%%%' });
    await expect.poll(() => errors.length, within(EVENTS_MS, 'the error events')).toBe(3);
    expect(errors.map((e) => e['code'])).toEqual(['invalid_json', 'invalid_value', 'invalid_value']);
    rt.send({ type: 'response.create' });
    await expect.poll(() => of('response.created').length, within(EVENTS_MS, 'response.created')).toBe(1);
    rt.close();
  });

  it('refuses a connection without a key or a model', async () => {
    server = new RealtimeServer();
    const port = await server.listen();
    const status = (path: string, headers: Record<string, string>): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca: TLS_CERT, headers });
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode!));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await status('/v1/realtime?model=m', {})).toBe(401);
    expect(await status('/v1/realtime', { authorization: 'Bearer k' })).toBe(400);
    expect(await status('/v1/other?model=m', { authorization: 'Bearer k' })).toBe(404);
    expect(await status('/v1/realtime?model=m', { authorization: 'Bearer k' })).toBe(101);
  });
});
