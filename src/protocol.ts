/**
 * Every message that crosses a thread boundary (control only: audio moves in
 * frame rings, never in messages). Requests go main → worker as calls of
 * `WorkerControl`'s methods through comlink, which correlates each reply with
 * its call and carries an error thrown in the worker back as an Error with the
 * same `name`, `message` and `stack` (so an actor's RangeError is still one
 * on the main thread, where it becomes a 422). Worker → main notifications
 * (`WorkerEvent`) travel on a separate MessagePort so they never interleave
 * with comlink's traffic.
 */

/** Structured-clone-safe configuration of an actor. */
export type ActorConfig = Record<string, unknown>;

/** Frame rings of one actor by role (e.g. `out`, `in`), each a FrameRing's buffer. */
export type RingBuffers = Record<string, SharedArrayBuffer>;

export interface ActorCreate {
  actorId: string;
  kind: string;
  config: ActorConfig;
  rings: RingBuffers;
  /** Float64 slots the actor writes its figures into (names in the actor's registration). */
  stats: SharedArrayBuffer;
  /** Its place in the worker's tick, lowest first (ActorKind.stage), among the actors of its group. */
  stage?: number;
  /** Actors of one group (a call) tick one after another, in stage order: a frame crosses the call without waiting for other calls. */
  group?: string;
}

/**
 * A command to a live actor, applied at control time between two ticks. An
 * actor that does not take a command refuses it with a RangeError naming the
 * command and its kind (a 422 for the HTTP client).
 */
export type ActorCommand =
  /** Digits to send as RFC 4733 telephone-events (an RTP leg). */
  | { type: 'dtmf'; digits: string }
  /** The application's answer to the agent's tool call `callId`. */
  | { type: 'toolOutput'; callId: string; output: string }
  /** The gain of what the actor contributes, dB (a conference member's, for the mixer). */
  | { type: 'gain'; db: number }
  | { type: 'mute'; muted: boolean };

/** `oom`: a runaway leak (the worker's heap grows until its limit); `oom-burst`: 80 MB blocks that stall the thread as they fill it. */
export type FaultKind = 'crash' | 'hang' | 'exit' | 'oom' | 'oom-burst';

/**
 * Puts a loaded (standby) worker into service at a slot: from here it ticks
 * and beats. Until then it has only loaded its modules, so a restart costs
 * this one message rather than a thread start.
 */
export interface WorkerStart {
  workerId: string;
  /** The heartbeat and load block (see frames/heartbeat.ts). */
  heartbeat: SharedArrayBuffer;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** What a worker exposes through comlink: its one request channel. */
export interface WorkerControl {
  start(req: WorkerStart): Promise<void>;
  createActor(req: ActorCreate): Promise<void>;
  command(actorId: string, command: ActorCommand): Promise<void>;
  /** False when the worker hosts no such actor. */
  destroyActor(actorId: string): Promise<boolean>;
  injectFault(kind: FaultKind): Promise<void>;
  /** A full garbage collection on the worker (after many actors went: their rings' memory returns). */
  collect(): Promise<void>;
  /** Stops the clock and closes every actor. */
  shutdown(): Promise<void>;
}

/** Worker → main notifications. */
export type WorkerEvent =
  | { type: 'worker.loaded' }
  | { type: 'actor.failed'; actorId: string; error: SerializedError }
  /** Something an actor wants its call to show (an agent's tool call): control-rate only, never per frame. */
  | { type: 'actor.event'; actorId: string; name: string; data: Record<string, unknown> };

/** Given to every hosted worker at its start (as workerData, with the events port). */
export interface WorkerBoot {
  kind: string;
  tickMs: number;
  logLevel: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { name: 'Error', message: String(err) };
}

/** The actor event by which a leg tells its call that the peer ended it (RTCP BYE, a peer gone silent): `{ reason }`. */
export const PEER_ENDED_EVENT = 'peer.ended';

/** Main → recording writer thread (src/recording/recordingWriter.worker.ts). */
export type RecorderRequest =
  /** Starts writing a recording: its channels' rings in file order, the file to create. */
  | { type: 'open'; id: string; path: string; rateHz: number; channels: SharedArrayBuffer[] }
  /** Its actors are gone: write what is left and close the file. */
  | { type: 'close'; id: string };

/** Figures of one recording as the writer thread reports them (src/recording/RecordingFile.ts). */
export interface RecorderFigures {
  frames: number;
  dataBytes: number;
  droppedFrames: number;
  lateFrames: number;
  badFrames: number;
}

/** Recording writer thread → main. */
export type RecorderEvent =
  | { type: 'opened'; id: string }
  /** The recording could not go on (`code` ENOSPC: the disk is full); the call keeps going. */
  | { type: 'failed'; id: string; code: string; message: string }
  /** Each open recording's figures, once a second. */
  | { type: 'progress'; figures: Array<{ id: string; figures: RecorderFigures }> }
  | { type: 'closed'; id: string; figures: RecorderFigures; error?: { code: string; message: string } };
