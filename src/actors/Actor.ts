import type { ActorCommand, ActorConfig } from '../protocol.ts';
import type { FrameRing } from '../frames/FrameRing.ts';
import type { ActorLogger } from './host.ts';

/**
 * A logical actor hosted on a worker. Many actors share one worker; the host
 * calls `tick` for each once per 20 ms frame. `tick` is the real-time path:
 * it allocates nothing and returns the number of frames it processed. A tick
 * that throws is a bug: the host isolates it (the actor is marked failed and
 * reported) so the worker's other actors keep playing.
 */
export interface HostedActor {
  tick(tickIndex: number): number;
  /**
   * Applies a command at control time, between two ticks. Throws a RangeError
   * for a command it does not take (`commandRefused`) or cannot apply now; an
   * actor without this method takes none.
   */
  command?(command: ActorCommand): void;
  /** Releases what the actor holds; called once. */
  close(): void;
}

export interface ActorContext {
  readonly actorId: string;
  readonly log: ActorLogger;
  /** The actor's rings by role, attached to the buffers the supervisor owns. */
  readonly rings: Readonly<Record<string, FrameRing>>;
  /** Figures the supervisor reads without a message, in the order of the kind's `stats`. */
  readonly stats: Float64Array;
  readonly tickMs: number;
  /**
   * Reports an event to the actor's call (shown under the call in /v1/calls/:id
   * and /status): a tool call, a session error. Control rate only — it posts a
   * message — never per frame.
   */
  emit(name: string, data: Record<string, unknown>): void;
  /**
   * Proof of life from an I/O callback (a datagram read): a worker draining a
   * burst of input queued while the machine starved it is busy, not hung.
   * Allocation-free; optional so an actor can run without a host.
   */
  readonly alive?: () => void;
}

/**
 * Creates an actor from its configuration (control time: may throw or reject
 * to refuse it). Async for actors that must acquire something first (a bound
 * UDP socket).
 */
export type ActorFactory = (ctx: ActorContext, config: ActorConfig) => HostedActor | Promise<HostedActor>;

/** The refusal of a command an actor kind does not take: a RangeError, a 422 for the HTTP client. */
export function commandRefused(kind: string, command: ActorCommand): RangeError {
  return new RangeError(`actor kind "${kind}" takes no "${command.type}" command`);
}
