import { parentPort } from 'node:worker_threads';
import { FrameRing } from '../frames/FrameRing.ts';
import type { RecorderEvent, RecorderRequest } from '../protocol.ts';
import { RecordingFile } from './RecordingFile.ts';

/**
 * The recording writer thread: every open recording's rings are drained here
 * and written with plain synchronous file calls. A slow or stalled disk
 * blocks only this thread; the taps' rings then fill and the actors' writes
 * fail (counted as dropped recording frames), and the calls play on. No
 * recording holds more than its fixed window (RecordingFile), so memory
 * stays bounded however far the disk falls behind.
 */

/** How often the rings are drained: 5 frames, well inside a tap ring's 2.56 s. */
const DRAIN_EVERY_MS = 100;
/** How often the figures go to the main thread (its /metrics and recordings read them). */
const PROGRESS_EVERY_MS = 1000;

const port = parentPort;
if (port === null) throw new Error('recordingWriter.worker must run in a worker thread');
const open = new Map<string, RecordingFile>();
const failed = new Set<string>();
/** Recordings whose file could not be made (a full disk, an unusable directory): their close answers the error. */
const unopened = new Map<string, { code: string; message: string }>();
const post = (e: RecorderEvent): void => port.postMessage(e);

function report(id: string, file: RecordingFile): void {
  if (file.error === undefined || failed.has(id)) return;
  failed.add(id);
  post({ type: 'failed', id, code: file.error.code, message: file.error.message });
}

port.on('message', (m: RecorderRequest) => {
  const now = performance.now();
  if (m.type === 'open') {
    try {
      open.set(m.id, new RecordingFile(m.path, m.channels.map((sab) => FrameRing.attach(sab)), m.rateHz));
      post({ type: 'opened', id: m.id });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const error = { code: e.code ?? e.name, message: e.code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : e.message };
      unopened.set(m.id, error);
      post({ type: 'failed', id: m.id, ...error });
    }
    return;
  }
  const file = open.get(m.id);
  if (file === undefined) {
    const error = unopened.get(m.id);
    unopened.delete(m.id);
    if (error !== undefined) post({ type: 'closed', id: m.id, figures: { frames: 0, dataBytes: 0, droppedFrames: 0, lateFrames: 0, badFrames: 0 }, error });
    return;
  }
  open.delete(m.id);
  const figures = { ...file.close(now) };
  report(m.id, file);
  failed.delete(m.id);
  post({ type: 'closed', id: m.id, figures, ...(file.error !== undefined ? { error: file.error } : {}) });
});

let progressAt = performance.now();
setInterval(() => {
  const now = performance.now();
  for (const [id, file] of open) {
    file.drain(now);
    report(id, file);
  }
  if (now - progressAt >= PROGRESS_EVERY_MS && open.size > 0) {
    progressAt = now;
    post({ type: 'progress', figures: [...open].map(([id, f]) => ({ id, figures: { ...f.figures } })) });
  }
}, DRAIN_EVERY_MS);
