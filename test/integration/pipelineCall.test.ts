import { afterEach, describe, expect, it } from 'vitest';
import { ulawEncode } from '../../src/dsp/g711.ts';
import { cutAtWord } from '../../src/actors/agent/pipeline/SpokenSentences.ts';
import { loadPipelineSettings } from '../../src/supervisor/pipelineSettings.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { speech } from '../helpers/fixtures.ts';
import { within } from '../helpers/poll.ts';
import { startRtpRuntime } from '../helpers/rtpRuntime.ts';
import { TestPeer } from '../helpers/rtpPeer.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';
import { PipelineServer } from '../peers/PipelineServer.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';

/**
 * Phone calls answered by the cascaded `pipeline` agent, end to end: a
 * Twilio Media Streams peer, and an RTP peer, → the daemon → the agent on its
 * worker → the local STT, chat and TTS server through the real `openai`
 * client, and back. On Twilio the caller talks over the reply: the history
 * the model gets next holds what the Twilio peer really played; then the
 * model calls a tool, which the application answers over the control API.
 */
const PORT_MIN = 47_000 + 2 * ((process.pid * 13) % 1000);
const MS_PER_CHAR = 40;

let rt: TwilioRuntime | undefined;
let sup: Supervisor | undefined;
let server: PipelineServer | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await rt?.stop();
  rt = undefined;
  await sup?.stop();
  sup = undefined;
  await server?.close();
  server = undefined;
});

function settings(base: string) {
  const stage = { baseUrl: base, apiKeyEnv: 'TEST_PIPELINE_KEY' };
  return loadPipelineSettings(
    {
      hangoverMs: 300,
      timeoutMs: 5000,
      stt: { ...stage, model: 'whisper-1', stream: false },
      llm: { ...stage, model: 'gpt-4o-mini', instructions: 'Be brief.' },
      tts: { ...stage, model: 'tts-1', voice: 'alloy' },
    },
    { TEST_PIPELINE_KEY: 'sk-test' },
  );
}

/** 8 kHz caller audio: speech at [0.2 s, 1.4 s) and again from each of `againMs`, silence elsewhere. */
function callerPcm(totalMs: number, againMs: number[]): Int16Array {
  const { samples } = speech('synth-m-8k');
  const pcm = new Int16Array(totalMs * 8);
  for (const at of [200, ...againMs]) pcm.set(samples.subarray(0, 1200 * 8), at * 8);
  return pcm;
}

/** The text a caller heard `heardMs` of, given each sentence lasts MS_PER_CHAR per character (its last frame padded). */
function heardOf(sentences: string[], heardMs: number): string {
  let left = Math.round(heardMs / 20);
  const parts: string[] = [];
  for (const s of sentences) {
    const frames = Math.ceil((s.length * MS_PER_CHAR) / 20);
    if (left >= frames) {
      parts.push(s);
      left -= frames;
      continue;
    }
    const cut = cutAtWord(s, left / frames);
    if (cut !== '') parts.push(cut);
    break;
  }
  return parts.join(' ');
}

const SENTENCES = ['The first sentence is here.', 'Then a second one follows it now.', 'And a third that nobody will ever hear at all.'];

describe('calls answered by the pipeline agent', () => {
  it('Twilio: a turn answered, a barge-in cut at what the peer played, a tool call answered over the API', async () => {
    let turns = 0;
    server = new PipelineServer({
      msPerChar: MS_PER_CHAR,
      transcribe: () => `question ${++turns}`,
      reply: (messages) => {
        const last = messages.at(-1)!;
        if (last['role'] === 'tool') return 'Transferring you now.';
        return messages.filter((m) => m['role'] === 'user').length === 1 ? SENTENCES.join(' ') : { tool: { name: 'transfer_call', arguments: '{"department":"sales"}' } };
      },
    });
    await server.listen();
    rt = await startTwilioRuntime({ agents: { pipeline: settings(server.baseUrl()) } });
    const pcm = callerPcm(9000, [3800]);
    const audio = new Uint8Array(pcm.length);
    ulawEncode(pcm, audio);
    const p = new TwilioClient({ url: rt.mediaUrl, audio, afterAudio: 'silence', customParameters: { agent: 'pipeline' } });
    cleanups.push(() => p.abort());
    await p.connect();
    const s = rt.sup;
    const srv = server;
    const events = (name: string) => (s.listCalls()[0]?.events ?? []).filter((e) => e.name === name).map((e) => e.data);
    await expect.poll(() => p.clears.length, within(8000, 'the clear')).toBe(1);
    await expect.poll(() => events('tool.call').length, within(6000, 'the tool call')).toBe(1);

    // The history the model got with the second question: the reply cut where the peer stopped playing it.
    const heardMs = p.clears[0]!.heardMs;
    expect(heardMs).toBeGreaterThan((SENTENCES[0]!.length * MS_PER_CHAR) / 2);
    const messages = srv.of('llm')[1]!.body['messages'] as Array<Record<string, unknown>>;
    expect(messages.map((m) => m['role'])).toEqual(['system', 'user', 'assistant', 'user']);
    const told = messages[2]!['content'];
    expect([-20, 0, 20].map((d) => heardOf(SENTENCES, heardMs + d))).toContain(told);
    expect(events('pipeline.interrupted')[0]).toMatchObject({ heardText: told });
    expect(srv.of('stt')[0]!.wav!.rateHz).toBe(8000);

    // The tool call is on the call; the application's answer goes to the model, which speaks again.
    const call = events('tool.call')[0]!;
    expect(call).toMatchObject({ name: 'transfer_call', arguments: '{"department":"sales"}' });
    const id = s.listCalls()[0]!.id;
    const post = (body: unknown) => fetch(`${rt!.base}/v1/calls/${id}/tool-output`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ callId: call['callId'], output: '{"ok":true}' })).status).toBe(202);
    await expect.poll(() => events('pipeline.turn').length, within(5000, 'the reply after the tool')).toBe(2);
    const last = srv.of('llm')[2]!.body['messages'] as Array<Record<string, any>>;
    expect(last.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: call['callId'], type: 'function', function: { name: 'transfer_call' } }] });
    expect(last.at(-1)).toEqual({ role: 'tool', tool_call_id: call['callId'], content: '{"ok":true}' });
    expect((await post({ callId: call['callId'], output: 'again' })).status).toBe(422);
    // The turn's figures in /metrics.
    const metrics = await (await fetch(`${rt.base}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_calls_qos\{transport="twilio",kind="agent",figure="pipelineTurns"\} 2/);
    expect(metrics).toMatch(/figure="engineMsTotal"\} \d/);
    // Every turn in the histogram (it outlives the call); the turn after the tool output had no speech to transcribe.
    expect(metrics).toMatch(/switchboard_pipeline_turn_seconds_count\{part="response"\} 2\n/);
    expect(metrics).toMatch(/switchboard_pipeline_turn_seconds_count\{part="stt"\} 1\n/);
    expect(metrics).toMatch(/switchboard_pipeline_turn_seconds_count\{part="engine"\} 2\n/);
    expect(p.warnings).toEqual([]);
  }, 25_000);

  it('RTP (G.711 µ-law): the turn goes up at 8 kHz and the spoken reply comes back as RTP', async () => {
    server = new PipelineServer({ msPerChar: MS_PER_CHAR, reply: () => 'Hi there. Bye.' });
    await server.listen();
    const r = await startRtpRuntime({ portMin: PORT_MIN, portMax: PORT_MIN + 10, rtcpMinIntervalS: 5, agents: { defaultAgent: 'echo', pipeline: settings(server.baseUrl()) } });
    sup = r.sup;
    const peer = await TestPeer.create();
    cleanups.push(() => peer.close());
    const call = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'pipeline' });
    const localPort = (call['rtp'] as { localPort: number }).localPort;
    const pcm = callerPcm(3000, []);
    const payload = new Uint8Array(160);
    const t0 = performance.now();
    let n = 0;
    await new Promise<void>((resolve) => {
      const step = (): void => {
        if (n * 160 >= pcm.length) return resolve();
        ulawEncode(pcm.subarray(n * 160, n * 160 + 160), payload);
        peer.sendRtp({ sequenceNumber: n, timestamp: n * 160, payload, marker: n === 0 }, localPort);
        n++;
        setTimeout(step, Math.max(0, t0 + n * 20 - performance.now()));
      };
      step();
    });
    const s = sup;
    // 'Hi there.' and 'Bye.': 9 and 4 characters, 18 + 8 frames of the TTS's tone.
    const voiced = () => peer.received.filter((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f)).length;
    await expect.poll(voiced, within(4000, 'the reply')).toBeGreaterThanOrEqual(26);
    expect(voiced()).toBeLessThanOrEqual(27);
    expect(server.of('tts').map((q) => q.body['input'])).toEqual(['Hi there.', 'Bye.']);
    expect(server.of('stt')[0]!.wav).toMatchObject({ rateHz: 8000 });
    const turn = s.listCalls()[0]!.events!.find((e) => e.name === 'pipeline.turn')!.data;
    expect(turn['engineMs'] as number).toBeLessThan(200);
  }, 15_000);
});
