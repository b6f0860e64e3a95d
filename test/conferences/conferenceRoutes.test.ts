import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { mixerKind } from '../../src/actors/mixer/kind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { twilioKind } from '../../src/actors/twilio/kind.ts';
import { streamKind } from '../../src/actors/stream/kind.ts';
import { StreamClient } from '../../src/cli/StreamClient.ts';
import { loadConfig } from '../../src/config.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import { streamTransport } from '../../src/legs/stream/streamTransport.ts';
import { twilioTransport } from '../../src/legs/twilio/twilioTransport.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { within } from '../helpers/poll.ts';
import { sleep, TestPeer } from '../helpers/rtpPeer.ts';
import { speech } from '../helpers/fixtures.ts';
import { fitTone, rms } from '../helpers/spectral.ts';
import { ulawDecodeSample, ulawEncodeSample } from '../peers/g711.ts';
import { TwilioClient } from '../peers/TwilioClient.ts';

/**
 * The conference routes on the real HTTP server, with members of two kinds:
 * an RTP peer (joined by `POST /v1/calls {…, conference}`) and a raw audio
 * stream (`WS /v1/stream`, joined by its `start`) at 16 kHz, so the
 * conference mixes at 16 kHz and resamples the RTP member at its edges.
 * Then hostile requests on every route while they talk: each gets a clear
 * 4xx, is counted in /metrics, and the RTP member's audio never stops.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const PORT_MIN = 36_000 + 2 * ((process.pid * 7) % 1000);
const RTP_TONE = 440;
/** The stream member talks (speech, looped), so its VAD says it is talking; the RTP member sends a tone. */
const TALK = speech('synth-m-16k').samples;

let sup: Supervisor;
let http: HttpServer;
let base = '';
let peer: TestPeer;
let stream: StreamClient;
let streamSending: Promise<void>;
let sender: NodeJS.Timeout | undefined;
let conference = '';
let rtpCall = '';
let streamCall = '';

async function api(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method,
    ...(body !== undefined || raw !== undefined ? { body: raw ?? JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

beforeAll(async () => {
  const { log } = memoryLogger();
  const config = loadConfig({ argv: ['--port', '0'], env: {}, cwd: FIXTURES });
  sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    placement: 'call',
    logLevel: 'warn',
    log,
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind, stream: streamKind, twilio: twilioKind, mixer: mixerKind },
    transports: [
      rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 1 }),
      streamTransport({ agents: { defaultAgent: config.agent.default } }),
      twilioTransport({ agents: { defaultAgent: config.agent.default } }),
    ],
  });
  await sup.start();
  http = createHttpServer(sup, config, log, { streamStartTimeoutMs: 1000 });
  base = `http://127.0.0.1:${(await http.listen()).port}`;

  const created = await api('POST', '/v1/conferences', { rateHz: 8000 });
  expect(created.status).toBe(201);
  conference = created.json['id'] as string;
  peer = await TestPeer.create();
  const call = await api('POST', '/v1/calls', { transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'echo', conference });
  expect(call.status).toBe(201);
  rtpCall = call.json['id'] as string;
  const localPort = (call.json['rtp'] as { localPort: number }).localPort;
  let seq = 0;
  const payload = new Uint8Array(160);
  sender = setInterval(() => {
    const w = (2 * Math.PI * RTP_TONE) / 8000;
    for (let k = 0; k < 160; k++) payload[k] = ulawEncodeSample(Math.round(3000 * Math.sin(w * (seq * 160 + k))));
    peer.send(serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x4321, csrc: [], paddingLength: 0, payload }), localPort);
    seq++;
  }, 20);

  stream = new StreamClient({ url: `ws://${base.slice('http://'.length)}/v1/stream`, codec: 'l16', rateHz: 16000, agent: 'loopback', conference });
  streamCall = await stream.connect();
  const pcm = new Int16Array(16000 * 8);
  for (let i = 0; i < pcm.length; i++) pcm[i] = TALK[i % TALK.length]!;
  streamSending = stream.sendAudio(pcm);
}, 30_000);

afterAll(async () => {
  clearInterval(sender);
  stream?.abort();
  await streamSending?.catch(() => undefined);
  await http?.close();
  await sup?.stop();
  peer?.close();
});

/** The last `n` samples the RTP peer received, decoded. */
function rtpHeard(n: number): Int16Array {
  const got = peer.received.slice(-Math.ceil(n / 160));
  const out = new Int16Array(got.length * 160);
  got.forEach((p, j) => p.payload.forEach((b, k) => (out[j * 160 + k] = ulawDecodeSample(b))));
  return out;
}

/** HTTP 4xx answers on conference routes and the bad input counted, from /metrics. */
async function counted(): Promise<{ refused: number; badInput: number }> {
  const text = await (await fetch(base + '/metrics')).text();
  let refused = 0;
  let badInput = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null) continue;
    if (m[1] === 'switchboard_http_requests_total' && /route="\/v1\/conferences/.test(m[2]!) && /status="4/.test(m[2]!)) refused += Number(m[3]);
    if (m[1] === 'switchboard_bad_input_total' && /source="http"/.test(m[2]!)) badInput += Number(m[3]);
  }
  return { refused, badInput };
}

describe('conferences over HTTP, with an RTP member and a raw stream member', () => {
  it('each member hears the other and never itself, mixed at the highest member rate; GET shows levels and talk state', async () => {
    await expect.poll(() => peer.received.length, within(5000, 'the RTP member hears the mix')).toBeGreaterThan(60);
    await sleep(500);
    const atPeer = rtpHeard(8000);
    expect(rms(atPeer)).toBeGreaterThan(300); // the talker
    expect(fitTone(atPeer, RTP_TONE, 8000).amplitude).toBeLessThan(300); // not itself (sent at 3000; speech has some energy at 440 Hz)
    const atStream = stream.heard().subarray(-8000);
    // Fitted frame by frame: the jitter buffer's playout adapts by stretching, so the tone's phase may jump between frames.
    const fits = Array.from({ length: 25 }, (_, f) => fitTone(atStream, RTP_TONE, 16000, f * 320, f * 320 + 320));
    const median = (v: number[]): number => v.sort((p, q) => p - q)[v.length >> 1]!;
    expect(median(fits.map((t) => t.amplitude))).toBeGreaterThan(2400); // the RTP member's tone, resampled 8 → 16 kHz
    expect(median(fits.map((t) => t.residualRms))).toBeLessThan(300); // and nothing of its own speech

    const got = await api('GET', `/v1/conferences/${conference}`);
    expect(got.status).toBe(200);
    expect(got.json['rateHz']).toBe(16000);
    const members = got.json['members'] as Array<{ call: string; rateHz: number; talking: boolean; levelDbfs: number }>;
    expect(members.map((m) => [m.call, m.rateHz]).sort()).toEqual([[rtpCall, 8000], [streamCall, 16000]].sort());
    for (const m of members) expect(m.levelDbfs).toBeGreaterThan(-40);
    await expect.poll(async () => ((await api('GET', `/v1/conferences/${conference}`)).json['members'] as typeof members).find((m) => m.call === streamCall)?.talking, within(3000, 'the talker talking')).toBe(true);
    const status = (await api('GET', '/status')).json;
    expect((status['conferences'] as Array<{ id: string }>).map((c) => c.id)).toContain(conference);
    const metrics = await (await fetch(base + '/metrics')).text();
    const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect([gauge('switchboard_conferences_live'), gauge('switchboard_conference_members')]).toEqual([1, 2]);
    expect(gauge('switchboard_conference_members_talking')).toBeGreaterThanOrEqual(1);
    expect(gauge('switchboard_conference_member_frames_in')).toBeGreaterThan(50);
    expect(metrics).not.toMatch(/switchboard_conference_member_level_dbfs\{/); // per-member series only with metrics.perCallSeries
  });

  it('refuses hostile requests on every route with a clear 4xx, counts them, and the members keep their audio', async () => {
    const other = (await api('POST', '/v1/conferences', {})).json['id'] as string;
    const before = await counted();
    const packetsBefore = peer.received.length;
    const t0 = performance.now();
    const huge = 'é'.repeat(40_000);
    const c = `/v1/conferences/${conference}`;
    const cases: Array<[string, string, unknown, string | undefined, number]> = [
      ['POST', '/v1/conferences', { rateHz: 12345 }, undefined, 422],
      ['POST', '/v1/conferences', { rateHz: '48000' }, undefined, 422],
      ['POST', '/v1/conferences', { ducking: { depthDb: 1e9 } }, undefined, 422],
      ['POST', '/v1/conferences', { record: 'yes', '😀': 1 }, undefined, 422],
      ['POST', '/v1/conferences', undefined, '[1,2', 400],
      ['POST', '/v1/conferences', undefined, JSON.stringify({ rateHz: 8000, pad: huge }), 413],
      ['GET', `/v1/conferences/${encodeURIComponent('😀'.repeat(300))}`, undefined, undefined, 404],
      ['DELETE', '/v1/conferences/no-such-conference', undefined, undefined, 404],
      ['POST', '/v1/conferences/no-such-conference/members', { call: rtpCall }, undefined, 404],
      ['POST', `${c}/members`, { call: 'no-such-call' }, undefined, 404],
      ['POST', `/v1/conferences/${other}/members`, { call: rtpCall }, undefined, 409],
      ['POST', `${c}/members`, { call: streamCall }, undefined, 409],
      ['POST', `${c}/members`, { call: 5 }, undefined, 422],
      ['POST', `${c}/members`, { call: rtpCall, gain: 1e308 }, undefined, 422],
      ['POST', `${c}/members`, { call: rtpCall, gain: -1 }, undefined, 422],
      ['POST', `${c}/members`, undefined, `{"call":"${rtpCall}","gain":NaN}`, 400],
      ['POST', `${c}/members`, { call: rtpCall, muted: 'yes' }, undefined, 422],
      ['POST', `${c}/members`, undefined, undefined, 400],
      ['PATCH', `${c}/members/${rtpCall}`, {}, undefined, 422],
      ['PATCH', `${c}/members/${rtpCall}`, { gain: 'loud' }, undefined, 422],
      ['PATCH', `${c}/members/${rtpCall}`, { gain: Number.MAX_VALUE }, undefined, 422],
      ['PATCH', `${c}/members/no-such-call`, { gain: 1 }, undefined, 404],
      ['DELETE', `${c}/members/${encodeURIComponent(huge.slice(0, 500))}`, undefined, undefined, 404],
    ];
    for (const [method, path, body, raw, status] of cases) {
      const r = await api(method, path, body, raw);
      expect(r.status, `${method} ${path.slice(0, 80)} ${raw?.slice(0, 40) ?? JSON.stringify(body)?.slice(0, 60)}`).toBe(status);
      const error = r.json['error'] as { message?: string } | undefined;
      expect(typeof error?.message).toBe('string');
      expect(error!.message!.length).toBeLessThan(1000);
    }
    // A flood of bad joins at once: every one refused, nothing else changes.
    const flood = await Promise.all(Array.from({ length: 100 }, () => api('POST', `${c}/members`, { call: 'x'.repeat(300) })));
    expect(flood.every((r) => r.status === 422)).toBe(true);
    // Deleting twice: the second is a 404; the other conference is untouched by it all.
    expect((await api('DELETE', `/v1/conferences/${other}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/conferences/${other}`)).status).toBe(404);

    const after = await counted();
    expect(after.refused - before.refused).toBe(cases.length + flood.length + 1);
    expect(after.badInput).toBeGreaterThan(before.badInput);
    const got = (await api('GET', c)).json;
    expect((got['members'] as Array<{ call: string; gain: number; muted: boolean }>).map((m) => [m.call, m.gain, m.muted]).sort()).toEqual(
      [[rtpCall, 1, false], [streamCall, 1, false]].sort(),
    );
    // The RTP member was sent a frame every 20 ms meanwhile (within a few, for a shared machine's timers).
    const due = (performance.now() - t0) / 20;
    expect(peer.received.length - packetsBefore).toBeGreaterThan(due * 0.9 - 5);
  });

  it('patches a member, removes it (its call gets its agent back) and deletes the conference; twice is a 404', async () => {
    const c = `/v1/conferences/${conference}`;
    const patched = await api('PATCH', `${c}/members/${streamCall}`, { gain: 0.5, muted: true });
    expect(patched.status).toBe(200);
    expect([patched.json['gain'], patched.json['muted']]).toEqual([0.5, true]);
    expect((await api('DELETE', `${c}/members/${rtpCall}`)).status).toBe(204);
    expect((await api('DELETE', `${c}/members/${rtpCall}`)).status).toBe(404);
    const call = (await api('GET', `/v1/calls/${rtpCall}`)).json;
    expect(call['conference']).toBeUndefined();
    expect((await api('DELETE', c)).status).toBe(204);
    expect((await api('DELETE', c)).status).toBe(404);
    expect(((await api('GET', '/v1/conferences')).json['conferences'] as unknown[]).length).toBe(0);
    // The stream call outlives its conference, with its agent back: the loopback agent returns its speech,
    // on a timeline that goes on from the conference's (heard() places frames by their timestamps).
    const heardBefore = stream.heard().length;
    await sleep(600);
    const atStream = stream.heard().subarray(heardBefore);
    expect(atStream.length).toBeGreaterThan(16000 * 0.3);
    expect(atStream.length).toBeLessThan(16000 * 2);
    expect(rms(atStream)).toBeGreaterThan(300);
  });

  it('takes a Twilio Media Stream as a member by its conference parameter: it and the RTP member hear each other', async () => {
    const created = await api('POST', '/v1/conferences', {});
    const c = created.json['id'] as string;
    expect((await api('POST', `/v1/conferences/${c}/members`, { call: rtpCall })).status).toBe(201);
    const tone = new Uint8Array(8000 * 4);
    for (let k = 0; k < tone.length; k++) tone[k] = ulawEncodeSample(Math.round(3000 * Math.sin((2 * Math.PI * 1000 * k) / 8000)));
    const twilio = new TwilioClient({ url: `ws://${base.slice('http://'.length)}/twilio/media`, customParameters: { conference: c }, audio: tone });
    try {
      await twilio.connect();
      await expect.poll(async () => ((await api('GET', `/v1/conferences/${c}`)).json['members'] as unknown[]).length, within(3000, 'the Twilio member')).toBe(2);
      const from = peer.received.length;
      const played = twilio.played.length;
      await sleep(800);
      const atPeer = rtpHeard((peer.received.length - from) * 160);
      const fits = (x: Int16Array, f: number): number[] =>
        Array.from({ length: Math.floor(x.length / 160) - 5 }, (_, k) => fitTone(x, f, 8000, (k + 5) * 160, (k + 6) * 160).amplitude).sort((p, q) => p - q);
      expect(fits(atPeer, 1000)[fits(atPeer, 1000).length >> 1]).toBeGreaterThan(2400); // the Twilio member's tone
      const atTwilio = Int16Array.from(twilio.played.slice(played), (b) => ulawDecodeSample(b));
      expect(fits(atTwilio, RTP_TONE)[fits(atTwilio, RTP_TONE).length >> 1]).toBeGreaterThan(2400); // the RTP member's tone
      expect(fits(atTwilio, 1000)[fits(atTwilio, 1000).length >> 1]).toBeLessThan(300); // never itself
    } finally {
      twilio.abort();
    }
    expect((await api('DELETE', `/v1/conferences/${c}`)).status).toBe(204);
  });
});
