import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { EDGES } from '../../src/frames/edges.ts';
import { FrameRing } from '../../src/frames/FrameRing.ts';
import type { RecorderEvent } from '../../src/protocol.ts';
import { startWorker } from '../../src/supervisor/workerEntry.ts';

/**
 * The recording writer thread when a recording's file cannot be made (its
 * directory is a file: ENOTDIR, a real error from the filesystem): it says
 * so at once, and the recording's close still answers `closed` with the
 * error, so the recorder lets the recording go (it is not left `recording`).
 */

const dir = mkdtempSync(join(tmpdir(), 'recording-writer-'));
let writer: Worker | undefined;
afterAll(async () => {
  await writer?.terminate();
  rmSync(dir, { recursive: true, force: true });
});

function next(w: Worker, type: RecorderEvent['type']): Promise<RecorderEvent> {
  return new Promise((resolve) => {
    const on = (e: RecorderEvent): void => {
      if (e.type !== type) return;
      w.off('message', on);
      resolve(e);
    };
    w.on('message', on);
  });
}

describe('the recording writer thread', () => {
  it('fails a recording whose file cannot be made, then closes it with the error', async () => {
    const w = startWorker(new URL('../../src/recording/Recorder.ts', import.meta.url).href, './recordingWriter.worker');
    writer = w;
    await once(w, 'online');
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const rings = [FrameRing.create(EDGES.record.slots, 160), FrameRing.create(EDGES.record.slots, 160)];
    const failed = next(w, 'failed');
    w.postMessage({ type: 'open', id: 'r1', path: join(notADir, 'r1.wav'), rateHz: 8000, channels: rings.map((r) => r.buffer) });
    expect(await failed).toMatchObject({ type: 'failed', id: 'r1', code: 'ENOTDIR' });
    const closed = next(w, 'closed');
    w.postMessage({ type: 'close', id: 'r1' });
    expect(await closed).toEqual({
      type: 'closed',
      id: 'r1',
      figures: { frames: 0, dataBytes: 0, droppedFrames: 0, lateFrames: 0, badFrames: 0 },
      error: { code: 'ENOTDIR', message: expect.stringContaining('ENOTDIR') },
    });
  }, 5000);
});
