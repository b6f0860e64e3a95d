import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent/kind.ts';
import { cutAtWord } from '../../../src/actors/agent/pipeline/SpokenSentences.ts';
import { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../../helpers/logger.ts';
import { speech } from '../../helpers/fixtures.ts';
import { AgentLeg, framesOf } from '../../helpers/agentLeg.ts';
import { PipelineServer, type PipelineServerOptions } from '../../peers/PipelineServer.ts';

/**
 * The `pipeline` agent on a real agent worker, calling the local STT, chat
 * and TTS server through the real `openai` client; this thread plays the leg
 * (agentLeg.ts). Events are read from the supervisor's log (an actor made
 * outside a call logs every event it reports).
 */
// One supervisor for the file (its start-up is most of a test's time); an agent and a server per test.
let sup: Supervisor;
const logger = memoryLogger();
let server: PipelineServer | undefined;
let actor: string | undefined;
beforeAll(async () => {
  sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'silent', log: logger.log, kinds: { agent: agentKind } });
  await sup.start();
});
afterAll(() => sup.stop());
afterEach(async () => {
  if (actor !== undefined) await sup.destroyActor(actor);
  await server?.close();
  actor = undefined;
  server = undefined;
});

const RATE_HZ = 16000;
const HANGOVER_MS = 200;

async function start(options: PipelineServerOptions, opts: { timeoutMs?: number; stream?: boolean } = {}) {
  server = new PipelineServer(options);
  await server.listen();
  const base = server.baseUrl();
  const id = await sup.createActor('agent', {
    agent: 'pipeline',
    rateHz: RATE_HZ,
    pipeline: {
      hangoverMs: HANGOVER_MS,
      timeoutMs: opts.timeoutMs ?? 5000,
      stt: { baseUrl: base, apiKey: 'sk-stt', model: 'whisper-1', stream: opts.stream ?? false },
      llm: { baseUrl: base, apiKey: 'sk-llm', model: 'gpt-4o-mini', instructions: 'Be brief.', tools: [] },
      tts: { baseUrl: base, apiKey: 'sk-tts', model: 'tts-1', voice: 'alloy' },
    },
  });
  actor = id;
  const s = sup;
  const a = new AgentLeg({ in: s.ringOf(id, 'in')!, out: s.ringOf(id, 'out')!, heard: s.ringOf(id, 'heard')! }, RATE_HZ, { playLagMs: 60, clearAnswerMs: 40 });
  const stats = (): Record<string, number> => s.actorStatuses().find((x) => x.id === id)!.stats as Record<string, number>;
  const events = (name: string) => logger.lines.filter((l) => l['msg'] === 'actor event' && l['event'] === name && l['actor'] === id).map((l) => l['data'] as Record<string, unknown>);
  return { a, srv: server, stats, events, id };
}

/** A caller turn: 0.5 s of speech, then silence (the leg feeds silence when the source runs out). */
const turn = (): Int16Array[] => framesOf(speech('synth-m-16k').samples.subarray(0, RATE_HZ / 2), RATE_HZ / 50);
const userTexts = (messages: Array<Record<string, unknown>>) => messages.map((m) => `${String(m['role'])}:${String(m['content'])}`);

describe('pipeline agent', () => {
  it('a turn: the WAV upload, the streamed answer spoken sentence by sentence, in order, and the timings', async () => {
    const answer = 'Hello there. How can I help you today?';
    const { a, srv, stats, events } = await start({ reply: () => answer, msPerChar: 20, transcribe: () => 'hi' });
    a.say(turn());
    await a.runUntil(() => srv.of('tts').length === 2 && a.audio().length >= 37, 8000, 'the reply');
    await a.runFor(200);
    const stt = srv.of('stt')[0]!;
    expect(stt.body).toMatchObject({ model: 'whisper-1', filename: 'turn.wav', fileType: 'audio/wav', response_format: 'json' });
    expect(stt.wav!.rateHz).toBe(RATE_HZ);
    // 0.5 s of speech, the VAD's hangover and a little preroll.
    expect(stt.wav!.ms).toBeGreaterThan(500);
    expect(stt.wav!.ms).toBeLessThan(500 + HANGOVER_MS + 200);
    const chat = srv.of('llm')[0]!.body;
    expect(chat).toMatchObject({ model: 'gpt-4o-mini', stream: true });
    expect(userTexts(chat['messages'])).toEqual(['system:Be brief.', 'user:hi']);
    expect(srv.of('tts').map((r) => r.body)).toEqual([
      { model: 'tts-1', voice: 'alloy', input: 'Hello there.', response_format: 'pcm' },
      { model: 'tts-1', voice: 'alloy', input: 'How can I help you today?', response_format: 'pcm' },
    ]);
    // The first sentence was spoken before the second was asked for.
    expect(srv.of('tts')[0]!.atMs).toBeLessThan(srv.of('tts')[1]!.atMs);
    // 12 + 25 characters at 20 ms: 12 + 25 frames, each sentence's last frame padded.
    expect(a.audio()).toHaveLength(12 + 25);
    const seqs = a.audio().map((f) => f.seq);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
    const t = events('pipeline.turn');
    expect(t).toHaveLength(1);
    for (const k of ['sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'engineMs']) expect(t[0]![k]).toBeGreaterThanOrEqual(0);
    // The servers' own time (openai-processing-ms) is not the engine's; the rest of the stage times is.
    expect(t[0]!['overheadMs'] as number).toBeGreaterThan(0);
    expect(t[0]!['engineMs'] as number).toBeGreaterThanOrEqual((t[0]!['overheadMs'] as number) - 0.2);
    expect(events('pipeline.transcript')).toEqual([{ text: 'hi', sttMs: expect.any(Number) }]);
    const st = stats();
    expect(st['pipelineTurns']).toBe(1);
    expect(st['turns']).toBe(1);
    expect(st['stageFailures'] + st['stageRetries']).toBe(0);

    // The next turn sends the whole history.
    a.say(turn());
    await a.runUntil(() => events('pipeline.turn').length === 2, 5000, 'the second reply');
    // Warm (the first turn of a thread pays for loading its HTTP client): well under a frame or two of engine time.
    expect(events('pipeline.turn')[1]!['engineMs'] as number).toBeLessThan(100);
    expect(userTexts(srv.of('llm')[1]!.body['messages'])).toEqual(['system:Be brief.', 'user:hi', `assistant:${answer}`, 'user:hi']);
  });

  it('barge-in: CLEAR, the streams stop, and the history keeps only the text the caller heard', async () => {
    const sentences = ['The first sentence is here.', 'Then a second one follows it now.', 'And a third that nobody will ever hear at all.'];
    const { a, srv, stats, events } = await start({ reply: () => sentences.join(' '), msPerChar: 40, transcribe: () => 'tell me' });
    a.say(turn());
    // Into the second sentence: 27 chars × 40 ms = 54 frames for the first.
    await a.runUntil(() => a.heardAudio() >= 54 + 20, 10_000, 'the reply to be heard');
    a.say(turn());
    await a.runUntil(() => events('pipeline.interrupted').length === 1, 4000, 'the cut');
    expect(a.clears).toHaveLength(1);
    const heardFrames = a.heardBeforeClear();
    const cut = events('pipeline.interrupted')[0]!;
    expect(cut['heardMs']).toBe(heardFrames * 20);
    // What the test played: all of the first sentence, a share of the second.
    const secondFrames = Math.ceil((sentences[1]!.length * 40) / 20);
    const possible = [-1, 0, 1].map((d) => `${sentences[0]} ${cutAtWord(sentences[1]!, (heardFrames - 54 + d) / secondFrames)}`);
    expect(possible).toContain(cut['heardText']);
    expect(cut['heardText']).not.toContain('third');
    await a.runUntil(() => srv.of('llm').length === 2, 5000, 'the next chat');
    const messages = userTexts(srv.of('llm')[1]!.body['messages']);
    expect(messages).toEqual(['system:Be brief.', 'user:tell me', `assistant:${String(cut['heardText'])}`, 'user:tell me']);
    expect(stats()['bargeIns']).toBe(1);
    expect(stats()['lastTruncateMs']).toBe(heardFrames * 20);
  });

  it('each failure kind is retried once and reported; a stage failing twice costs the turn, not the call', async () => {
    const { a, srv, stats, events } = await start({ reply: () => 'Fine.', msPerChar: 20, transcribe: () => 'ok' }, { timeoutMs: 400, stream: true });
    const kinds = () => events('pipeline.error').map((e) => `${String(e['stage'])}:${String(e['kind'])}:${String(e['status'])}:${String(e['retrying'])}`);
    srv.faults.stt.push('500');
    srv.faults.llm.push('429');
    srv.faults.tts.push('timeout');
    a.say(turn());
    await a.runUntil(() => a.audio().length >= 5, 8000, 'the reply despite the faults');
    expect(kinds()).toEqual(['stt:status:500:true', 'llm:status:429:true', 'tts:timeout:null:true']);
    expect(srv.of('stt')[1]!.body['stream']).toBe('true');

    // Twice malformed: the turn gets no answer, and says so.
    srv.faults.llm.push('malformed', 'malformed');
    a.say(turn());
    await a.runUntil(() => events('pipeline.error').length === 5, 5000, 'both chat failures');
    expect(kinds().slice(3)).toEqual(['llm:malformed:null:true', 'llm:malformed:null:false']);
    await a.runFor(300);
    expect(a.audio()).toHaveLength(5);

    // A speech reply that is not audio, twice: reported, and the next turn is answered as usual.
    srv.faults.tts.push('malformed', 'malformed');
    a.say(turn());
    await a.runUntil(() => events('pipeline.error').length === 7, 5000, 'both speech failures');
    expect(kinds().slice(5)).toEqual(['tts:malformed:null:true', 'tts:malformed:null:false']);
    a.say(turn());
    await a.runUntil(() => a.audio().length >= 10, 5000, 'the call to go on');
    const st = stats();
    expect(st['stageRetries']).toBe(5);
    expect(st['stageFailures']).toBe(2);
    expect(st['pipelineTurns']).toBe(2);
    // The history holds the failed turns' questions, and the answers actually given.
    expect(userTexts(srv.of('llm').at(-1)!.body['messages'])).toEqual(['system:Be brief.', 'user:ok', 'assistant:Fine.', 'user:ok', 'user:ok', 'assistant:Fine.', 'user:ok']);
  });

  it('a hostile server costs a turn at most: endless, oversized and out-of-range replies are cut, reported, never retried into a loop', async () => {
    let reply = 'Fine.';
    const { a, srv, stats, events } = await start({ reply: () => reply, msPerChar: 20, transcribe: () => 'ok' }, { timeoutMs: 2000 });
    const kinds = () => events('pipeline.error').map((e) => `${String(e['stage'])}:${String(e['kind'])}:${String(e['retrying'])}`);
    // A turn's wait covers a minute of speech pushed through the downlink on a contended suite.
    const speak = async (n: number, what: string) => {
      a.say(turn());
      await a.runUntil(() => events('pipeline.error').length === n, 15_000, what);
    };
    // A 10,000-character transcript: not a caller's turn; the model is not asked.
    srv.faults.stt.push('huge');
    await speak(1, 'the transcript refused');
    expect(kinds()).toEqual(['stt:oversize:false']);
    expect(srv.of('llm')).toHaveLength(0);

    // A tool-call delta at index 1e9 (an array that size would stall the worker): malformed, retried, answered.
    srv.faults.llm.push('bad-tool-index');
    await speak(2, 'the bad tool call');
    await a.runUntil(() => a.audio().length >= 5, 5000, 'the answer on the retry');
    expect(kinds()[1]).toBe('llm:malformed:true');

    // A chat stream without end: cut at the reply bound, what was said is kept, no retry.
    srv.faults.llm.push('endless');
    await speak(3, 'the endless reply');
    expect(kinds()[2]).toBe('llm:oversize:false');
    const spokenInputs = srv.of('tts').slice(1).map((r) => String(r.body['input']));
    expect(spokenInputs.length).toBeGreaterThan(0);
    for (const input of spokenInputs) expect(input.length).toBeLessThanOrEqual(400);

    // Speech without end (one sentence): cut at a minute of audio.
    srv.faults.tts.push('endless');
    await speak(4, 'the endless speech');
    expect(kinds()[3]).toBe('tts:oversize:false');

    // Fifty sentences in one reply: the 49th is refused (a cut must find every sentence of the reply).
    reply = 'Yes. '.repeat(50);
    await speak(5, 'the long reply');
    expect(kinds()[4]).toBe('llm:oversize:false');

    // Through all of it the agent kept its call: the next turn is answered as usual.
    reply = 'Fine.';
    const before = srv.of('tts').length;
    a.say(turn());
    await a.runUntil(() => srv.of('tts').length > before && events('pipeline.turn').length >= 3, 5000, 'a normal turn');
    expect(stats()['stageFailures']).toBe(4);
  });
});
