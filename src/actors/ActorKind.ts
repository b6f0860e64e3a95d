import type { EdgeKind } from '../frames/edges.ts';

/**
 * How the supervisor knows an actor kind: which worker entry hosts it, what
 * rings it needs and which figures it publishes. A new actor is one folder
 * (`src/actors/<name>/` with `<name>.worker.ts` and `kind.ts`) and one line in
 * `registry.ts`.
 */
export type PoolName = 'media' | 'network' | 'agent' | 'capture';

/**
 * Where a call's actors run. `call`: all of a call's actors share one call
 * worker (src/actors/call/call.worker.ts hosts every per-call kind) and run
 * in stage order within a tick, so a frame crosses the whole call — leg in,
 * jitter/PLC, agent, leg out — in the tick it arrives in, and no ring hop
 * waits for another thread's tick (up to 20 ms each). `kind`: each kind on
 * its own pool (media, network, agent workers), as the design's table draws
 * it; a slow agent or leg kind is then isolated from the others.
 */
export type Placement = 'call' | 'kind';

/** The worker entry of the `call` placement, relative to src/actors/. */
export const CALL_WORKER_ENTRY = './call/call.worker';
/** The host key (pool, worker ids `call-0`, …) of call workers. */
export const CALL_HOST = 'call';

export interface RingSpec {
  /** Role name the actor sees it under (`out`, `in`, …). */
  name: string;
  /** What the ring carries, and so its size (src/frames/edges.ts): both ends of an edge name the same kind. */
  edge: EdgeKind;
  /** Made only when the call's graph asks for it (a recording tap): a call that does not record holds no such ring. */
  optional?: boolean;
}

export interface ActorKind {
  name: string;
  /** Worker pool whose size comes from configuration. */
  pool: PoolName;
  /** The worker entry, relative to src/actors/, without extension. */
  entry: string;
  rings: readonly RingSpec[];
  /** Names of the Float64 stats slots, in order. */
  stats: readonly string[];
  /** The stats that describe call quality: exported per call in /metrics and under each call in /status. */
  qos?: readonly string[];
  /**
   * Order within a worker's tick, lowest first: a producer before its
   * consumers (jitter/PLC 0, agent 1, legs 2), so what one writes in a tick
   * the next reads in the same tick. Default 0.
   */
  stage?: number;
  /** Hosted by the call workers under the `call` placement (one per call, on the call's worker). */
  perCall?: boolean;
}

/** The host (pool) an actor of `kind` runs on under `placement`. */
export function hostOf(kind: ActorKind, placement: Placement): string {
  return placement === 'call' && kind.perCall === true ? CALL_HOST : kind.name;
}
