import { afterEach, describe, expect, it } from 'vitest';
import { ulawEncode } from '../../src/dsp/g711.ts';
import { speech } from '../helpers/fixtures.ts';
import { within } from '../helpers/poll.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';
import { RealtimeServer, TLS_CERT } from '../peers/RealtimeServer.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';

/**
 * A phone call answered by the OpenAI Realtime agent, end to end: the
 * Twilio Media Streams peer → the daemon → the `openai` agent on its worker
 * → the local Realtime server (TLS, the real `openai` client), and back.
 * The caller talks over the reply; the truncation the server receives must be
 * within 20 ms of the audio the Twilio peer really played.
 */
let rt: TwilioRuntime | undefined;
let server: RealtimeServer | undefined;
let peer: TwilioClient | undefined;
afterEach(async () => {
  peer?.abort();
  peer = undefined;
  await rt?.stop();
  rt = undefined;
  await server?.close();
  server = undefined;
});

/** µ-law caller audio: speech at [0.2 s, 1.4 s) and again from `bargeAtMs`, silence elsewhere. */
function caller(totalMs: number, bargeAtMs: number): Uint8Array {
  const { samples } = speech('synth-m-8k');
  const pcm = new Int16Array(totalMs * 8);
  pcm.set(samples.subarray(0, 1200 * 8), 200 * 8);
  pcm.set(samples.subarray(0, 1200 * 8), bargeAtMs * 8);
  const out = new Uint8Array(pcm.length);
  ulawEncode(pcm, out);
  return out;
}

describe('a Twilio call answered by the openai agent', () => {
  it('streams µ-law both ways, plays the reply, and truncates at what the caller heard when interrupted', async () => {
    server = new RealtimeServer({ pace: 'realtime', reply: { kind: 'tone', hz: 300, ms: 4000 } });
    await server.listen();
    rt = await startTwilioRuntime({
      agents: {
        openai: { baseUrl: server.baseUrl(), apiKey: 'sk-test', model: 'gpt-realtime', voice: 'marin', instructions: 'Be brief.', ca: TLS_CERT.toString() },
      },
    });
    peer = new TwilioClient({ url: rt.mediaUrl, audio: caller(6000, 3600), afterAudio: 'silence', customParameters: { agent: 'openai' } });
    await peer.connect();
    const p = peer;
    const srv = server;
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the call')).toBe(1);
    expect(rt.sup.listCalls()[0]!['agent']).toBe('openai');
    await expect.poll(() => srv.eventsOf('conversation.item.truncate').length, within(10_000, 'the truncate')).toBe(1);

    // µ-law passthrough: the session was set to audio/pcmu both ways.
    const update = srv.eventsOf('session.update')[0]!['session'] as { audio: { input: { format: { type: string } }; output: { format: { type: string } } } };
    expect(update.audio.input.format.type).toBe('audio/pcmu');
    expect(update.audio.output.format.type).toBe('audio/pcmu');
    expect(srv.eventsOf('input_audio_buffer.append').length).toBeGreaterThan(20);

    // The reply reached the caller, and Twilio was told to clear it at the barge-in.
    await expect.poll(() => p.clears.length, within(2000, 'the clear')).toBe(1);
    const heardMs = p.clears[0]!.heardMs;
    expect(heardMs).toBeGreaterThan(300);
    const endMs = srv.eventsOf('conversation.item.truncate')[0]!['audio_end_ms'] as number;
    expect(Math.abs(endMs - heardMs), `audio_end_ms ${endMs}, heard ${heardMs}`).toBeLessThanOrEqual(20);
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.sentOf('error')).toEqual([]);
    expect(srv.sentOf('conversation.item.truncated')).toHaveLength(1);
    expect(p.warnings).toEqual([]);
  }, 20_000);

  it("the model's tool calls show as events on the call", async () => {
    server = new RealtimeServer({ pace: 'burst', tool: { name: 'transfer_call', arguments: '{"department":"sales"}' }, reply: { kind: 'tone', hz: 300, ms: 500 } });
    await server.listen();
    rt = await startTwilioRuntime({
      agents: {
        openai: {
          baseUrl: server.baseUrl(),
          apiKey: 'sk-test',
          model: 'gpt-realtime',
          voice: 'marin',
          instructions: 'Be brief.',
          ca: TLS_CERT.toString(),
          tools: [{ type: 'function', name: 'transfer_call', parameters: { type: 'object', properties: { department: { type: 'string' } } } }],
        },
      },
    });
    peer = new TwilioClient({ url: rt.mediaUrl, audio: caller(5000, 3700), afterAudio: 'silence', customParameters: { agent: 'openai' } });
    await peer.connect();
    const sup = rt.sup;
    await expect.poll(() => (sup.listCalls()[0]?.events ?? []).some((e) => e.name === 'tool.call'), within(8000, 'the tool call')).toBe(true);
    const event = sup.listCalls()[0]!.events!.find((e) => e.name === 'tool.call')!;
    expect(event.data).toMatchObject({ name: 'transfer_call', arguments: '{"department":"sales"}' });
    expect((server.eventsOf('session.update')[0]!['session'] as { tools: unknown[] }).tools).toHaveLength(1);

    // The application answers through the control API; the model gets the output and speaks again.
    const id = sup.listCalls()[0]!.id;
    const toolCallId = event.data['callId'] as string;
    const post = (callId: string, body: unknown) =>
      fetch(`${rt!.base}/v1/calls/${callId}/tool-output`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const responsesBefore = server.eventsOf('response.create').length;
    const ok = await post(id, { callId: toolCallId, output: '{"transferred":true}' });
    expect(ok.status).toBe(202);
    const srv = server;
    await expect.poll(() => srv.eventsOf('response.create').length, within(3000, 'the response after the output')).toBeGreaterThan(responsesBefore);
    const item = srv.eventsOf('conversation.item.create').map((e) => e['item'] as Record<string, unknown>).find((i) => i['type'] === 'function_call_output');
    expect(item).toMatchObject({ call_id: toolCallId, output: '{"transferred":true}' });
    // Answered once only; unknown calls and bodies are refused.
    expect((await post(id, { callId: toolCallId, output: 'again' })).status).toBe(422);
    expect((await post(id, { callId: 'call_nope', output: 'x' })).status).toBe(422);
    expect((await post(id, { callId: toolCallId })).status).toBe(422);
    expect((await post('no-such-call', { callId: toolCallId, output: 'x' })).status).toBe(404);
  }, 15_000);
});
