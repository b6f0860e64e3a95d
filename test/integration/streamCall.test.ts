import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamClient } from '../../src/cli/StreamClient.ts';
import { main } from '../../src/cli/main.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import type { StreamCodecName } from '../../src/wire/streamControl.ts';
import { readWav, writeWav } from '../../src/wire/wav.ts';
import { speech } from '../helpers/fixtures.ts';
import { callerPcm } from '../helpers/bargeIn.ts';
import { within } from '../helpers/poll.ts';
import { segmentedCorrelation } from '../helpers/rtpPeer.ts';
import { startStreamRuntime, type StreamRuntime } from '../helpers/streamRuntime.ts';

/**
 * Raw audio stream calls end to end: the reference client (real `ws`) ↔ the
 * daemon's HTTP server (WS /v1/stream, main thread) ↔ jitter, agent and
 * stream-leg actors on their workers. One daemon for the file; real time.
 */
let rt: StreamRuntime;
const clients: StreamClient[] = [];
const dir = mkdtempSync(join(tmpdir(), 'switchboard-stream-'));
beforeAll(async () => {
  rt = await startStreamRuntime();
}, 20_000);
afterAll(async () => {
  for (const c of clients.splice(0)) c.abort();
  await rt.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(codec: StreamCodecName, rateHz: number, agent: string): StreamClient {
  const c = new StreamClient({ url: rt.streamUrl, codec, rateHz, agent });
  clients.push(c);
  return c;
}

/** `ms` of a synthetic talker at `rateHz` (the fixtures are there at 8, 16 and 48 kHz). */
function talker(voice: 'm' | 'f', rateHz: number, ms: number): Int16Array {
  return speech(`synth-${voice}-${rateHz / 1000}k`).samples.slice(0, (rateHz * ms) / 1000);
}

/**
 * How well `heard` carries the waveform of `sent`: 50 ms segments, each
 * aligned on its own (the jitter buffer may stretch), energy-weighted. `heard`
 * gets 100 ms of silence in front, so a reply that starts a little early still
 * aligns at a positive lag.
 */
function similarity(sent: Int16Array, heard: Int16Array, rateHz: number): number {
  const padded = new Int16Array(heard.length + rateHz / 10);
  padded.set(heard, rateHz / 10);
  return segmentedCorrelation(sent, padded, rateHz / 20, (rateHz * 4) / 10, rateHz / 8000);
}

function agentStats(s: Supervisor): Record<string, number> {
  return s.actorStatuses().find((a) => a.kind === 'agent')!.stats;
}

const CODECS: Array<[StreamCodecName, number]> = [
  ['opus', 48000],
  ['pcmu', 8000],
  ['pcma', 8000],
  ['g722', 16000],
  ['l16', 16000],
];
const SENT_MS = 1000;
/** Waveform similarity of the reply: Opus keeps the sound, not every sample's phase (measured 0.7; the others 0.96). */
const MIN_SIMILARITY: Readonly<Record<StreamCodecName, number>> = { opus: 0.55, pcmu: 0.85, pcma: 0.85, g722: 0.85, l16: 0.85 };
/** Frames the client leaves out: one alone, two together. */
const DROPPED = new Set([12, 30, 31]);

describe('a raw audio stream call through the daemon', () => {
  it('every codec: the loopback agent returns what was sent; lost frames are concealed; the client\'s mark comes back once its audio played', async () => {
    const results = await Promise.all(
      CODECS.map(async ([codec, rateHz]) => {
        const c = client(codec, rateHz, 'loopback');
        const callId = await c.connect();
        const sent = talker('m', rateHz, SENT_MS);
        await c.sendAudio(sent, { drop: (f) => DROPPED.has(f) });
        const markSentMs = performance.now();
        c.sendMark('after-audio');
        await expect.poll(() => c.markEchoes.length, within(3000, `${codec}: the mark's echo`)).toBe(1);
        const framesAtEcho = c.framesReceived;
        // The reply's end played out (the leg sends at most its lead, 60 ms, ahead).
        await new Promise((r) => setTimeout(r, 300));
        const qos = rt.sup.callQos(callId);
        const call = rt.sup.getCall(callId)!;
        await c.stop();
        const heard = c.heard();
        return {
          codec,
          c,
          call,
          qos,
          framesAtEcho,
          echoAfterMs: c.markEchoes[0]!.atMs - markSentMs,
          own: similarity(sent, heard, rateHz),
          other: similarity(talker('f', rateHz, SENT_MS), heard, rateHz),
        };
      }),
    );
    const frames = SENT_MS / 20;
    for (const { codec, c, call, qos, framesAtEcho, echoAfterMs, own, other } of results) {
      const why = `${codec}: similarity ${own.toFixed(2)}, another talker's ${other.toFixed(2)}; jitter ${JSON.stringify(qos['jitter'])}`;
      expect(call, codec).toMatchObject({ transport: 'stream', agent: 'loopback' });
      expect(own, why).toBeGreaterThan(MIN_SIMILARITY[codec]);
      expect(own - other, why).toBeGreaterThan(0.3);
      // The gaps reached the jitter buffer as losses (sequence and time) and were concealed.
      expect(qos['stream']!['framesIn'], codec).toBe(frames - DROPPED.size);
      expect(qos['stream']!['sequenceGaps'], codec).toBe(DROPPED.size);
      expect(qos['stream']!['badMessages'], codec).toBe(0);
      expect(qos['jitter']!['packetsLost'], why).toBe(DROPPED.size);
      expect(qos['jitter']!['concealmentEvents'], why).toBeGreaterThanOrEqual(2);
      expect(qos['jitter']!['concealedSamples'], why).toBeGreaterThanOrEqual((DROPPED.size * c.samplesPerFrame));
      // The mark came back once the audio before it had played: by then the loopback had returned
      // nearly all of it (it returns what the buffer plays), and not before the buffer's delay passed.
      expect(echoAfterMs, why).toBeGreaterThanOrEqual(15);
      expect(framesAtEcho, `${codec}: ${framesAtEcho} frames back when the mark came`).toBeGreaterThanOrEqual(frames - 5);
      // The server marked every frame, and the client's echoes came back to the leg.
      expect(c.events.filter((e) => e.event === 'mark' && e['name'] !== 'after-audio').length, codec).toBeGreaterThanOrEqual(c.framesReceived - 1);
      expect(qos['stream']!['heardMs'], codec).toBeGreaterThan(SENT_MS / 2);
      // Frames come back 20 ms apart on the agent's clock (silence skipped keeps its time).
      const steps = c.timestampsMs.slice(1).map((t, i) => (t - c.timestampsMs[i]!) >>> 0);
      expect(steps.every((d) => d > 0 && d % 20 === 0), codec).toBe(true);
    }
    await expect.poll(() => rt.sup.listCalls().length, within(2000, 'the calls ending')).toBe(0);
  }, 20_000);

  it('a burst of audio: the client\'s mark comes back when it has played at real-time pace, not on receipt', async () => {
    const c = client('pcmu', 8000, 'loopback');
    await c.connect();
    await c.sendAudio(talker('m', 8000, 400), { burst: true });
    const sentMs = performance.now();
    c.sendMark('burst');
    await expect.poll(() => c.markEchoes.length, within(3000, 'the echo')).toBe(1);
    const after = c.markEchoes[0]!.atMs - sentMs;
    // 400 ms of audio cannot have played in less than ~400 ms; the buffer's delay is at most 200 ms.
    expect(after).toBeGreaterThanOrEqual(380);
    expect(after).toBeLessThan(400 + 200 + 150);
    expect(rt.sup.callQos(c.callId!)['stream']!['clientMarksEchoed']).toBe(1);
    await c.stop();
  }, 10_000);

  it('barge-in: the client is told to clear, and the agent learns what it heard within 20 ms of what it played', async () => {
    const c = client('pcmu', 8000, 'echo');
    await c.connect();
    // Speech, a pause while the echo plays, then speech over the echo (sent until the call stops).
    const sending = c.sendAudio(callerPcm(4300, 2600));
    await expect.poll(() => c.clears, within(5000, 'the clear')).toBe(1);
    const truncated = (): boolean => agentStats(rt.sup)['bargeIns'] === 1 && agentStats(rt.sup)['lastTruncateMs']! > 0;
    await expect.poll(truncated, within(2000, 'the truncation')).toBe(true);
    const truth = c.clearsAt[0]!.heardMs;
    const told = agentStats(rt.sup)['lastTruncateMs']!;
    expect(truth).toBeGreaterThan(200); // the caller did hear part of the echo
    expect(Math.abs(told - truth), `told ${told} ms, played ${truth} ms`).toBeLessThanOrEqual(20);
    expect(agentStats(rt.sup)['heardTimeouts']).toBe(0);
    const qos = rt.sup.callQos(c.callId!)['stream']!;
    expect(qos['clears']).toBe(1);
    expect(qos['clearsOut']).toBe(1);
    // The client dropped what it had not played and sent back every mark pending at the clear at
    // once; the leg took those as cleared (not heard).
    const leg = (): Record<string, number> => rt.sup.actorStatuses().find((a) => a.kind === 'stream')!.stats;
    expect(leg()['markEchoesCleared']).toBeGreaterThanOrEqual(1);
    expect(leg()['markEchoesUnknown']).toBe(0);
    await c.stop();
    await sending;
  }, 15_000);
});

describe('switchboard stream (the reference client)', () => {
  it('plays a WAV into a call at real-time pace and saves the reply: a WAV of the right rate and length, the input in it', async () => {
    const input = talker('m', 16000, 1000);
    const inPath = join(dir, 'speech.wav');
    const outPath = join(dir, 'reply.wav');
    // The input at 8 kHz: the client resamples it to the stream's rate.
    const at8k = talker('m', 8000, 1000);
    writeFileSync(inPath, writeWav({ rateHz: 8000, channels: 1, samples: at8k }));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const t0 = performance.now();
    let code: number;
    let printed = '';
    try {
      code = await main(['stream', rt.streamUrl, '--in', inPath, '--out', outPath, '--codec', 'g722', '--agent', 'loopback', '--tail-ms', '400']);
    } finally {
      printed = log.mock.calls.map((a) => String(a[0])).join('\n');
      log.mockRestore();
    }
    const tookMs = performance.now() - t0;
    expect(code, printed).toBe(0);
    expect(tookMs).toBeGreaterThanOrEqual(1000 + 400); // real-time pace, then the tail
    expect(printed).toMatch(/call [0-9a-f-]{36}: sending 1\.00 s of g722 at 16000 Hz/);
    const reply = readWav(readFileSync(outPath));
    expect(reply.rateHz).toBe(16000);
    expect(reply.channels).toBe(1);
    const seconds = reply.samples.length / 16000;
    // The reply is the input played back (and what the buffer played after it while the client listened on).
    expect(seconds).toBeGreaterThanOrEqual(0.95);
    expect(seconds).toBeLessThanOrEqual(1.0 + 0.4 + 0.1);
    expect(similarity(input, reply.samples, 16000)).toBeGreaterThan(0.8);
    expect(similarity(talker('f', 16000, 1000), reply.samples, 16000)).toBeLessThan(0.5);
  }, 10_000);

  it('refuses bad arguments with a usage error, before any call', async () => {
    await expect.poll(() => rt.sup.listCalls().length, within(2000, 'the calls before ending')).toBe(0);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['stream', 'http://x/v1/stream', '--in', 'a.wav', '--out', 'b.wav'])).not.toBe(0);
      expect(await main(['stream', rt.streamUrl, '--in', 'a.wav', '--out', 'b.wav', '--codec', 'mp3'])).not.toBe(0);
      expect(await main(['stream', rt.streamUrl, '--in', join(dir, 'missing.wav'), '--out', 'b.wav'])).not.toBe(0);
      expect(await main(['stream', rt.streamUrl, '--out', 'b.wav'])).not.toBe(0);
      const said = err.mock.calls.map((a) => String(a[0])).join('\n');
      expect(said).toMatch(/--in and --out are both needed/);
      expect(said).toMatch(/ws:\/\/ or wss:\/\//);
      expect(said).toMatch(/--codec must be one of/);
      expect(said).toMatch(/cannot read .*missing\.wav/);
    } finally {
      err.mockRestore();
    }
    expect(rt.sup.listCalls()).toHaveLength(0);
  });
});
