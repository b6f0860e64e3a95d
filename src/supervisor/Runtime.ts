import type { Registry } from 'prom-client';
import type { Recorder } from '../recording/Recorder.ts';
import type { FaultKind as WorkerFaultKind } from '../protocol.ts';
import type { ProcessFigures } from '../processFigures.ts';

/**
 * What the HTTP server (and the CLI) see of the running engine. The
 * supervisor implements it; the HTTP layer only translates requests into
 * these calls and their results or errors into responses.
 */

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped';
export type WorkerState = 'starting' | 'ready' | 'crashed' | 'restarting' | 'failed' | 'stopped';

export interface WorkerStatus {
  /** e.g. `media-0` */
  id: string;
  kind: string;
  state: WorkerState;
  restarts: number;
  /** Milliseconds since the worker's last heartbeat (-1 before the first). */
  heartbeatAgeMs: number;
  /** Time its threads waited for a CPU while their heartbeat stood still (starved by the machine, excused, not restarted), ms. */
  starvedMs: number;
  /** The worker's kernel thread id (for `top -H`, `perf`, `taskset`), 0 where unknown. */
  osThreadId: number;
  actors: number;
  load: {
    framesProcessed: number;
    /** Duration of the last tick's work, microseconds. */
    tickUs: number;
    /** Longest tick in the last status window, microseconds. */
    maxTickUs: number;
    lateTicks: number;
    /** V8 heap the worker has in use, MB (its cap is the supervisor's workerHeapMb). */
    heapMb: number;
    /** Ticks so far by work time: ≤ 1, 2, 5, 10, 20 ms and longer (frames/heartbeat.ts TICK_BOUNDS_US); percentiles over a window are differences. */
    tickHistogram: number[];
  };
  /** Why it last crashed, when it has. */
  lastError?: string;
}

export interface ActorStatus {
  id: string;
  kind: string;
  worker: string;
  state: 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';
  restarts: number;
  /** Actor-specific figures (frames written, QoS, …). */
  stats: Record<string, number>;
}

export interface CallRequest {
  transport: string;
  [key: string]: unknown;
}

/** Something an actor of the call reported (an agent's tool call, a session error). */
export interface CallEvent {
  at: string;
  actor: string;
  name: string;
  data: Record<string, unknown>;
}

export interface CallInfo {
  id: string;
  transport: string;
  state: 'active' | 'ending' | 'ended';
  createdAt: string;
  actors: string[];
  /** Live quality figures by actor kind (in /status; absent in request answers). */
  qos?: Record<string, Record<string, number>>;
  /** What the call's actors reported, oldest first (the newest CALL_EVENTS_KEPT). */
  events?: CallEvent[];
  /** Transport-specific answer (e.g. `rtp: { localPort }`). */
  [key: string]: unknown;
}

export interface RuntimeStatus {
  daemon: DaemonState;
  ready: boolean;
  notReadyReasons: string[];
  workers: WorkerStatus[];
  actors: ActorStatus[];
  calls: CallInfo[];
  /** The newest ended calls with why they ended (hangup, peer, worker-failed, actor-failed, drain). */
  endedCalls?: Array<{ id: string; transport: string; endedAt: string; reason: string; detail: string }>;
  process: ProcessFigures;
}

/**
 * An actor's stats slots read in place: shared with its worker (read them,
 * never write), so a reader that samples every call each second (the
 * dashboard) copies nothing.
 */
export interface ActorStatsView {
  kind: string;
  /** The slots' names, in order (the kind's `stats`). */
  names: readonly string[];
  values: Float64Array;
  /** The codec it decodes or sends, where it has one (the E-model rates by codec). */
  codec: string | undefined;
}

/** A 503 for a full daemon (calls, ports) or a worker being replaced: worth retrying after this many seconds. */
export const DEFAULT_RETRY_AFTER_S = 1;

/**
 * An error a request caused; the HTTP layer maps `status` to the response
 * code. A 503 carries `retryAfterS` (HTTP `Retry-After`, WebSocket close 1013):
 * the refusal is temporary (overload, draining), not the request's fault.
 */
export class RequestError extends Error {
  override name = 'RequestError';
  readonly retryAfterS: number | undefined;
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 501 | 503,
    message: string,
    retryAfterS?: number,
  ) {
    super(message);
    this.retryAfterS = retryAfterS ?? (status === 503 ? DEFAULT_RETRY_AFTER_S : undefined);
  }
}

/** Worker faults, plus `terminate`: the supervisor's own `worker.terminate()` of the thread. */
export type FaultKind = WorkerFaultKind | 'terminate';

export interface Runtime {
  readonly state: DaemonState;
  readiness(): { ready: boolean; reasons: string[] };
  status(): RuntimeStatus;
  /**
   * The workers as in status(). `takeMaxTick: false` leaves the longest-tick
   * window to status()'s readers (a sampler that runs whether or not anyone
   * watches must not shorten it); `maxTickUs` is then 0.
   */
  workerStatuses(opts?: { takeMaxTick?: boolean }): WorkerStatus[];
  /** An actor's stats slots, in place; undefined when there is no such actor. */
  actorStats(actorId: string): ActorStatsView | undefined;
  /** The recordings and their post-call reports (absent: this runtime does not record). */
  readonly recordings?: Recorder | undefined;
  /** Prometheus registry with the runtime's worker, actor and call metrics. */
  readonly metrics: Registry;
  /** Counts a dropped piece of bad input (`source` e.g. `http`, `rtp`, `twilio`). */
  countBadInput(source: string, reason: string): void;
  /** Counts a fault in one call's handling that ended that call (`stage`: where it was caught). */
  countCallError(source: string, stage: string): void;

  createCall(req: CallRequest): Promise<CallInfo>;
  listCalls(): CallInfo[];
  getCall(id: string): CallInfo | undefined;
  /** Sends DTMF digits to the caller (RFC 4733 on RTP legs); false when there is no such call. */
  sendDtmf(callId: string, digits: string): Promise<boolean>;
  /** Answers a tool call of the call's agent (`tool.call` event) with its output; false when there is no such call. */
  sendToolOutput(callId: string, toolCallId: string, output: string): Promise<boolean>;
  /** Hangs up; false when there is no such call. */
  deleteCall(id: string): Promise<boolean>;

  /** Stops taking calls; resolves when live calls ended or the deadline passed. */
  drain(deadlineMs: number): Promise<void>;
  /** Injects a fault into the worker hosting `actorId` (or the worker named so). */
  injectFault(target: string, kind: FaultKind): Promise<void>;
  /** Stops every worker; idempotent. */
  stop(): Promise<void>;
}
