import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient } from '../../src/cli/StreamClient.ts';
import type { StreamCodecName } from '../../src/wire/streamControl.ts';
import { speech } from '../helpers/fixtures.ts';
import { within } from '../helpers/poll.ts';
import { envelopeSimilarity } from '../helpers/twilioCalls.ts';
import { startStreamRuntime, type StreamRuntime } from '../helpers/streamRuntime.ts';

/**
 * Raw audio stream calls end to end: the reference client (real `ws`) ↔ the
 * daemon's HTTP server (WS /v1/stream, main thread) ↔ jitter, agent and
 * stream-leg actors on their workers. One daemon for the file; real time.
 */
let rt: StreamRuntime;
const clients: StreamClient[] = [];
beforeAll(async () => {
  rt = await startStreamRuntime();
}, 20_000);
afterAll(async () => {
  for (const c of clients.splice(0)) c.abort();
  await rt.stop();
});

function client(codec: StreamCodecName, rateHz: number, agent: string): StreamClient {
  const c = new StreamClient({ url: rt.streamUrl, codec, rateHz, agent });
  clients.push(c);
  return c;
}

function otherTalker(rateHz: number, ms: number): Int16Array {
  return speech(`synth-f-${rateHz / 1000}k`).samples.slice(0, (rateHz * ms) / 1000);
}

/** `ms` of the male synthetic talker at `rateHz` (the fixture is there at 8, 16 and 48 kHz). */
function talker(rateHz: number, ms: number): Int16Array {
  return speech(`synth-m-${rateHz / 1000}k`).samples.slice(0, (rateHz * ms) / 1000);
}

/** Mean absolute level per 20 ms frame. */
function envelope(x: Int16Array, rateHz: number): Float64Array {
  const spf = rateHz / 50;
  const out = new Float64Array(Math.floor(x.length / spf));
  for (let f = 0; f < out.length; f++) {
    let e = 0;
    for (let k = 0; k < spf; k++) e += Math.abs(x[f * spf + k]!);
    out[f] = e / spf;
  }
  return out;
}

const CODECS: Array<[StreamCodecName, number]> = [
  ['opus', 48000],
  ['pcmu', 8000],
  ['pcma', 8000],
  ['g722', 16000],
  ['l16', 16000],
];

describe('a raw audio stream call through the daemon', () => {
  it('every codec: the loopback agent returns what was sent, in frames of the stream\'s codec with a mark after each', async () => {
    const ms = 1200;
    // The five calls at once: each its own codec, none costing another anything.
    const results = await Promise.all(
      CODECS.map(async ([codec, rateHz]) => {
        const c = client(codec, rateHz, 'loopback');
        const callId = await c.connect();
        const sent = talker(rateHz, ms);
        await c.sendAudio(sent);
        await expect.poll(() => c.framesReceived >= (ms / 20) * 0.9, within(3000, `${codec}: the reply`)).toBe(true);
        // The reply's end played out (the leg sends at most its lead, 60 ms, ahead).
        await new Promise((r) => setTimeout(r, 500));
        const call = rt.sup.getCall(callId)!;
        const qos = rt.sup.callQos(callId);
        await c.stop();
        const heard = envelope(c.heard(), rateHz);
        // Block by block, as the jitter buffer may stretch or squeeze while it settles; another talker is the yardstick.
        const own = envelopeSimilarity(envelope(sent, rateHz), heard, 10, 5);
        const other = envelopeSimilarity(envelope(otherTalker(rateHz, ms), rateHz), heard, 10, 5);
        return { codec, rateHz, c, call, qos, own, other };
      }),
    );
    for (const { codec, c, call, qos, own, other } of results) {
      expect(call, codec).toMatchObject({ transport: 'stream', agent: 'loopback' });
      const why = `${codec}: envelope similarity ${own.toFixed(2)}, another talker's ${other.toFixed(2)}; QoS ${JSON.stringify(qos['jitter'])}`;
      expect(own, why).toBeGreaterThan(0.75);
      expect(own, why).toBeGreaterThan(other + 0.2);
      // The server marked every frame, and the client's echoes came back to the leg.
      expect(c.events.filter((e) => e.event === 'mark').length, codec).toBeGreaterThanOrEqual(c.framesReceived - 1);
      expect(qos['stream']!['badMessages'], codec).toBe(0);
      expect(qos['stream']!['framesIn'], codec).toBe(60);
      expect(qos['stream']!['sequenceGaps'], codec).toBe(0);
      expect(qos['stream']!['heardMs'], codec).toBeGreaterThan(0);
      // Frames come back 20 ms apart on the agent's clock (silence skipped keeps its time).
      const steps = c.timestampsMs.slice(1).map((t, i) => (t - c.timestampsMs[i]!) >>> 0);
      expect(steps.every((d) => d > 0 && d % 20 === 0), codec).toBe(true);
    }
    // stop from the client ended every call.
    await expect.poll(() => rt.sup.listCalls().length, within(2000, 'the calls ending')).toBe(0);
  }, 20_000);
});
