import type { Logger } from 'pino';
import type { ActorRecord } from './ActorRecord.ts';
import type { WorkerSlot } from './WorkerSlot.ts';
import { leastLoaded } from './workerPool.ts';

/** What moving actors needs of the supervisor. */
export interface RehomeHost {
  readonly log: Logger;
  readonly actors: ReadonlyMap<string, ActorRecord>;
  /** The workers of a kind. */
  slotsOf(kind: string): readonly WorkerSlot[];
  /** Creates the actor on its (new) slot with its configuration and rings. */
  sendCreate(a: ActorRecord): Promise<void>;
  /** Ends the actor's call when it cannot go on. */
  endCall(callId: string, detail: string): void;
}

/**
 * Moves the actors of worker `from` to the least-loaded live worker of their
 * kind that is not overloaded — the same configuration and rings, so their
 * calls go on after a gap — and returns those that found none. Used when a
 * worker fails (its actors would otherwise wait out a cool-down) and when it
 * crashes with no loaded spare thread to restart on (a thread start takes
 * hundreds of ms; a sibling takes one message).
 */
export function moveActors(from: WorkerSlot, host: RehomeHost, why: string): ActorRecord[] {
  const stuck: ActorRecord[] = [];
  // A call's actors move together: co-located (placement `call`) they stay in one tick.
  const callTargets = new Map<string, WorkerSlot | undefined>();
  for (const a of [...host.actors.values()].filter((x) => x.slot === from)) {
    const others = host.slotsOf(a.kind.name).filter((s) => s !== from && s.state === 'ready');
    let target: WorkerSlot | undefined;
    if (a.callId !== undefined && callTargets.has(a.callId)) {
      target = callTargets.get(a.callId);
    } else {
      try {
        target = others.length > 0 ? leastLoaded(others, host.actors, a.kind.name) : undefined;
      } catch {
        // Every sibling is overloaded: moving there would cost their calls too.
        target = undefined;
      }
      if (a.callId !== undefined) callTargets.set(a.callId, target);
    }
    if (target === undefined) {
      stuck.push(a);
      continue;
    }
    const to = target;
    a.slot = to;
    a.state = 'restarting';
    host.log.warn({ actor: a.id, from: from.id, to: to.id, why }, 'actor moved to another worker');
    host
      .sendCreate(a)
      .then(() => void a.restarts++)
      .catch((err: unknown) => {
        a.state = 'failed';
        host.log.error({ actor: a.id, worker: to.id, err }, 'actor could not be moved');
        if (a.callId !== undefined) host.endCall(a.callId, `worker ${from.id} ${why} and ${a.id} could not move`);
      });
  }
  return stuck;
}
