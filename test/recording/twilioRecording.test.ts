import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulawDecode, ulawEncode } from '../../src/dsp/g711.ts';
import { Recorder } from '../../src/recording/Recorder.ts';
import { readWav } from '../../src/wire/wav.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { until } from '../helpers/rtpPeer.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';
import { TwilioClient, ulawSpeech } from '../peers/TwilioClient.ts';

/**
 * Twilio calls record when the stream's `record` custom parameter says so:
 * the agent channel is what the Twilio leg sent, decoded, on the tick it
 * plays (the pacer's lead later), so with the loopback agent it is the
 * caller channel a few frames later, to the sample.
 */

const dir = mkdtempSync(join(tmpdir(), 'recordings-twilio-'));
/** How far behind the agent channel may run: the pacer's lead, and what a loaded machine's late ticks add to it (1 s). */
const MAX_LAG_FRAMES = 50;
/** Frames at the end of a call the leg may not have sent before it went. */
const TAIL_FRAMES = 3;
let rt: TwilioRuntime;
let recorder: Recorder;
const clients: TwilioClient[] = [];
beforeAll(async () => {
  recorder = new Recorder({ dir, retentionDays: 1, maxActive: 4, jobs: [], jobThreads: 1, jobQueue: 4, log: memoryLogger().log });
  rt = await startTwilioRuntime({ recorder, placement: 'call' });
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.abort();
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(customParameters: Record<string, string>, ms: number): TwilioClient {
  const c = new TwilioClient({ url: rt.mediaUrl, customParameters: { agent: 'loopback', ...customParameters }, audio: ulawSpeech('synth-f-8k', ms), afterAudio: 'stop' });
  clients.push(c);
  return c;
}

describe('Twilio recording', () => {
  it('records a stream whose record parameter is "true": the sent audio, aligned to the frame it plays in', async () => {
    const c = client({ record: 'true' }, 1000);
    await c.connect();
    await c.closed;
    await until(() => recorder.store.list().some((r) => r.state !== 'recording'), 5000, 'the recording to close');
    const [info] = recorder.store.list();
    expect(info).toMatchObject({ transport: 'twilio', state: 'complete', rateHz: 8000 });
    const wav = readWav(new Uint8Array(readFileSync(join(dir, `${info!.id}.wav`))));
    const n = wav.samples.length / 2;
    const left = new Int16Array(n);
    const right = new Int16Array(n);
    for (let i = 0; i < n; i++) [left[i], right[i]] = [wav.samples[2 * i]!, wav.samples[2 * i + 1]!];
    // Every voiced caller frame is in the agent channel, to the sample (as µ-law carries it: the jitter
    // buffer's time-stretched frames are not µ-law values), a few frames later: the leg's lead over
    // Twilio's playout, which only grows (a frame plays after the one before it, never early).
    const codes = new Uint8Array(160);
    const wire = new Int16Array(160);
    /** The sample lag at which caller frame `f`, as µ-law carries it, is in the agent channel. */
    const lagOf = (f: number): number | undefined => {
      ulawEncode(left.subarray(f * 160, f * 160 + 160), codes);
      ulawDecode(codes, wire);
      search: for (let lag = 0; lag <= MAX_LAG_FRAMES * 160 && f * 160 + lag + 160 <= n; lag++) {
        for (let i = 0; i < 160; i++) if (right[f * 160 + lag + i] !== wire[i]) continue search;
        return lag;
      }
      return undefined;
    };
    const frames = Math.floor(n / 160);
    const lags: number[] = [];
    for (let f = 0; f < frames; f++) {
      // Speech only: quiet frames quantize alike and could match each other.
      if (left.subarray(f * 160, f * 160 + 160).reduce((sum, v) => sum + Math.abs(v), 0) < 160 * 300) continue;
      const lag = lagOf(f);
      // Not heard: only the last frames, which would have played after the call ended, or which the
      // jitter/PLC actor played after the leg was gone (a call's actors are destroyed together).
      if (lag === undefined) {
        expect(f + Math.ceil((lags.at(-1) ?? 0) / 160)).toBeGreaterThanOrEqual(frames - TAIL_FRAMES);
        break;
      }
      lags.push(lag!);
    }
    expect(lags.length).toBeGreaterThan(30);
    for (let i = 1; i < lags.length; i++) expect(lags[i]).toBeGreaterThanOrEqual(lags[i - 1]!);
  });

  it('does not record without the parameter, and refuses the call for a record parameter that is not true or false', async () => {
    const before = recorder.store.size;
    const plain = client({}, 200);
    await plain.connect();
    await plain.closed;
    const bad = client({ record: 'yes' }, 200);
    await bad.connect();
    const closed = await bad.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/record: expected true or false/);
    expect(recorder.store.size).toBe(before);
  });
});
