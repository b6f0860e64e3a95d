import { Counter, Gauge, type Registry } from 'prom-client';
import type { RecorderFigures } from '../protocol.ts';
import type { QualityReport } from './qualityReport.ts';
import type { JobKind } from './RecordingInfo.ts';

/** The report's figures /metrics sums (mean = sum ÷ reports). */
const REPORT_FIGURES = ['levelDbfs', 'speechLevelDbfs', 'clippingRatio', 'speechRatio', 'concealmentRatio', 'plcmos'] as const;

/**
 * The recorder's running totals, read by /metrics at scrape time: plain
 * numbers the recorder bumps on the main thread as the writer thread and the
 * jobs report.
 */
export class RecordingCounters {
  started = 0;
  swept = 0;
  frames = 0;
  bytes = 0;
  droppedFrames = 0;
  lateFrames = 0;
  readonly errors = new Map<string, number>();
  readonly jobs = new Map<string, number>();
  reports = 0;
  readonly reportSums = new Map<string, { sum: number; count: number }>();

  /** Adds what a recording wrote since its last figures. */
  progress(before: RecorderFigures, now: RecorderFigures): void {
    this.frames += Math.max(0, now.frames - before.frames);
    this.bytes += Math.max(0, now.dataBytes - before.dataBytes);
    this.droppedFrames += Math.max(0, now.droppedFrames - before.droppedFrames);
    this.lateFrames += Math.max(0, now.lateFrames - before.lateFrames);
  }

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** A job's end: `done` or `failed`, and `retried` when it took its second attempt. */
  job(kind: JobKind, result: 'done' | 'failed', attempts: number): void {
    const key = `${kind}\u0000${result}`;
    this.jobs.set(key, (this.jobs.get(key) ?? 0) + 1);
    if (attempts > 1) this.jobs.set(`${kind}\u0000retried`, (this.jobs.get(`${kind}\u0000retried`) ?? 0) + 1);
  }

  report(r: QualityReport): void {
    this.reports++;
    for (const name of REPORT_FIGURES) {
      const v = r[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const s = this.reportSums.get(name) ?? { sum: 0, count: 0 };
      s.sum += v;
      s.count++;
      this.reportSums.set(name, s);
    }
  }
}

/** What /metrics reads of a recorder. */
export interface RecorderGauges {
  readonly counters: RecordingCounters;
  readonly active: number;
  readonly jobsQueued: number;
  readonly jobsRunning: number;
}

/** `switchboard_recording_*` and `switchboard_postcall_*`, read from the recorder at scrape time. */
export function registerRecordingMetrics(registry: Registry, rec: RecorderGauges): void {
  const c = rec.counters;
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  gauge('switchboard_recordings_active', 'Recordings being written now', () => rec.active);
  counter('switchboard_recordings_started_total', 'Recordings started', () => c.started);
  counter('switchboard_recordings_deleted_by_retention_total', 'Recordings deleted past recording.retentionDays', () => c.swept);
  counter('switchboard_recording_frames_total', 'Frames (all channels at once) written to recordings', () => c.frames);
  counter('switchboard_recording_bytes_total', 'Sample bytes written to recordings', () => c.bytes);
  counter('switchboard_recording_dropped_frames_total', 'Recording frames lost because the writer or the disk fell behind (silence in the file; call audio untouched)', () => c.droppedFrames);
  counter('switchboard_recording_late_frames_total', 'Recording frames that came after their place was written', () => c.lateFrames);
  new Counter({
    name: 'switchboard_recording_errors_total',
    help: 'Recordings that failed, by system error code (ENOSPC: disk full)',
    labelNames: ['code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of c.errors) this.inc({ code }, n);
    },
  });
  new Counter({
    name: 'switchboard_postcall_jobs_total',
    help: 'Post-call jobs by kind (opus, mp3, report) and result (done, failed, retried)',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of c.jobs) {
        const [kind, result] = key.split('\u0000');
        this.inc({ kind: kind!, result: result! }, n);
      }
    },
  });
  gauge('switchboard_postcall_jobs_queued', 'Post-call jobs waiting for a thread', () => rec.jobsQueued);
  gauge('switchboard_postcall_jobs_running', 'Post-call jobs running', () => rec.jobsRunning);
  counter('switchboard_recording_reports_total', 'Quality reports made', () => c.reports);
  new Gauge({
    name: 'switchboard_recording_report_mean',
    help: "Mean of the quality reports' caller-channel figures so far (levelDbfs, speechLevelDbfs, clippingRatio, speechRatio, concealmentRatio, plcmos)",
    labelNames: ['figure'] as const,
    registers: [registry],
    collect() {
      for (const [figure, s] of c.reportSums) this.set({ figure }, s.count > 0 ? s.sum / s.count : 0);
    },
  });
}
