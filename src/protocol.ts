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
  | { type: 'mute'; muted: boolean }
  /** Delay a jitter actor holds beyond its own target, ms, to play aligned with its sync group (src/sync/). */
  | { type: 'syncDelay'; ms: number }
  /**
   * A conference mixer takes a member at `slot`: it reads the member's frames
   * from `in` (its jitter/PLC output) and writes the member's mix-minus to
   * `out` (its leg's input); it is then the only reader and writer of both.
   */
  | { type: 'member.join'; member: MixerMemberConfig; in: SharedArrayBuffer; out: SharedArrayBuffer }
  /** New settings for the member at `member.slot` (gain, mute, alignment delay). */
  | { type: 'member.update'; member: MixerMemberConfig }
  /** The member at `slot` leaves: once the command resolves the mixer touches its rings no more. */
  | { type: 'member.leave'; slot: number };

/** A conference member as its mixer holds it (the mixer's `members` config lists them; src/actors/mixer/). */
export interface MixerMemberConfig {
  slot: number;
  rateHz: number;
  /** Linear gain, 0..16. */
  gain: number;
  muted: boolean;
  /**
   * Frames the mixer leaves in the member's ring before mixing one: a
   * per-member delay that aligns members whose clocks differ (stream
   * synchronization sets it), 0 for none.
   */
  delayFrames: number;
}

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

/**
 * The device host (src/devices/deviceHost.ts) is a child process, not a
 * thread: PortAudio prints to the process's stdout and stderr from C and can
 * abort() on a device list it does not expect, so it runs where neither
 * reaches the daemon. The parent asks once, in its argv, and the child answers
 * on the IPC channel; PCM runs on a pipe of its own (fd 4: mono s16le at
 * `rateHz`), from the child for an input, to it for an output.
 */
export type DeviceHostRequest =
  | { op: 'list' }
  | { op: 'open'; direction: 'input' | 'output'; device: string; rateHz: number; blockMs: number };

/** A sound device as PortAudio lists it. */
export interface DeviceInfo {
  id: number;
  name: string;
  hostApi: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
}

export type DeviceHostMessage =
  | { type: 'devices'; devices: DeviceInfo[] }
  /** The stream runs: PCM flows on fd 4 from now on. */
  | { type: 'opened'; device: DeviceInfo; channels: number }
  /** Why the request failed or the stream stopped; `unknownDevice` for a name no device has (a 422). */
  | { type: 'error'; message: string; unknownDevice?: boolean };

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
