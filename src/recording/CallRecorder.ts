import type { FrameRing } from '../frames/FrameRing.ts';

/**
 * What a call (or, later, a conference) needs of the recorder: hand it the
 * rings its actors write the recording's channels into (left first), and
 * tell it when they are done. A conference records its mix by handing one
 * ring (its mixer's tap) or two; the writer takes any number of channels.
 */
export interface CallRecorder {
  /**
   * Opens a new recording of `channels` at `rateHz` and starts draining them
   * off the real-time path; answers its id. `event` reports trouble (a full
   * disk) to the call's events. Throws a RequestError when it cannot start.
   */
  start(owner: RecordingOwner, channels: readonly FrameRing[], rateHz: number, event: RecordingEventSink): string;
  /**
   * The call ended: the frames still in the rings are written, the file is
   * closed and the post-call jobs are queued. `qos` is the call's last
   * figures (the report takes the concealment share from them).
   */
  finish(recordingId: string, qos: Readonly<Record<string, Readonly<Record<string, number>>>>): void;
}

/** What the recording belongs to. */
export interface RecordingOwner {
  callId: string;
  transport: string;
}

export type RecordingEventSink = (name: string, data: Record<string, unknown>) => void;
