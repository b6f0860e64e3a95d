import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ulawDecode } from '../../src/dsp/g711.ts';
import { twilioSignatureFor } from '../../src/wire/twilioSignature.ts';
import { TwilioClient, ulawSpeech } from '../peers/TwilioClient.ts';
import { within } from '../helpers/poll.ts';
import { startTwilioRuntime, type TwilioRuntime } from '../helpers/twilioRuntime.ts';

/**
 * Twilio calls end to end: the Media Streams peer ↔ the daemon's HTTP server
 * (WS /twilio/media, main thread) ↔ jitter, agent and Twilio-leg actors on
 * their workers. Real sockets, real workers, real time.
 */
let rt: TwilioRuntime | undefined;
const peers: TwilioClient[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.abort();
  await rt?.stop();
  rt = undefined;
});

const SILENCE = 0xff;
const TOKEN = 'twilio-auth-token-for-tests-0123';

/** `speechMs` of speech then silence up to `totalMs`, as the caller's µ-law. */
function turnAudio(speechMs: number, totalMs: number): Uint8Array {
  const audio = new Uint8Array(totalMs * 8).fill(SILENCE);
  audio.set(ulawSpeech('synth-m-8k', speechMs));
  return audio;
}

function peer(opts: ConstructorParameters<typeof TwilioClient>[0]): TwilioClient {
  const p = new TwilioClient(opts);
  peers.push(p);
  return p;
}

/** Non-silent µ-law bytes: what the caller heard of the agent. */
const voiced = (bytes: readonly number[]): number => bytes.filter((b) => b !== SILENCE && b !== 0x7f).length;

async function badInputCount(rt: TwilioRuntime, reason?: string): Promise<number> {
  const metric = await rt.sup.metrics.getSingleMetric('switchboard_bad_input_total')!.get();
  return metric.values
    .filter((v) => v.labels['source'] === 'twilio' && (reason === undefined || v.labels['reason'] === reason))
    .reduce((a, v) => a + v.value, 0);
}

/**
 * Envelope correlation of two 8 kHz signals in 20 ms frames, best over lags up to ±maxLag frames,
 * or at the one lag `atLag` (frames) when it is given.
 */
function envelopeCorrelation(a: Int16Array, b: Int16Array, maxLag = 25, atLag?: number): { r: number; lag: number } {
  const env = (x: Int16Array): number[] => {
    const out: number[] = [];
    for (let i = 0; i + 160 <= x.length; i += 160) {
      let e = 0;
      for (let k = 0; k < 160; k++) e += Math.abs(x[i + k]!);
      out.push(e / 160);
    }
    return out;
  };
  const ea = env(a);
  const eb = env(b);
  let best = -1;
  let bestLag = 0;
  for (let lag = atLag ?? -maxLag; lag <= (atLag ?? maxLag); lag++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < ea.length; i++) {
      const j = i + lag;
      if (j >= 0 && j < eb.length) {
        xs.push(ea[i]!);
        ys.push(eb[j]!);
      }
    }
    const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
    const my = ys.reduce((s, v) => s + v, 0) / ys.length;
    let num = 0;
    let dx = 0;
    let dy = 0;
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i]! - mx) * (ys[i]! - my);
      dx += (xs[i]! - mx) ** 2;
      dy += (ys[i]! - my) ** 2;
    }
    const r = num / Math.sqrt(dx * dy);
    if (r > best) {
      best = r;
      bestLag = lag;
    }
  }
  return { r: best, lag: bestLag };
}

describe('a Twilio call through the daemon', () => {
  it('echo: the caller hears their turn back, paced in 20 ms chunks with a mark after each, and the call ends on stop', async () => {
    rt = await startTwilioRuntime();
    const speechMs = 1200;
    const p = peer({ url: rt.mediaUrl, audio: turnAudio(speechMs, 3000), afterAudio: 'silence', customParameters: { agent: 'echo' } });
    await p.connect();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the call')).toBe(1);
    const call = rt.sup.listCalls()[0]!;
    expect(call).toMatchObject({ transport: 'twilio', agent: 'echo', twilio: { streamSid: p.streamSid, callSid: p.callSid } });
    await expect.poll(() => voiced(p.played) >= speechMs * 8 * 0.8 && p.queuedBytes() === 0, within(8000, 'the echo')).toBe(true);

    // What came back is the caller's own speech.
    const sent = new Int16Array(speechMs * 8);
    ulawDecode(ulawSpeech('synth-m-8k', speechMs), sent);
    const heard = new Int16Array(p.played.length);
    ulawDecode(Uint8Array.from(p.played), heard);
    const start = p.played.findIndex((b) => b !== SILENCE);
    // (The jitter buffer may time-stretch while it settles, which blurs the envelope a little;
    // another talker's speech scores about 0.3.)
    const tail = heard.subarray(Math.max(0, start - 800));
    const other = new Int16Array(speechMs * 8);
    ulawDecode(ulawSpeech('synth-f-8k', speechMs), other);
    const own = envelopeCorrelation(sent, tail);
    expect(own.r).toBeGreaterThan(0.75);
    // Another talker is scored where the echo is (the lag found for the caller's own speech): its
    // best over all 51 lags would pick a chance alignment (0.37–0.63 measured) rather than measure it.
    const otherAtEcho = envelopeCorrelation(other, tail, 25, own.lag).r;
    expect(own.r).toBeGreaterThan(otherAtEcho + 0.3);

    // Every media message is one 20 ms chunk, and marks follow them.
    const out = p.received.map((r) => JSON.parse(r.text) as { event: string; media?: { payload: string } });
    const media = out.filter((m) => m.event === 'media');
    expect(media.length).toBeGreaterThan(0);
    for (const m of media) expect(Buffer.from(m.media!.payload, 'base64').length).toBe(160);
    expect(out.filter((m) => m.event === 'mark').length).toBe(media.length);
    expect(p.warnings).toEqual([]);
    // The leg knows what the caller heard from the echoes.
    const qos = rt.sup.callQos(call.id);
    expect(qos['twilio']!['heardMs']).toBeGreaterThanOrEqual(voiced(p.played) / 8 - 100);
    expect(qos['twilio']!['badMessages']).toBe(0);
    expect(qos['twilio']!['mediaIn']).toBeGreaterThan(100);
    // A clean call over loopback rates as toll quality (no loss, a short buffer).
    expect(qos['call']!['lossPct']).toBe(0);
    expect(qos['call']!['mos']).toBeGreaterThan(4.1);

    p.hangup();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'hang-up')).toBe(0);
    expect(rt.sup.actorStatuses()).toEqual([]);
  }, 20_000);

  it('a gap in media timestamps is concealed by the jitter/PLC actor and sequence gaps are counted', async () => {
    rt = await startTwilioRuntime();
    // Sequence numbers 1 and 2 are connected/start's; skip media in the middle of speech.
    const skip = new Set([40, 41, 42, 60]);
    const p = peer({ url: rt.mediaUrl, audio: turnAudio(1500, 2000), afterAudio: 'silence', skipSequence: skip });
    await p.connect();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the call')).toBe(1);
    const id = rt.sup.listCalls()[0]!.id;
    const concealed = (): boolean =>
      (rt!.sup.callQos(id)['jitter']?.['concealmentEvents'] ?? 0) >= 2 && rt!.sup.callQos(id)['twilio']?.['sequenceGaps'] === 4;
    await expect.poll(concealed, within(4000, 'concealment')).toBe(true);
    const qos = rt.sup.callQos(id);
    expect(qos['twilio']!['sequenceGaps']).toBe(4);
    expect(qos['twilio']!['timestampGapMs']).toBe(80);
    expect(qos['jitter']!['packetsLost']).toBeGreaterThanOrEqual(3);
    expect(qos['call']!['lossPct']).toBeGreaterThan(0);
  }, 15_000);

  it("the caller's DTMF shows as events on the call", async () => {
    rt = await startTwilioRuntime();
    const p = peer({ url: rt.mediaUrl, audio: turnAudio(0, 1000), afterAudio: 'silence' });
    await p.connect();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the call')).toBe(1);
    p.sendDtmf('5');
    p.sendDtmf('#');
    await expect.poll(() => (rt!.sup.listCalls()[0]!.events ?? []).length, within(2000, 'the digits')).toBe(2);
    expect(rt.sup.listCalls()[0]!.events!.map((e) => e.data['digit'])).toEqual(['5', '#']);
    expect(rt.sup.callQos(rt.sup.listCalls()[0]!.id)['twilio']!['dtmfIn']).toBe(2);
  }, 10_000);

  it('malformed messages are dropped and counted; the call keeps its audio', async () => {
    rt = await startTwilioRuntime();
    const p = peer({ url: rt.mediaUrl, audio: turnAudio(1000, 4000), afterAudio: 'silence' });
    await p.connect();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the call')).toBe(1);
    const sid = p.streamSid;
    p.sendRaw('{"event":"media", oops');
    p.sendRaw(JSON.stringify({ event: 'media', sequenceNumber: '9999', streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '@@not base64@@' } }));
    p.sendRaw(JSON.stringify({ event: 'surprise', streamSid: sid }));
    p.sendRaw('[1,2,3]');
    p.sendRaw(Buffer.from([1, 2, 3]));
    p.sendRaw(JSON.stringify({ event: 'media', streamSid: sid, pad: 'x'.repeat(100_000) }));
    p.sendRaw(JSON.stringify({ event: 'mark', sequenceNumber: '9998', streamSid: sid, mark: { name: 'not-one-of-ours' } }));
    p.sendRaw(JSON.stringify({ event: 'media', sequenceNumber: '9997', streamSid: 'MZ-someone-else', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '' } }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await badInputCount(rt, 'bad-json')).toBe(1);
    expect(await badInputCount(rt, 'bad-base64')).toBe(1);
    expect(await badInputCount(rt, 'unknown-event')).toBe(1);
    expect(await badInputCount(rt, 'not-object')).toBe(1);
    expect(await badInputCount(rt, 'binary-frame')).toBe(1);
    expect(await badInputCount(rt, 'oversized')).toBe(1);
    expect(await badInputCount(rt, 'wrong-stream')).toBe(1);
    const id = rt.sup.listCalls()[0]!.id;
    expect(rt.sup.callQos(id)['twilio']!['marksUnknown']).toBe(1);
    // Still the same call, and the echo of the turn still comes back.
    await expect.poll(() => voiced(p.played), within(8000, 'the echo')).toBeGreaterThanOrEqual(1000 * 8 * 0.8);
    expect(rt.sup.listCalls().map((c) => c.id)).toEqual([id]);
  }, 15_000);

  it('an abrupt close or a silent (half-open) stream ends only its own call; the other call keeps playing', async () => {
    rt = await startTwilioRuntime({ argv: ['--twilio.idle-timeout-ms', '400'] });
    const a = peer({ url: rt.mediaUrl, audio: turnAudio(0, 1000), afterAudio: 'silence', streamSid: 'MZ' + 'a'.repeat(32) });
    const b = peer({ url: rt.mediaUrl, audio: turnAudio(0, 1000), afterAudio: 'silence', streamSid: 'MZ' + 'b'.repeat(32) });
    const c = peer({ url: rt.mediaUrl, audio: turnAudio(2000, 6000), afterAudio: 'silence', streamSid: 'MZ' + 'c'.repeat(32), customParameters: { agent: 'loopback' } });
    await Promise.all([a.connect(), b.connect(), c.connect()]);
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'three calls')).toBe(3);
    const callOf = (sid: string) => rt!.sup.listCalls().find((x) => (x['twilio'] as { streamSid: string }).streamSid === sid);
    const cId = callOf(c.streamSid)!.id;
    a.abort();
    b.goHalfOpen();
    await expect.poll(() => rt!.sup.listCalls().length, within(3000, 'the two calls to end')).toBe(1);
    expect(callOf(c.streamSid)?.id).toBe(cId);
    // The loopback call heard its audio without a gap: concealment only where nothing was lost.
    const before = voiced(c.played);
    await expect.poll(() => voiced(c.played), within(4000, 'more loopback audio')).toBeGreaterThan(before + 4000);
    expect(rt.sup.callQos(cId)['jitter']!['packetsLost']).toBe(0);
    expect((await b.closed).code).toBe(1006);
  }, 20_000);

  it('calls cannot be made through POST /v1/calls; the webhook and the upgrade answer 403 without a valid signature', async () => {
    rt = await startTwilioRuntime({ env: { TWILIO_AUTH_TOKEN: TOKEN } });
    const made = await fetch(`${rt.base}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transport: 'twilio', session: {} }) });
    expect(made.status).toBe(422);
    expect(await made.text()).toContain('Twilio Media Streams');

    const fields = { CallSid: 'CA' + '9'.repeat(32), From: '+15550001111', To: '+15550002222' };
    const form = new URLSearchParams(fields).toString();
    const hookUrl = `https://127.0.0.1:${rt.port}/twilio/voice?agent=loopback`;
    const post = (signature?: string) =>
      fetch(`${rt!.base}/twilio/voice?agent=loopback`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
        body: form,
      });
    expect((await post()).status).toBe(403);
    expect((await post(twilioSignatureFor('another-token', hookUrl, fields))).status).toBe(403);
    const ok = await post(twilioSignatureFor(TOKEN, hookUrl, fields));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/xml');
    const twiml = await ok.text();
    expect(twiml).toContain(`<Stream url="wss://127.0.0.1:${rt.port}/twilio/media">`);
    expect(twiml).toContain('<Parameter name="agent" value="loopback"/>');
    expect(twiml).toContain(`<Parameter name="CallSid" value="${fields.CallSid}"/>`);
    expect(await badInputCount(rt).catch(() => 0)).toBe(0);

    const unsigned = peer({ url: rt.mediaUrl });
    await expect(unsigned.connect()).rejects.toThrow(/status:403/);
    const wrong = peer({ url: rt.mediaUrl, authToken: 'another-token', signatureUrl: `wss://127.0.0.1:${rt.port}/twilio/media` });
    await expect(wrong.connect()).rejects.toThrow(/status:403/);
    expect(await badInputCount(rt, 'bad-signature')).toBe(2);
    const signed = peer({ url: rt.mediaUrl, authToken: TOKEN, signatureUrl: `wss://127.0.0.1:${rt.port}/twilio/media`, audio: turnAudio(0, 500), afterAudio: 'silence' });
    await signed.connect();
    await expect.poll(() => rt!.sup.listCalls().length, within(2000, 'the signed call')).toBe(1);

    // Other WebSocket paths are refused.
    const other = new WebSocket(`ws://127.0.0.1:${rt.port}/v1/nothing`);
    const status = await new Promise<number>((resolve) => other.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  }, 15_000);

  it('a stream that asks for an unknown agent, or openai without OPENAI_API_KEY, is closed with 1011 and leaves nothing behind', async () => {
    rt = await startTwilioRuntime();
    const unknown = peer({ url: rt.mediaUrl, audio: turnAudio(0, 500), afterAudio: 'silence', customParameters: { agent: 'parrot' } });
    await unknown.connect();
    const closed = await unknown.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toContain('agent');
    const keyless = peer({ url: rt.mediaUrl, audio: turnAudio(0, 500), afterAudio: 'silence', customParameters: { agent: 'openai' } });
    await keyless.connect();
    const closed2 = await keyless.closed;
    expect(closed2.code).toBe(1011);
    expect(closed2.reason).toContain('OPENAI_API_KEY');
    expect(rt.sup.listCalls()).toEqual([]);
    expect(rt.sup.actorStatuses()).toEqual([]);
  }, 10_000);

  it('while draining, a new stream is refused with close code 1013 and the webhook answers 503', async () => {
    rt = await startTwilioRuntime();
    void rt.sup.drain(1000);
    const p = peer({ url: rt.mediaUrl, audio: turnAudio(0, 500), afterAudio: 'silence' });
    await p.connect();
    expect((await p.closed).code).toBe(1013);
    const hook = await fetch(`${rt.base}/twilio/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'CallSid=CA1' });
    expect(hook.status).toBe(503);
  }, 10_000);
});
