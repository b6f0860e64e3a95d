import type { FrameRing } from '../frames/FrameRing.ts';
import type { ActorConfig } from '../protocol.ts';
import type { ActorKind } from '../actors/ActorKind.ts';
import type { ActorStatus } from './Runtime.ts';
import type { WorkerSlot } from './WorkerSlot.ts';

/** What the supervisor keeps of an actor: enough to re-create it, same configuration and rings, after its worker restarts. */
export interface ActorRecord {
  readonly id: string;
  readonly kind: ActorKind;
  readonly config: ActorConfig;
  readonly rings: Record<string, FrameRing>;
  readonly stats: Float64Array;
  readonly statsBuffer: SharedArrayBuffer;
  /** Where it runs; changes when its worker fails and it is re-homed on another of its kind. */
  slot: WorkerSlot;
  readonly callId: string | undefined;
  state: ActorStatus['state'];
  restarts: number;
}

export function actorStatus(a: ActorRecord): ActorStatus {
  const stats: Record<string, number> = {};
  a.kind.stats.forEach((name, i) => (stats[name] = a.stats[i]!));
  return { id: a.id, kind: a.kind.name, worker: a.slot.id, state: a.state, restarts: a.restarts, stats };
}
