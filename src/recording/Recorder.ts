import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FrameRing } from '../frames/FrameRing.ts';
import type { RecorderEvent, RecorderFigures, RecorderRequest } from '../protocol.ts';
import { RateLimitedLog } from '../log.ts';
import { RequestError } from '../supervisor/Runtime.ts';
import { startWorker } from '../supervisor/workerEntry.ts';
import type { CallRecorder, RecordingEventSink, RecordingOwner } from './CallRecorder.ts';
import { PostCallJobs, queuedJob } from './PostCallJobs.ts';
import { RecordingCounters } from './RecordingCounters.ts';
import { EMPTY_FIGURES, type JobKind, type RecordingFormat, type RecordingInfo } from './RecordingInfo.ts';
import { RecordingStore } from './RecordingStore.ts';

export interface RecorderOptions {
  /** Where recordings go (config `recording.dir`). */
  dir: string;
  /** Finished recordings older than this are deleted (`recording.retentionDays`). */
  retentionDays: number;
  /** What the post-call jobs make: transcodings and the report (`recording.formats`, `recording.report`). */
  jobs: readonly JobKind[];
  jobThreads: number;
  jobQueue: number;
  /** Recordings written at once at most; beyond, `record: true` is a 503 (`recording.maxActive`). */
  maxActive: number;
  log: Logger;
  now?: () => number;
}

/** The retention sweep runs this often (and once at start). */
const SWEEP_EVERY_MS = 3_600_000;

interface Live {
  info: RecordingInfo;
  event: RecordingEventSink;
  /** Set when the call ended; the writer answers `closed`. */
  qos: Readonly<Record<string, Readonly<Record<string, number>>>> | undefined;
}

/**
 * The daemon's recorder: hands each recorded call's tap rings to the writer
 * thread (recordingWriter.worker.ts), keeps the recordings' metadata
 * (RecordingStore), queues the post-call jobs when a call's file is closed
 * (PostCallJobs), and deletes recordings past their retention. The routes
 * (src/server/recordings.ts) read it.
 */
export class Recorder implements CallRecorder {
  readonly store: RecordingStore;
  readonly counters = new RecordingCounters();
  readonly #opts: RecorderOptions;
  readonly #log: Logger;
  /** Failures come in bursts (a full disk fails every recording at once): a few lines per code, the rest counted. */
  readonly #failLog: RateLimitedLog;
  readonly #now: () => number;
  /** The writer thread, started with the first recording. */
  #writerThread: Worker | undefined;
  readonly #jobs: PostCallJobs;
  readonly #live = new Map<string, Live>();
  /** Jobs still to finish per recording (a recording is not swept or deleted under them). */
  readonly #busy = new Map<string, Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  constructor(opts: RecorderOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'recorder' });
    this.#failLog = new RateLimitedLog(this.#log);
    this.#now = opts.now ?? Date.now;
    this.store = new RecordingStore(opts.dir, this.#log);
    const loaded = this.store.load();
    if (loaded > 0) this.#log.info({ recordings: loaded, dir: opts.dir }, 'recordings found');
    this.#jobs = new PostCallJobs({ threads: opts.jobThreads, queue: opts.jobQueue });
    this.#sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS).unref();
    void this.sweep();
  }

  get active(): number {
    return this.#live.size;
  }

  get jobsQueued(): number {
    return this.#jobs.queued;
  }

  get jobsRunning(): number {
    return this.#jobs.running;
  }

  start(owner: RecordingOwner, channels: readonly FrameRing[], rateHz: number, event: RecordingEventSink): string {
    if (this.#closing !== undefined) throw new RequestError(503, 'record: the recorder is shutting down');
    if (this.#live.size >= this.#opts.maxActive) {
      throw new RequestError(503, `record: ${this.#opts.maxActive} recordings are being written (recording.maxActive); try again later`);
    }
    const id = randomUUID();
    const info: RecordingInfo = {
      id,
      callId: owner.callId,
      transport: owner.transport,
      state: 'recording',
      startedAt: new Date(this.#now()).toISOString(),
      rateHz,
      channels: ['caller', 'agent'].slice(0, channels.length),
      durationS: 0,
      figures: { ...EMPTY_FIGURES },
      files: {},
      jobs: {},
    };
    this.#live.set(id, { info, event, qos: undefined });
    this.store.add(info);
    this.counters.started++;
    this.#post({ type: 'open', id, path: this.store.path(id, 'wav'), rateHz, channels: channels.map((r) => r.buffer) });
    return id;
  }

  finish(recordingId: string, qos: Readonly<Record<string, Readonly<Record<string, number>>>>): void {
    const live = this.#live.get(recordingId);
    if (live === undefined || live.qos !== undefined) return;
    live.qos = qos;
    this.#post({ type: 'close', id: recordingId });
  }

  get #writer(): Worker {
    if (this.#writerThread === undefined) {
      const w = startWorker(import.meta.url, './recordingWriter.worker');
      w.on('message', (e: RecorderEvent) => this.#onWriter(e));
      w.on('error', (err) => this.#log.error({ err }, 'recording writer thread failed'));
      // A writer that died took its open files with it (each valid to its last second): those recordings failed; the next one starts a new thread.
      w.on('exit', (code) => {
        if (this.#writerThread !== w) return;
        this.#writerThread = undefined;
        if (this.#closing !== undefined) return;
        for (const [id, live] of [...this.#live]) {
          this.#onWriter({ type: 'failed', id, code: 'EWRITER', message: `the recording writer thread exited (${code})` });
          this.#closed(id, live.info.figures, { code: 'EWRITER', message: 'the recording writer thread exited' });
        }
      });
      w.unref();
      this.#writerThread = w;
    }
    return this.#writerThread;
  }

  #post(m: RecorderRequest): void {
    this.#writer.postMessage(m);
  }

  #onWriter(e: RecorderEvent): void {
    switch (e.type) {
      case 'opened':
        return;
      case 'progress':
        for (const { id, figures } of e.figures) {
          const live = this.#live.get(id);
          if (live !== undefined) this.#figures(live.info, figures);
        }
        return;
      case 'failed': {
        const live = this.#live.get(e.id);
        this.counters.error(e.code);
        this.#failLog.warn(`recording:${e.code}`, { recording: e.id, call: live?.info.callId, code: e.code }, `recording failed: ${e.message}`);
        if (live === undefined) return;
        live.info.error = { code: e.code, message: e.message };
        live.event('recording.failed', { recording: e.id, code: e.code, message: e.message });
        this.store.save(live.info);
        return;
      }
      case 'closed':
        this.#closed(e.id, e.figures, e.error);
        return;
    }
  }

  #figures(info: RecordingInfo, figures: RecorderFigures): void {
    this.counters.progress(info.figures, figures);
    info.figures = figures;
    info.durationS = figures.dataBytes / (2 * info.channels.length * info.rateHz);
    info.files.wav = 44 + figures.dataBytes;
  }

  #closed(id: string, figures: RecorderFigures, error: { code: string; message: string } | undefined): void {
    const live = this.#live.get(id);
    if (live === undefined) return;
    this.#live.delete(id);
    const info = live.info;
    this.#figures(info, figures);
    info.endedAt = new Date(this.#now()).toISOString();
    info.state = error === undefined && info.error === undefined ? 'complete' : 'failed';
    if (error !== undefined) info.error ??= error;
    const jitter = live.qos?.['jitter'];
    const played = figures.frames * (info.rateHz / 50);
    if (jitter?.['concealedSamples'] !== undefined && played > 0) info.concealmentShare = Math.min(1, jitter['concealedSamples'] / played);
    live.event('recording.completed', { recording: id, state: info.state, durationS: info.durationS, droppedFrames: figures.droppedFrames });
    this.store.save(info);
    if (info.state === 'complete' && figures.frames > 0) this.#busy.set(id, this.#runJobs(info).finally(() => this.#busy.delete(id)));
  }

  async #runJobs(info: RecordingInfo): Promise<void> {
    const wavPath = this.store.path(info.id, 'wav');
    for (const kind of this.#opts.jobs) info.jobs[kind] = queuedJob();
    this.store.save(info);
    await Promise.all(
      this.#opts.jobs.map(async (kind) => {
        const state = info.jobs[kind]!;
        const outPath = kind === 'report' ? undefined : this.store.path(info.id, kind as RecordingFormat);
        const task = { kind, wavPath, ...(outPath !== undefined ? { outPath } : {}), ...(info.concealmentShare !== undefined ? { concealmentRatio: info.concealmentShare } : {}) };
        const result = await this.#jobs.run(task, state, () => this.store.save(info));
        this.counters.job(kind, result !== undefined ? 'done' : 'failed', state.attempts);
        if (result === undefined) {
          this.#log.warn({ recording: info.id, job: kind, attempts: state.attempts, error: state.error }, 'post-call job failed');
        } else if (result.kind === 'report') {
          info.report = result.report;
          this.counters.report(result.report);
        } else {
          info.files[result.kind] = result.bytes;
        }
      }),
    );
    await this.store.save(info);
  }

  /** Resolves when the recording's post-call jobs are done (at once when there are none). */
  settled(id: string): Promise<void> {
    return this.#busy.get(id) ?? Promise.resolve();
  }

  /** Deletes a recording and its files; 409 while its call still records, false when there is none. */
  async delete(id: string): Promise<boolean> {
    if (this.#live.has(id)) throw new RequestError(409, `recording ${id} is still being written (its call is live); hang up first`);
    if (this.store.get(id) === undefined) return false;
    await this.#busy.get(id);
    return this.store.delete(id);
  }

  /** Deletes finished recordings past the retention; answers how many. */
  async sweep(): Promise<number> {
    const n = await this.store.sweep(this.#opts.retentionDays, this.#now(), (id) => this.#live.has(id) || this.#busy.has(id));
    if (n > 0) this.#log.info({ deleted: n, retentionDays: this.#opts.retentionDays }, 'recordings past retention deleted');
    this.counters.swept += n;
    return n;
  }

  /** Closes what is open (their files get their final sizes), waits for running jobs, stops the threads; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      const closing = [...this.#live.keys()].map(
        (id) => new Promise<void>((resolve) => {
          const onMessage = (e: RecorderEvent): void => {
            if (e.type === 'closed' && e.id === id) {
              this.#writer.off('message', onMessage);
              resolve();
            }
          };
          this.#writer.on('message', onMessage);
          this.finish(id, {});
        }),
      );
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5000).unref())]);
      await Promise.all(this.#busy.values());
      await this.#jobs.close();
      await this.#writerThread?.terminate();
    })();
    return this.#closing;
  }
}
