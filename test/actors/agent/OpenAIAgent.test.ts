import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent/kind.ts';
import { parseOpenAIAgentConfig } from '../../../src/actors/agent/OpenAIAgentConfig.ts';
import { Supervisor } from '../../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../../helpers/logger.ts';
import { speech } from '../../helpers/fixtures.ts';
import { RealtimeServer, type RealtimeServerOptions, TLS_CERT } from '../../peers/RealtimeServer.ts';
import { AgentLeg, framesOf } from '../../helpers/agentLeg.ts';

/**
 * The `openai` agent on a real agent worker, talking to the local Realtime
 * server through the real `openai` client; this thread plays the leg
 * (agentLeg.ts). Events the agent reports (tool calls, errors) are read from
 * the supervisor's log: an actor created outside a call has no call to keep
 * them under, and the supervisor logs every actor event it receives.
 */
let sup: Supervisor | undefined;
let server: RealtimeServer | undefined;
afterEach(async () => {
  await sup?.stop();
  await server?.close();
  sup = undefined;
  server = undefined;
});

type Format = 'pcmu' | 'pcm24';

async function start(
  options: RealtimeServerOptions,
  format: Format,
  leg: { playLagMs?: number; clearAnswerMs?: number | null; claimAllOnClear?: boolean } = {},
  reconnectBaseMs?: number,
) {
  server = new RealtimeServer(options);
  await server.listen();
  const rateHz = format === 'pcmu' ? 8000 : 16000;
  const logger = memoryLogger();
  sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'silent',
    log: logger.log,
    kinds: { agent: agentKind },
  });
  await sup.start();
  const id = await sup.createActor('agent', {
    agent: 'openai',
    rateHz,
    openai: {
      baseUrl: server.baseUrl(),
      apiKey: 'sk-test',
      model: 'gpt-realtime',
      voice: 'marin',
      instructions: 'Be brief.',
      tools: [{ type: 'function', name: 'transfer_call', parameters: { type: 'object', properties: {} } }],
      ca: TLS_CERT.toString(),
      format,
      ...(reconnectBaseMs !== undefined ? { reconnectBaseMs } : {}),
    },
  });
  const s = sup;
  const a = new AgentLeg(
    { in: s.ringOf(id, 'in')!, out: s.ringOf(id, 'out')!, heard: s.ringOf(id, 'heard')! },
    rateHz,
    {
      playLagMs: leg.playLagMs ?? 60,
      clearAnswerMs: leg.clearAnswerMs === null ? undefined : (leg.clearAnswerMs ?? 40),
      claimAllOnClear: leg.claimAllOnClear,
    },
  );
  const stats = (): Record<string, number> => s.actorStatuses().find((x) => x.id === id)!.stats as Record<string, number>;
  const events = (name: string) => logger.lines.filter((l) => l['msg'] === 'actor event' && l['event'] === name).map((l) => l['data'] as Record<string, unknown>);
  const srv = server;
  await a.runUntil(() => srv.eventsOf('session.update').length === 1, 5000, 'session.update');
  return { a, srv, stats, events, rateHz, id };
}

/** A caller turn: 0.5 s of speech, then silence (the leg feeds silence when the source runs out). */
function turn(rateHz: number): Int16Array[] {
  const s = speech(rateHz === 8000 ? 'synth-m-8k' : 'synth-m-16k').samples;
  return framesOf(s.subarray(0, rateHz * 0.5), rateHz / 50);
}

/** Dominant frequency of a stretch by zero crossings. */
function hz(samples: Int16Array, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return crossings / 2 / (samples.length / rateHz);
}
const join = (frames: Int16Array[]): Int16Array => {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) (out.set(f, at), (at += f.length));
  return out;
};

/** A 24 kHz clip of ten 100 ms tones rising from 300 to 1200 Hz: order is visible in the output. */
function steps(): Int16Array {
  const clip = new Int16Array(24000);
  for (let i = 0; i < clip.length; i++) {
    const f = 300 + 100 * Math.floor(i / 2400);
    clip[i] = Math.round(8000 * Math.sin((2 * Math.PI * f * (i % 2400)) / 24000));
  }
  return clip;
}

describe('openai agent', () => {
  it('µ-law: streams the caller up, plays the reply at real-time pace, in order', async () => {
    const { a, srv, stats } = await start({ pace: 'burst', reply: { kind: 'tone', hz: 440, ms: 1000 } }, 'pcmu');
    const update = srv.eventsOf('session.update')[0]!['session'] as Record<string, any>;
    expect(update['audio']).toMatchObject({
      input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad', interrupt_response: true, create_response: true } },
      output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
    });
    expect(update['instructions']).toBe('Be brief.');
    a.say(turn(8000));
    await a.runUntil(() => a.audio().length >= 50, 6000, 'the reply');
    await a.runFor(100);
    const audio = a.audio();
    expect(audio).toHaveLength(50);
    expect(audio.every((f, i) => i === 0 || f.seq === audio[i - 1]!.seq + 1)).toBe(true);
    // The server sent it all at once; the agent paces it: 50 frames over ~1 s.
    const span = audio.at(-1)!.atMs - audio[0]!.atMs;
    expect(span).toBeGreaterThan(49 * 20 - 60);
    expect(span).toBeLessThan(49 * 20 + 100);
    expect(hz(join(audio.map((f) => f.samples)), 8000)).toBeCloseTo(440, -1);
    // Appends are 40 ms batches of µ-law.
    const appends = srv.eventsOf('input_audio_buffer.append');
    expect(appends.length).toBeGreaterThan(20);
    expect(Buffer.from(appends[0]!['audio'] as string, 'base64').length).toBe(320);
    const st = stats();
    expect(st['openaiConnected']).toBe(1);
    expect(st['audioMsIn']).toBe(1000);
    expect(st['errors']).toBe(0);
    expect(srv.sentOf('error')).toHaveLength(0);
  });

  it('PCM 24 kHz: resamples both ways at 16 kHz; the reply comes out in order', async () => {
    const { a, srv, stats } = await start({ pace: 'realtime', speedup: 4, reply: { kind: 'clip', pcm24k: steps() } }, 'pcm24');
    a.say(turn(16000));
    await a.runUntil(() => a.audio().length >= 50, 6000, 'the reply');
    const audio = a.audio().slice(0, 50);
    const freqs = [];
    for (let k = 0; k < 10; k++) freqs.push(hz(join(audio.slice(5 * k + 1, 5 * k + 4).map((f) => f.samples)), 16000));
    freqs.forEach((f, k) => expect(Math.abs(f - (300 + 100 * k))).toBeLessThan(40));
    expect(Buffer.from(srv.eventsOf('input_audio_buffer.append')[0]!['audio'] as string, 'base64').length).toBe(1920);
    expect(srv.eventsOf('session.update')[0]!['session']).toMatchObject({ audio: { output: { format: { type: 'audio/pcm', rate: 24000 } } } });
    expect(stats()['underrunFrames']).toBe(0);
  });

  // The third case: a server slower than real time, so the item's audio runs
  // dry between deltas and silence frames fall between its frames; they are
  // not the item's audio and must not count.
  const cases = [
    { format: 'pcmu', speedup: 2, name: 'pcmu' },
    { format: 'pcm24', speedup: 2, name: 'pcm24' },
    { format: 'pcmu', speedup: 0.8, name: 'pcmu, server slower than real time' },
  ] as const;
  for (const { format, speedup, name } of cases) {
    it(`barge-in (${name}): CLEAR, then one truncate at what the caller heard, within 20 ms`, async () => {
      const { a, srv, stats } = await start({ pace: 'realtime', speedup, reply: { kind: 'tone', hz: 300, ms: 4000 } }, format, { playLagMs: 80, clearAnswerMs: 60 });
      a.say(turn(a.rateHz));
      await a.runUntil(() => a.heardAudio() >= 25, 8000, 'the reply to be heard');
      a.say(turn(a.rateHz)); // the caller talks over the reply
      await a.runUntil(() => srv.eventsOf('conversation.item.truncate').length === 1, 4000, 'the truncate');
      await a.runFor(200);
      expect(a.clears).toHaveLength(1);
      const clear = a.clears[0]!;
      expect(clear.sampleCount).toBe(0);
      // The CLEAR does not use up its sequence number.
      expect(a.out[clear.outIndex]!.seq).toBe(clear.seq);
      const truncate = srv.eventsOf('conversation.item.truncate');
      expect(truncate).toHaveLength(1);
      const heardMs = a.heardBeforeClear() * 20;
      const endMs = truncate[0]!['audio_end_ms'] as number;
      const first = a.audio()[0]!.seq;
      const wallMs = (a.out.slice(0, clear.outIndex).filter((f) => f.heard).at(-1)!.seq + 1 - first) * 20;
      console.log(`barge-in ${name}: audio_end_ms ${endMs}, heard ${heardMs} ms (wall clock since the first frame: ${wallMs} ms), error ${endMs - heardMs} ms`);
      if (speedup < 1) expect(stats()['underrunFrames']).toBeGreaterThan(3);
      expect(Math.abs(endMs - heardMs)).toBeLessThanOrEqual(20);
      expect(truncate[0]!['item_id']).toBe(srv.sentOf('response.output_audio.delta')[0]!['item_id']);
      expect(srv.sentOf('conversation.item.truncated')).toHaveLength(1);
      expect(srv.sentOf('error')).toHaveLength(0);
      // The server cancelled the response itself (interrupt_response): no cancel of ours crossed it.
      expect(srv.sentOf('response.done').at(-1)!['response']).toMatchObject({ status: 'cancelled', status_details: { reason: 'turn_detected' } });
      expect(srv.eventsOf('response.cancel')).toHaveLength(0);
      const st = stats();
      expect(st['bargeIns']).toBe(1);
      expect(st['lastTruncateMs']).toBe(endMs);
      expect(st['heardTimeouts']).toBe(0);
    });
  }

  it('a leg that never answers the CLEAR: truncates after the time-out with the latest count, never past the audio sent', async () => {
    const { a, srv, stats } = await start({ pace: 'burst', reply: { kind: 'tone', hz: 300, ms: 3000 } }, 'pcmu', { playLagMs: 0, clearAnswerMs: null });
    a.say(turn(8000));
    await a.runUntil(() => a.heardAudio() >= 10, 6000, 'the reply to be heard');
    a.say(turn(8000));
    await a.runUntil(() => a.clears.length === 1, 3000, 'the CLEAR');
    const clearedAt = a.nowMs();
    await a.runUntil(() => srv.eventsOf('conversation.item.truncate').length === 1, 3000, 'the truncate');
    expect(a.nowMs() - clearedAt).toBeGreaterThan(900);
    const endMs = srv.eventsOf('conversation.item.truncate')[0]!['audio_end_ms'] as number;
    expect(Math.abs(endMs - a.heardBeforeClear() * 20)).toBeLessThanOrEqual(20);
    expect(srv.sentOf('error')).toHaveLength(0);
    expect(stats()['heardTimeouts']).toBe(1);
  });

  it('truncates no further than the audio received for the item (its last frame is padded)', async () => {
    // 1010 ms of reply is 51 frames, the last one 10 ms of audio and 10 ms of padding;
    // a leg that says all 51 were heard must not make the agent ask for 1020 ms.
    const { a, srv, stats } = await start({ pace: 'burst', reply: { kind: 'tone', hz: 300, ms: 1010 } }, 'pcmu', { playLagMs: 500, claimAllOnClear: true });
    a.say(turn(8000));
    await a.runUntil(() => a.audio().length >= 51, 6000, 'the whole reply');
    a.say(turn(8000));
    await a.runUntil(() => srv.eventsOf('conversation.item.truncate').length === 1, 3000, 'the truncate');
    expect(a.heardBeforeClear()).toBe(51);
    expect(srv.eventsOf('conversation.item.truncate')[0]!['audio_end_ms']).toBe(1010);
    await a.runFor(100);
    expect(srv.sentOf('error')).toHaveLength(0);
    expect(stats()['lastTruncateMs']).toBe(1010);
  });

  it('surfaces a tool call as an event', async () => {
    const { a, stats, events } = await start({ pace: 'burst', tool: { name: 'transfer_call', arguments: '{"to":"sales"}' } }, 'pcmu');
    a.say(turn(8000));
    await a.runUntil(() => events('tool.call').length === 1, 6000, 'the tool call');
    expect(events('tool.call')[0]).toMatchObject({ name: 'transfer_call', arguments: '{"to":"sales"}' });
    expect(typeof events('tool.call')[0]!['callId']).toBe('string');
    expect(stats()['toolCalls']).toBe(1);
  });

  it('bad server input costs nothing: counted, and the agent keeps playing', async () => {
    const { a, srv, stats } = await start({ pace: 'burst', reply: { kind: 'tone', hz: 440, ms: 400 } }, 'pcmu');
    srv.sendRaw('{not json');
    srv.sendRaw(JSON.stringify({ type: 'no.such.event', event_id: 'e1' }));
    srv.sendRaw(JSON.stringify({ type: 'response.output_audio.delta', event_id: 'e2', item_id: 'item_x', response_id: 'r', output_index: 0, content_index: 0, delta: '%%%=' }));
    await a.runUntil(() => stats()['badEvents'] === 2 && stats()['unknownEvents'] === 1, 3000, 'the counts');
    a.say(turn(8000));
    await a.runUntil(() => a.audio().length >= 20, 6000, 'the reply');
    const st = stats();
    expect(st['openaiConnected']).toBe(1);
    expect(st['errors']).toBe(0);
  });

  it('the server closing the socket mid-reply: an openai.error event, silence frames, then a new session that answers the next turn', async () => {
    const { a, srv, stats, events } = await start({ pace: 'realtime', reply: { kind: 'tone', hz: 440, ms: 600 } }, 'pcmu');
    a.say(turn(8000));
    await a.runUntil(() => a.audio().length >= 5, 6000, 'the reply');
    srv.closeSessions();
    await a.runUntil(() => events('openai.error').length === 1, 3000, 'the error event');
    expect(events('openai.error')[0]).toMatchObject({ kind: 'closed', code: 1011 });
    const before = a.out.length;
    await a.runUntil(() => stats()['reconnects'] === 1 && stats()['openaiConnected'] === 1, 3000, 'the reconnection');
    expect(a.out.length - before).toBeGreaterThan(3);
    await a.runUntil(() => events('openai.reconnected').length === 1, 1000, 'the reconnected event');
    // The new session was configured like the first, and answers.
    await a.runUntil(() => srv.eventsOf('session.update').length === 2, 2000, 'the session update');
    expect(srv.eventsOf('session.update')[1]).toEqual(srv.eventsOf('session.update')[0]);
    const repliesBefore = srv.sentOf('response.output_audio.delta').length;
    a.say(turn(8000));
    await a.runUntil(() => srv.sentOf('response.output_audio.delta').length > repliesBefore, 6000, 'a reply from the new session');
    expect(sup!.actorStatuses().find((x) => x.kind === 'agent')!.state).toBe('running');
    expect(events('openai.error')).toHaveLength(1);
  });

  it('gives up after its reconnection attempts against a server that is gone: one final error, silence goes on', async () => {
    const { a, srv, stats, events } = await start({ pace: 'realtime', reply: { kind: 'tone', hz: 440, ms: 300 } }, 'pcmu', {}, 25);
    await a.runUntil(() => stats()['openaiConnected'] === 1, 3000, 'the session');
    await srv.close();
    server = undefined;
    // 25 + 50 + 100 + 200 + 400 ms of back-off (openai.reconnectBaseMs 25); not before 775 ms.
    const lost = performance.now();
    await a.runUntil(() => events('openai.error').some((e) => e['kind'] === 'gave-up'), 6_000, 'giving up');
    expect(performance.now() - lost).toBeGreaterThanOrEqual(775);
    expect(events('openai.error').filter((e) => e['kind'] === 'gave-up')).toHaveLength(1);
    expect(events('openai.error').filter((e) => e['kind'] === 'connection').length).toBeLessThanOrEqual(1);
    const before = a.out.length;
    await a.runFor(200);
    expect(a.out.length - before).toBeGreaterThan(5);
    expect(stats()['reconnects']).toBe(0);
  }, 20_000);

  it('an endpoint that refuses the connection: one openai.error event, silence frames', async () => {
    const { a, srv, stats, events } = await start({}, 'pcmu');
    const port = Number(new URL(srv.baseUrl()).port);
    await srv.close();
    server = undefined;
    const id = await sup!.createActor('agent', {
      agent: 'openai',
      rateHz: 8000,
      openai: { baseUrl: `https://127.0.0.1:${port}/v1`, apiKey: 'k', model: 'm', voice: 'v', instructions: '', format: 'pcmu' },
    });
    await a.runUntil(() => events('openai.error').some((e) => e['kind'] === 'connection'), 3000, 'the error event');
    await a.runFor(200);
    expect(events('openai.error').filter((e) => e['kind'] !== 'closed')).toHaveLength(1);
    const st = sup!.actorStatuses().find((x) => x.id === id)!;
    expect(st.state).toBe('running');
    expect((st.stats as Record<string, number>)['framesOut']).toBeGreaterThan(5);
    expect(stats()['openaiConnected']).toBe(0); // the first agent lost its server too
  });

  it('refuses bad configuration with a RangeError', async () => {
    const ok = { agent: 'openai', rateHz: 8000, openai: { baseUrl: 'https://api.openai.com/v1', apiKey: 'k', model: 'm', voice: 'v', instructions: '', format: 'pcmu' } };
    expect(parseOpenAIAgentConfig(ok)).toMatchObject({ format: 'pcmu', tools: [] });
    const bad = (patch: Record<string, unknown>, rate = 8000) => () => parseOpenAIAgentConfig({ ...ok, rateHz: rate, openai: { ...ok.openai, ...patch } });
    expect(bad({ format: 'pcma' })).toThrow(RangeError);
    expect(bad({}, 16000)).toThrow(/pcmu needs rateHz 8000/);
    expect(bad({ apiKey: '' })).toThrow(/apiKey must be a non-empty string/);
    expect(bad({ baseUrl: 'ftp://x' })).toThrow(/baseUrl must be http/);
    expect(bad({ tools: {} })).toThrow(/tools must be an array/);
    expect(bad({ reconnectBaseMs: 5 })).toThrow(/reconnectBaseMs must be an integer 10–60000 \[got:5\]/);
    expect(bad({ reconnectBaseMs: '250' })).toThrow(/reconnectBaseMs must be an integer/);
    expect(parseOpenAIAgentConfig(ok).reconnectBaseMs).toBe(250);
    expect(() => parseOpenAIAgentConfig({ agent: 'openai', rateHz: 8000 })).toThrow(/missing the openai section/);
    sup = new Supervisor({ spareThreads: false, poolSizes: { media: 1, network: 1, agent: 1, capture: 1 }, logLevel: 'silent', log: memoryLogger().log, kinds: { agent: agentKind } });
    await sup.start();
    await expect(sup.createActor('agent', { ...ok, rateHz: 11025 })).rejects.toThrow(/rateHz must be one of/);
  });
});
