import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingStore } from '../../src/recording/RecordingStore.ts';
import { readWav } from '../../src/wire/wav.ts';
import { spawnDaemon } from '../helpers/daemonProcess.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { TestPeer } from '../helpers/rtpPeer.ts';

/**
 * A daemon process killed with SIGKILL in the middle of a recorded call
 * leaves a valid WAV of everything up to its last second, and the next
 * daemon on the same directory lists it as `interrupted` with that length.
 */

const dir = mkdtempSync(join(tmpdir(), 'recordings-crash-'));
const peers: TestPeer[] = [];
afterAll(() => {
  for (const p of peers.splice(0)) p.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The writer drains every 100 ms and rewrites the header every second, so
 * about 1.1 s at most of the end is undeclared; a little more for a writer
 * thread that ran late on a loaded machine (RecordingFile.test.ts holds the
 * header's one-second promise exactly).
 */
const UNDECLARED_MAX_S = 1.5;

describe('recording crash safety', () => {
  it('leaves a valid WAV up to the last second when the daemon is killed -9 mid-call', async () => {
    const portMin = 38_000 + 2 * ((process.pid * 13) % 500);
    const d = spawnDaemon([
      '--config', 'test/fixtures/config/daemon.json',
      '--recording.dir', dir,
      '--rtp.port-min', String(portMin),
      '--rtp.port-max', String(portMin + 10),
    ]);
    try {
      const port = (await d.logged((l) => l['msg'] === 'listening', 'listening'))['port'] as number;
      const peer = await TestPeer.create();
      peers.push(peer);
      const res = await fetch(`http://127.0.0.1:${port}/v1/calls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transport: 'rtp', remote: `127.0.0.1:${peer.port}`, codec: 'PCMU', agent: 'loopback', record: true }),
      });
      expect(res.status).toBe(201);
      const call = (await res.json()) as { rtp: { localPort: number }; recording: { id: string } };
      // A loud square wave, so every second written holds audio on both channels.
      const payload = new Uint8Array(160).map((_, i) => (i % 16 < 8 ? 0x20 : 0xa0));
      const t0 = performance.now();
      for (let k = 0; k < 100; k++) {
        peer.sendRtp({ payloadType: 0, sequenceNumber: k, timestamp: k * 160, marker: k === 0, payload }, call.rtp.localPort);
        const wait = t0 + 20 * (k + 1) - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const elapsedS = (performance.now() - t0) / 1000;
      d.child.kill('SIGKILL');
      await once(d.child, 'exit');

      const file = join(dir, `${call.recording.id}.wav`);
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
      expect(store.get(call.recording.id)).toMatchObject({ state: 'interrupted', durationS: seconds });
    } finally {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    }
  });
});
