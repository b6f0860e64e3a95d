import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { loadConfig } from '../../src/config.ts';
import { ulawDecode, ulawEncode } from '../../src/dsp/g711.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import { PostCallJobs, queuedJob } from '../../src/recording/PostCallJobs.ts';
import { Recorder } from '../../src/recording/Recorder.ts';
import { registerRecordingMetrics } from '../../src/recording/RecordingCounters.ts';
import type { RecordingInfo } from '../../src/recording/RecordingInfo.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { decodeOggOpus } from '../../src/wire/oggOpus.ts';
import { readWav } from '../../src/wire/wav.ts';
import { speech } from '../helpers/fixtures.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { segmentedCorrelation, TestPeer, until } from '../helpers/rtpPeer.ts';

/**
 * A recorded RTP call end to end, on a real supervisor (call workers), real
 * UDP, the real writer thread and piscina pool, and real HTTP: the WAV's two
 * channels are sample-aligned (the loopback agent sends back each caller
 * frame in the tick it was played, so the agent channel must equal the
 * caller channel sample for sample), the post-call jobs make Ogg Opus, MP3
 * and the report, the routes serve them with Range, refuse hostile ids and
 * headers, and retention deletes what is old.
 */

const PORT_MIN = 36_000 + 2 * ((process.pid * 11) % 800);
const DAY_MS = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'recordings-'));
let clock = Date.now();
let sup: Supervisor;
let recorder: Recorder;
let http: HttpServer;
let base: string;
const peers: TestPeer[] = [];

beforeAll(async () => {
  const { log } = memoryLogger();
  recorder = new Recorder({ dir, retentionDays: 30, maxActive: 4, jobs: ['opus', 'mp3', 'report'], jobThreads: 1, jobQueue: 10, log, now: () => clock });
  sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    placement: 'call',
    logLevel: 'warn',
    log,
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind },
    transports: [rtpTransport({ portMin: PORT_MIN, portMax: PORT_MIN + 20, rtcpMinIntervalS: 1 })],
    recorder,
  });
  registerRecordingMetrics(sup.metrics, recorder);
  await sup.start();
  http = createHttpServer(sup, loadConfig({ argv: ['--port', '0'], env: {}, cwd: '/' }), log);
  base = `http://127.0.0.1:${(await http.listen()).port}`;
});
afterAll(async () => {
  await http?.close();
  await sup?.stop();
  for (const p of peers.splice(0)) p.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: unknown): Promise<Response> =>
  fetch(`${base}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A recorded loopback call that hears `seconds` of speech at real-time pace, then hangs up; its recording once closed. */
async function recordedCall(seconds: number): Promise<{ info: RecordingInfo; sent: Int16Array; callId: string }> {
  const peer = await TestPeer.create();
  peers.push(peer);
  const res = await post({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback', record: true });
  expect(res.status).toBe(201);
  const call = (await res.json()) as { id: string; rtp: { localPort: number }; recording: { id: string } };
  const id = call.recording.id;

  const { samples } = speech('synth-m-8k');
  const packets = Math.round(seconds * 50);
  const sent = new Int16Array(packets * 160);
  const codes = new Uint8Array(160);
  const t0 = performance.now();
  for (let k = 0; k < packets; k++) {
    ulawEncode(samples.subarray(k * 160, k * 160 + 160), codes);
    ulawDecode(codes, sent.subarray(k * 160, k * 160 + 160));
    peer.sendRtp({ payloadType: 0, sequenceNumber: k, timestamp: k * 160, marker: k === 0, payload: codes }, call.rtp.localPort);
    const wait = t0 + 20 * (k + 1) - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 200));
  const live = await fetch(`${base}/v1/recordings/${id}`);
  expect(((await live.json()) as RecordingInfo).state).toBe('recording');
  expect((await fetch(`${base}/v1/recordings/${id}`, { method: 'DELETE' })).status).toBe(409);
  expect((await fetch(`${base}/v1/calls/${call.id}`, { method: 'DELETE' })).status).toBe(204);
  await until(() => recorder.store.get(id)?.state !== 'recording', 5000, 'the recording to close');
  await recorder.settled(id);
  return { info: recorder.store.get(id)!, sent, callId: call.id };
}

describe('a recorded call', () => {
  let first: Awaited<ReturnType<typeof recordedCall>>;

  it('writes two sample-aligned channels, caller left and agent right, then transcodes and reports', async () => {
    first = await recordedCall(1.2);
    const { info, sent } = first;
    expect(info).toMatchObject({ state: 'complete', rateHz: 8000, channels: ['caller', 'agent'] });
    expect(info.figures.droppedFrames).toBe(0);
    const wav = readWav(new Uint8Array(readFileSync(join(dir, `${info.id}.wav`))));
    expect(wav.channels).toBe(2);
    const n = wav.samples.length / 2;
    expect(n / 8000).toBeGreaterThan(1.2);
    expect(info.durationS).toBeCloseTo(n / 8000, 3);
    const left = new Int16Array(n);
    const right = new Int16Array(n);
    for (let i = 0; i < n; i++) [left[i], right[i]] = [wav.samples[2 * i]!, wav.samples[2 * i + 1]!];
    // The caller channel is what was sent, behind the jitter buffer's delay (and its time-stretching: the bound RtpLeg.test.ts holds the same path to).
    expect(segmentedCorrelation(sent, left, 400, 8000)).toBeGreaterThanOrEqual(0.9);
    // The agent channel is the same audio in the same place, to the sample.
    let energy = 0;
    for (let i = 0; i < n; i++) energy += Math.abs(right[i]!);
    expect(energy / n).toBeGreaterThan(100);
    // Up to the hang-up: the jitter actor may play one last frame whose reply the agent never made (its actor went
    // first), so that frame of the agent channel is the caller's or silence, nothing else.
    const cut = n - 160;
    expect(right.subarray(0, cut)).toEqual(left.subarray(0, cut));
    const lastRight = right.subarray(cut);
    if (lastRight.some((v) => v !== 0)) expect(lastRight).toEqual(left.subarray(cut));

    expect(info.jobs).toMatchObject({ opus: { state: 'done', attempts: 1 }, mp3: { state: 'done', attempts: 1 }, report: { state: 'done' } });
    const opus = decodeOggOpus(new Uint8Array(readFileSync(join(dir, `${info.id}.opus`))));
    expect(opus.samples.length / 48000).toBeCloseTo(info.durationS, 1);
    const mp3 = readFileSync(join(dir, `${info.id}.mp3`));
    expect(mp3.length).toBe(info.files.mp3);
    // An MPEG audio frame sync (11 set bits) opens the stream; 24 kbit/s for the call's length, give or take framing.
    expect(mp3[0]).toBe(0xff);
    expect(mp3[1]! & 0xe0).toBe(0xe0);
    expect(mp3.length).toBeGreaterThan((24_000 / 8) * info.durationS * 0.7);
    expect(mp3.length).toBeLessThan((24_000 / 8) * info.durationS * 1.5);

    const r = info.report!;
    expect(r.speechRatio).toBeGreaterThan(0.3);
    expect(r.levelDbfs).toBeGreaterThan(-45);
    expect(r.levelDbfs).toBeLessThan(-3);
    expect(r.speechLevelDbfs).toBeGreaterThan(r.levelDbfs);
    expect(r.clippingRatio).toBe(0);
    expect(r.concealmentRatio).toBeGreaterThanOrEqual(0);
    expect(r.concealmentRatio).toBeLessThan(0.5);
    expect(r.plcmos).toBeGreaterThan(1);
    expect(r.plcmos).toBeLessThanOrEqual(5);
  });

  it('serves the recording: list, metadata, the ended call with its report, whole files and byte ranges', async () => {
    const { info, callId } = first;
    const list = (await (await fetch(`${base}/v1/recordings`)).json()) as { recordings: RecordingInfo[] };
    expect(list.recordings.map((r) => r.id)).toContain(info.id);
    const call = (await (await fetch(`${base}/v1/calls/${callId}`)).json()) as Record<string, unknown>;
    expect(call).toMatchObject({ id: callId, state: 'ended', report: { speechRatio: info.report!.speechRatio } });

    const file = readFileSync(join(dir, `${info.id}.wav`));
    const whole = await fetch(`${base}/v1/recordings/${info.id}/audio`);
    expect([whole.status, whole.headers.get('content-type'), whole.headers.get('accept-ranges')]).toEqual([200, 'audio/wav', 'bytes']);
    expect(Buffer.from(await whole.arrayBuffer()).equals(file)).toBe(true);
    const head = await fetch(`${base}/v1/recordings/${info.id}/audio`, { headers: { range: 'bytes=0-43' } });
    expect([head.status, head.headers.get('content-range')]).toEqual([206, `bytes 0-43/${file.length}`]);
    expect(Buffer.from(await head.arrayBuffer()).equals(file.subarray(0, 44))).toBe(true);
    const tail = await fetch(`${base}/v1/recordings/${info.id}/audio`, { headers: { range: 'bytes=-100' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(file.subarray(file.length - 100))).toBe(true);
    const opus = await fetch(`${base}/v1/recordings/${info.id}/audio?format=opus`);
    expect([opus.status, opus.headers.get('content-type'), (await opus.arrayBuffer()).byteLength]).toEqual([200, 'audio/ogg', info.files.opus]);
  });

  it('answers hostile requests with a clear 4xx, counts them, and serves on', async () => {
    const { info } = first;
    const file = readFileSync(join(dir, `${info.id}.wav`));
    const badInput = async (): Promise<Map<string, number>> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const counts = new Map<string, number>();
      for (const m of text.matchAll(/^switchboard_bad_input_total\{source="http",reason="([^"]+)"\} (\d+)$/gm)) counts.set(m[1]!, Number(m[2]));
      return counts;
    };
    const before = await badInput();
    const ask = async (path: string, init: RequestInit = {}): Promise<[number, string, Response]> => {
      const res = await fetch(`${base}${path}`, init);
      const body = await res.text();
      return [res.status, res.status >= 400 ? (JSON.parse(body) as { error: { code: string } }).error.code : '', res];
    };
    const audio = `/v1/recordings/${info.id}/audio`;
    const want = new Map<string, number>();
    const expectError = async (path: string, init: RequestInit, status: number, code: string): Promise<Response> => {
      const [got, gotCode, res] = await ask(path, init);
      expect([path.slice(0, 60), init.method ?? 'GET', got, gotCode]).toEqual([path.slice(0, 60), init.method ?? 'GET', status, code]);
      want.set(code, (want.get(code) ?? 0) + 1);
      return res;
    };

    // Ranges (RFC 9110 §14): beyond the end, malformed, inverted, several, oversized: 416 with the file's size.
    const r416 = await expectError(audio, { headers: { range: `bytes=${file.length}-` } }, 416, 'range_not_satisfiable');
    expect(r416.headers.get('content-range')).toBe(`bytes */${file.length}`);
    for (const range of ['bytes=abc', 'bytes=5-1', 'bytes=0-1,4-5', 'bytes=-', 'bytes=0-1,0-1,0-1', `bytes=0-${'9'.repeat(150)}`, 'bytes=\u00e9-']) {
      await expectError(audio, { headers: { range } }, 416, 'bad_range');
    }
    // A unit other than bytes is ignored (§14.2): the whole file.
    const bits = await fetch(`${base}${audio}`, { headers: { range: 'bits=0-9' } });
    expect([bits.status, (await bits.arrayBuffer()).byteLength]).toEqual([200, file.length]);

    // Ids: traversal (encoded either case), NUL, non-ASCII, bidi controls, 10 KB, a real id in another case or with an extension.
    // (A bare or percent-encoded `..` segment never reaches a route: URL parsing resolves it first.)
    const ids = ['..%2F..%2Fetc%2Fpasswd', '..%2f..%2fetc%2fpasswd', '..%5C..%5Cwin.ini', `${info.id}.wav`, `${info.id}%00`, encodeURIComponent('/etc/passwd'),
      'x'.repeat(10_240), '%E2%80%AE', encodeURIComponent('日本語の録音'), encodeURIComponent('\u{1F4DE}'), info.id.toUpperCase()];
    for (const id of ids) {
      for (const path of [`/v1/recordings/${id}`, `/v1/recordings/${id}/audio`]) await expectError(path, {}, 400, 'bad_recording_id');
      await expectError(`/v1/recordings/${id}`, { method: 'DELETE' }, 400, 'bad_recording_id');
    }
    await expectError('/v1/recordings/%E0%A4%A', {}, 400, 'bad_path');
    await expectError(`${audio}?format=..%2F${info.id}.json`, {}, 400, 'bad_format');
    await expectError(`${audio}?format=${'\u00e9'.repeat(300)}`, {}, 400, 'bad_format');

    // Wrong methods: 405 with what is allowed.
    const r405 = await expectError(`/v1/recordings/${info.id}`, { method: 'POST', body: '{}' }, 405, 'method_not_allowed');
    expect(r405.headers.get('allow')).toBe('GET, HEAD, DELETE');
    await expectError('/v1/recordings', { method: 'DELETE' }, 405, 'method_not_allowed');
    await expectError(audio, { method: 'PUT', body: 'x' }, 405, 'method_not_allowed');
    await expectError(audio, { method: 'DELETE' }, 405, 'method_not_allowed');

    // Unknown recordings are a 404 (not bad input: a client may ask after a deletion).
    for (const init of [{}, { method: 'DELETE' }]) {
      const [status, code] = await ask('/v1/recordings/00000000-0000-4000-8000-000000000000', init);
      expect([status, code]).toEqual([404, 'recording_not_found']);
    }
    for (const record of ['yes', 1, null, {}]) expect((await post({ transport: 'rtp', remote: '127.0.0.1:9', codec: 'PCMU', record })).status).toBe(422);

    const after = await badInput();
    for (const [code, n] of want) expect([code, (after.get(code) ?? 0) - (before.get(code) ?? 0)]).toEqual([code, n]);
    // And it serves on: the list, a range, the whole file.
    expect((await fetch(`${base}/v1/recordings`)).status).toBe(200);
    const part = await fetch(`${base}${audio}`, { headers: { range: 'bytes=44-99' } });
    expect([part.status, Buffer.from(await part.arrayBuffer()).equals(file.subarray(44, 100))]).toEqual([206, true]);
  });

  it('shows the recordings in /metrics: started, frames, jobs and the report figures', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_recordings_started_total 1$/m);
    expect(metrics).toMatch(/^switchboard_recording_dropped_frames_total 0$/m);
    expect(metrics).toMatch(/^switchboard_postcall_jobs_total\{kind="mp3",result="done"\} 1$/m);
    expect(metrics).toMatch(/^switchboard_recording_report_mean\{figure="speechRatio"\} 0\.\d+$/m);
    expect(Number(/^switchboard_recording_frames_total (\d+)$/m.exec(metrics)?.[1])).toBe(first.info.figures.frames);
  });

  it('deletes a recording on request and those past their retention', async () => {
    const second = await recordedCall(0.3);
    const id = second.info.id;
    expect((await fetch(`${base}/v1/recordings/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/v1/recordings/${id}`)).status).toBe(404);
    for (const ext of ['wav', 'opus', 'mp3', 'json']) expect(existsSync(join(dir, `${id}.${ext}`))).toBe(false);
    expect((await fetch(`${base}/v1/recordings/${id}`, { method: 'DELETE' })).status).toBe(404);

    const old = first.info.id;
    clock += 29 * DAY_MS;
    expect(await recorder.sweep()).toBe(0);
    clock += 2 * DAY_MS;
    expect(await recorder.sweep()).toBe(1);
    expect(existsSync(join(dir, `${old}.wav`))).toBe(false);
    expect((await fetch(`${base}/v1/recordings/${old}`)).status).toBe(404);
  });
});

describe('PostCallJobs', () => {
  it('retries a failing job once and reports it failed with its error', async () => {
    const jobs = new PostCallJobs({ threads: 1, queue: 2 });
    try {
      const state = queuedJob();
      const seen: string[] = [];
      const result = await jobs.run({ kind: 'opus', wavPath: join(dir, 'no-such.wav'), outPath: join(dir, 'no-such.opus') }, state, () => seen.push(state.state));
      expect(result).toBeUndefined();
      expect(state).toMatchObject({ state: 'failed', attempts: 2, error: expect.stringContaining('ENOENT') });
      expect(seen).toEqual(['running', 'failed', 'running', 'failed']);
    } finally {
      await jobs.close();
    }
  });
});
