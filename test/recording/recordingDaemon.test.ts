import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxRuntime } from '../../src/qos/onnxRuntime.ts';
import type { RecordingInfo } from '../../src/recording/RecordingInfo.ts';
import { RecordingStore } from '../../src/recording/RecordingStore.ts';
import { readWav } from '../../src/wire/wav.ts';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { TestPeer, until } from '../helpers/rtpPeer.ts';

/**
 * The daemon as `npm start` runs it (bin/switchboard.js, built code in
 * dist/): a recorded call's post-call jobs run on piscina from the built job
 * file; then a daemon killed with SIGKILL in the middle of a recorded call
 * leaves a valid WAV of everything up to its last second, and a store read
 * from the same directory lists it as `interrupted` with that length.
 * Between the two, a full disk: the recordings directory is a small tmpfs
 * (where this machine lets the test mount one), filled up during a call.
 */

const dir = mkdtempSync(join(tmpdir(), 'recordings-daemon-'));
const peers: TestPeer[] = [];
let d: DaemonProcess;
let base: string;
/** The directory is a tmpfs of its own (root, and a kernel that allows it), so it can really fill up. */
let tmpfs = false;

beforeAll(async () => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    tmpfs = true;
  } catch {
    // Not permitted here: the full-disk test falls back to a directory that is not one (ENOTDIR).
  }
  const portMin = 38_000 + 2 * ((process.pid * 13) % 500);
  d = spawnDaemon(
    ['--config', 'test/fixtures/config/daemon.json', '--recording.dir', dir, '--rtp.port-min', String(portMin), '--rtp.port-max', String(portMin + 10)],
    {},
    { built: true },
  );
  base = `http://127.0.0.1:${(await d.logged((l) => l['msg'] === 'listening', 'listening'))['port'] as number}`;
});
afterAll(async () => {
  if (d?.child.exitCode === null && d.child.signalCode === null) {
    d.child.kill('SIGKILL');
    await once(d.child, 'exit');
  }
  for (const p of peers.splice(0)) p.close();
  // Lazily: the killed daemon's descriptors may still be closing.
  if (tmpfs) execFileSync('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The writer drains every 100 ms and rewrites the header every second, so
 * about 1.1 s at most of the end is undeclared; a little more for a writer
 * thread that ran late on a loaded machine (RecordingFile.test.ts holds the
 * header's one-second promise exactly).
 */
const UNDECLARED_MAX_S = 1.5;
/** A loud square wave in µ-law, so every second written holds audio on both channels. */
const SQUARE = new Uint8Array(160).map((_, i) => (i % 16 < 8 ? 0x20 : 0xa0));

/** A recorded loopback call hearing `packets` of the square wave at real-time pace; answers its peer and ids once they are sent. */
async function recordedCall(packets: number): Promise<{ peer: TestPeer; callId: string; recordingId: string; elapsedS: number }> {
  const peer = await TestPeer.create();
  peers.push(peer);
  const res = await fetch(`${base}/v1/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback', record: true }),
  });
  expect(res.status).toBe(201);
  const call = (await res.json()) as { id: string; rtp: { localPort: number }; recording: { id: string } };
  const t0 = performance.now();
  for (let k = 0; k < packets; k++) {
    peer.sendRtp({ payloadType: 0, sequenceNumber: k, timestamp: k * 160, marker: k === 0, payload: SQUARE }, call.rtp.localPort);
    const wait = t0 + 20 * (k + 1) - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return { peer, callId: call.id, recordingId: call.recording.id, elapsedS: (performance.now() - t0) / 1000 };
}

/** The recording's metadata once `done(info)`, polled over HTTP; fails naming the last state after `timeoutMs`. */
async function recordingWhen(id: string, done: (info: RecordingInfo) => boolean, timeoutMs: number): Promise<RecordingInfo> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const info = (await (await fetch(`${base}/v1/recordings/${id}`)).json()) as RecordingInfo;
    if (done(info)) return info;
    if (performance.now() > until) throw new Error(`recording ${id} not settled in ${timeoutMs} ms: ${JSON.stringify(info)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the built daemon recording', () => {
  it("runs a call's post-call jobs from dist/: Ogg Opus, MP3 and the quality report", async () => {
    const { callId, recordingId } = await recordedCall(50);
    expect((await fetch(`${base}/v1/calls/${callId}`, { method: 'DELETE' })).status).toBe(204);
    const settled = (info: RecordingInfo): boolean =>
      info.state !== 'recording' && (['opus', 'mp3', 'report'] as const).every((k) => info.jobs[k]?.state === 'done' || info.jobs[k]?.state === 'failed');
    const info = await recordingWhen(recordingId, settled, 20_000);
    expect(info).toMatchObject({
      state: 'complete',
      jobs: { opus: { state: 'done', attempts: 1 }, mp3: { state: 'done', attempts: 1 }, report: { state: 'done', attempts: 1 } },
    });
    expect(info.durationS).toBeGreaterThan(0.9);
    for (const format of ['opus', 'mp3'] as const) {
      const res = await fetch(`${base}/v1/recordings/${recordingId}/audio?format=${format}`);
      expect([format, res.status, (await res.arrayBuffer()).byteLength]).toEqual([format, 200, info.files[format]]);
      expect(info.files[format]).toBeGreaterThan(1000);
    }
    const r = info.report!;
    expect(r.seconds).toBeCloseTo(info.durationS, 1);
    expect(r.levelDbfs).toBeGreaterThan(-30);
    expect(r.clippingRatio).toBe(0);
    expect(r.concealmentRatio).toBeGreaterThanOrEqual(0);
    // PLCMOS when the optional onnxruntime-node installed here, else the report says why not.
    const ort = await loadOnnxRuntime().then(
      () => true,
      () => false,
    );
    if (ort) expect(r.plcmos).toBeGreaterThanOrEqual(1);
    else expect(r.plcmosUnavailable).toMatch(/onnxruntime-node/);
    const call = (await (await fetch(`${base}/v1/calls/${callId}`)).json()) as Record<string, unknown>;
    expect(call).toMatchObject({ id: callId, state: 'ended', report: { levelDbfs: r.levelDbfs } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const kind of ['opus', 'mp3', 'report']) expect(metrics).toMatch(new RegExp(`^switchboard_postcall_jobs_total\\{kind="${kind}",result="done"\\} 1$`, 'm'));
  });

  it('reports a full disk on the call\'s events and in /metrics; the call plays on', async () => {
    const filler = join(dir, 'filler');
    if (tmpfs) {
      // Leave 8 KB: an eighth of a second of the two-channel 8 kHz WAV.
      const fs = statfsSync(dir);
      writeFileSync(filler, new Uint8Array(Math.max(0, fs.bavail * fs.bsize - 8192)));
    } else {
      renameSync(dir, `${dir}.away`);
      writeFileSync(dir, 'not a directory');
    }
    const code = tmpfs ? 'ENOSPC' : 'ENOTDIR';
    try {
      const { peer, callId, recordingId } = await recordedCall(40);
      const live = (await (await fetch(`${base}/v1/calls/${callId}`)).json()) as { state: string; events?: Array<{ name: string; data: Record<string, unknown> }> };
      expect(live.state).toBe('active');
      expect(live.events?.find((e) => e.name === 'recording.failed')?.data).toMatchObject({ recording: recordingId, code });
      // The call's audio is untouched: the loopback agent's square wave comes back.
      await until(() => peer.received.filter((p) => p.payload.some((b) => b === 0x20 || b === 0xa0)).length >= 20, 2000, 'the echoed audio');
      expect((await fetch(`${base}/v1/calls/${callId}`, { method: 'DELETE' })).status).toBe(204);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^switchboard_recording_errors_total\\{code="${code}"\\} 1$`, 'm'));
      expect(metrics).toMatch(/^switchboard_recordings_active 0$/m);
      const info = (await (await fetch(`${base}/v1/recordings/${recordingId}`)).json()) as RecordingInfo;
      expect(info).toMatchObject({ state: 'failed', error: { code } });
      expect(info.jobs).toEqual({});
    } finally {
      if (tmpfs) {
        rmSync(filler, { force: true });
      } else {
        rmSync(dir, { force: true });
        renameSync(`${dir}.away`, dir);
      }
    }
  });

  it('leaves a valid WAV up to the last second when the daemon is killed -9 mid-call', async () => {
    const { recordingId, elapsedS } = await recordedCall(100);
    d.child.kill('SIGKILL');
    await once(d.child, 'exit');

    const file = join(dir, `${recordingId}.wav`);
    const wav = readWav(new Uint8Array(readFileSync(file)));
    const seconds = wav.samples.length / wav.channels / wav.rateHz;
    expect([wav.channels, wav.rateHz]).toEqual([2, 8000]);
    expect(seconds).toBeGreaterThan(elapsedS - UNDECLARED_MAX_S);
    expect(statSync(file).size).toBeGreaterThanOrEqual(44 + wav.samples.length * 2);
    // The caller's tone is in the declared part, on both channels (the loopback agent returns it).
    const last = wav.samples.subarray(wav.samples.length - 3200);
    let left = 0;
    let right = 0;
    for (let i = 0; i < last.length; i += 2) [left, right] = [left + Math.abs(last[i]!), right + Math.abs(last[i + 1]!)];
    expect(left / 1600).toBeGreaterThan(1000);
    expect(right / 1600).toBeGreaterThan(1000);

    const store = new RecordingStore(dir, memoryLogger().log);
    store.load();
    expect(store.get(recordingId)).toMatchObject({ state: 'interrupted', durationS: seconds });
  });
});
