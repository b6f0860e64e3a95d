import type { EdgeKind } from '../frames/edges.ts';

/**
 * How the supervisor knows an actor kind: which worker entry hosts it, what
 * rings it needs and which figures it publishes. A new actor is one folder
 * (`src/actors/<name>/` with `<name>.worker.ts` and `kind.ts`) and one line in
 * `registry.ts`.
 */
export type PoolName = 'media' | 'network' | 'agent' | 'capture';

export interface RingSpec {
  /** Role name the actor sees it under (`out`, `in`, …). */
  name: string;
  /** What the ring carries, and so its size (src/frames/edges.ts): both ends of an edge name the same kind. */
  edge: EdgeKind;
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
}
