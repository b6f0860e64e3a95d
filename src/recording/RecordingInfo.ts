import type { RecorderFigures } from '../protocol.ts';
import type { QualityReport } from './qualityReport.ts';

/** A recording's id: a random UUID the daemon made, never a name a client chose. */
export const RECORDING_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The formats a recording is kept in: the WAV written live, and what the post-call jobs make of it. */
export const RECORDING_FORMATS = ['wav', 'opus', 'mp3'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<RecordingFormat, string>> = {
  wav: 'audio/wav',
  // RFC 7845 §9: Ogg Opus files are audio/ogg.
  opus: 'audio/ogg',
  mp3: 'audio/mpeg',
};

/** The post-call jobs (PostCallJobs.ts): two transcodings and the quality report. */
export const JOB_KINDS = ['opus', 'mp3', 'report'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface JobState {
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  error?: string;
  /** Seconds the last attempt took. */
  seconds?: number;
}

/**
 * What GET /v1/recordings/:id answers, and what `<id>.json` beside the audio
 * holds (so recordings outlive the process that made them).
 */
export interface RecordingInfo {
  id: string;
  callId: string;
  transport: string;
  /** `recording` while the call runs; `interrupted`: the daemon stopped before the call ended (the WAV is valid up to the last second). */
  state: 'recording' | 'complete' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt?: string;
  rateHz: number;
  /** Channel names in file order. */
  channels: string[];
  durationS: number;
  figures: RecorderFigures;
  error?: { code: string; message: string };
  /** Bytes of each format made so far. */
  files: Partial<Record<RecordingFormat, number>>;
  jobs: Partial<Record<JobKind, JobState>>;
  /** The caller channel's quality (after the call). */
  report?: QualityReport;
  /** The call's concealment share as its jitter buffer counted it (concealed samples ÷ samples played). */
  concealmentShare?: number;
}

export const EMPTY_FIGURES: RecorderFigures = { frames: 0, dataBytes: 0, droppedFrames: 0, lateFrames: 0, badFrames: 0 };
