import type { CallResult } from '../load/loadProtocol.ts';
import type { Prng } from '../load/prng.ts';

/**
 * The chaos run's faults and what they cost: which worker was hit when, with
 * what, and which calls it hosted then; each reported silence of a call is
 * laid at the fault that explains it (one on the call's worker shortly
 * before), or counted against the engine when none does.
 */

export const CHAOS_FAULTS = ['crash', 'hang', 'oom', 'terminate', 'exit'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export interface InjectedFault {
  atMs: number;
  worker: string;
  kind: ChaosFault;
  /** The calls the worker hosted when it was hit. */
  calls: string[];
  /** Refused by the daemon (the worker was not ready): no fault happened. */
  error?: string;
}

/** A silence that ended this long after a fault on the call's worker is that fault's. */
export const ATTRIBUTION_MS = 5_000;

/** Picks the next fault: a seeded kind and worker. */
export function pickFault(prng: Prng, workers: readonly string[], kinds: readonly ChaosFault[]): { worker: string; kind: ChaosFault } {
  return { worker: workers[Math.floor(prng.next() * workers.length)]!, kind: kinds[Math.floor(prng.next() * kinds.length)]! };
}

export interface FaultCost {
  fault: InjectedFault;
  /** The longest silence of each affected call the fault explains, ms (0: the call heard none). */
  gapsMs: number[];
}

export interface GapVerdict {
  perFault: FaultCost[];
  /** Silences no fault explains: on calls whose worker was not hit, or long after. */
  unexplained: Array<{ callId: string; endedAtMs: number; ms: number }>;
}

/** Lays every reported silence of every call at the fault that explains it. */
export function attributeGaps(faults: readonly InjectedFault[], calls: readonly CallResult[]): GapVerdict {
  const perFault: FaultCost[] = faults.map((fault) => ({ fault, gapsMs: [] }));
  const unexplained: GapVerdict['unexplained'] = [];
  const byCall = new Map<string, number[]>();
  faults.forEach((f, i) => {
    if (f.error !== undefined) return;
    for (const c of f.calls) byCall.set(c, [...(byCall.get(c) ?? []), i]);
  });
  for (const call of calls) {
    if (call.callId === null) continue;
    const hits = byCall.get(call.callId) ?? [];
    const worst = new Map<number, number>();
    for (const [endedAtMs, ms] of call.gaps) {
      // The silence began at endedAtMs − ms; the fault that explains it came at most ATTRIBUTION_MS before its end.
      const i = hits.filter((h) => faults[h]!.atMs <= endedAtMs && endedAtMs - faults[h]!.atMs <= ATTRIBUTION_MS).at(-1);
      if (i === undefined) unexplained.push({ callId: call.callId, endedAtMs, ms });
      else worst.set(i, Math.max(worst.get(i) ?? 0, ms));
    }
    for (const h of hits) perFault[h]!.gapsMs.push(worst.get(h) ?? 0);
  }
  return { perFault, unexplained };
}
