import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { Recorder } from './Recorder.ts';
import type { JobKind } from './RecordingInfo.ts';

/** The `recording.*` configuration keys (src/config/schema.ts). */
export interface RecordingConfig {
  dir: string;
  retentionDays: number;
  maxActive: number;
  twilio: boolean;
  opus: boolean;
  mp3: boolean;
  report: boolean;
  jobThreads: number;
  jobQueue: number;
}

/** The daemon's recorder from its configuration (the directory relative to the working directory). */
export function createRecorder(cfg: RecordingConfig, log: Logger): Recorder {
  const jobs: JobKind[] = [];
  if (cfg.opus) jobs.push('opus');
  if (cfg.mp3) jobs.push('mp3');
  if (cfg.report) jobs.push('report');
  return new Recorder({
    dir: resolve(cfg.dir),
    retentionDays: cfg.retentionDays,
    maxActive: cfg.maxActive,
    jobs,
    jobThreads: cfg.jobThreads,
    jobQueue: cfg.jobQueue,
    log,
  });
}
