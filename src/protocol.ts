/**
 * Every message that crosses a thread boundary (control only: audio moves in
 * frame rings, never in messages). Requests go main → worker through comlink
 * (`WorkerControl.handle`); each carries an `id` that its reply echoes.
 * Errors cross as `{ name, message, stack }` and are rethrown on the other
 * side as `RemoteError`. Worker → main notifications (`WorkerEvent`) travel on
 * a separate MessagePort so they never interleave with comlink's traffic.
 */

/** Structured-clone-safe configuration of an actor. */
export type ActorConfig = Record<string, unknown>;

/** Frame rings of one actor by role (e.g. `out`, `in`), each a FrameRing's buffer. */
export type RingBuffers = Record<string, SharedArrayBuffer>;

export interface ActorCreate {
  type: 'actor.create';
  id: number;
  actorId: string;
  kind: string;
  config: ActorConfig;
  rings: RingBuffers;
  /** Float64 slots the actor writes its figures into (names in the actor's registration). */
  stats: SharedArrayBuffer;
}

export interface ActorConfigure {
  type: 'actor.configure';
  id: number;
  actorId: string;
  config: ActorConfig;
}

export interface ActorDestroy {
  type: 'actor.destroy';
  id: number;
  actorId: string;
}

/** `oom`: a runaway leak (the worker's heap grows until its limit); `oom-burst`: 80 MB blocks that stall the thread as they fill it. */
export type FaultKind = 'crash' | 'hang' | 'exit' | 'oom' | 'oom-burst';

export interface FaultInject {
  type: 'fault.inject';
  id: number;
  kind: FaultKind;
}

/**
 * Puts a loaded (standby) worker into service at a slot: from here it ticks
 * and beats. Until then it has only loaded its modules, so a restart costs
 * this one message rather than a thread start.
 */
export interface WorkerStart {
  type: 'worker.start';
  id: number;
  workerId: string;
  /** The heartbeat and load block (see frames/heartbeat.ts). */
  heartbeat: SharedArrayBuffer;
}

export interface WorkerShutdown {
  type: 'worker.shutdown';
  id: number;
}

/** A full garbage collection on the worker (after many actors went: their rings' memory returns). */
export interface WorkerCollect {
  type: 'worker.collect';
  id: number;
}

export type ControlRequest = ActorCreate | ActorConfigure | ActorDestroy | FaultInject | WorkerStart | WorkerShutdown | WorkerCollect;

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type ControlReply =
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError };

/** What a worker exposes through comlink. */
export interface WorkerControl {
  handle(request: ControlRequest): Promise<ControlReply>;
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

/** Distributes Omit over the union so each request keeps its own fields. */
export type RequestWithoutId<R extends ControlRequest = ControlRequest> = R extends ControlRequest
  ? Omit<R, 'id'>
  : never;

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { name: 'Error', message: String(err) };
}

/** An error raised on another thread, rethrown here with its name and stack. */
export class RemoteError extends Error {
  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
    if (serialized.stack !== undefined) this.stack = serialized.stack;
  }
}
