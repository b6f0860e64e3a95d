import { RECORD_AGENT_ROLE, RECORD_CALLER_ROLE } from '../frames/edges.ts';
import type { FrameRing } from '../frames/FrameRing.ts';
import type { CallRequest } from '../supervisor/Runtime.ts';
import { RequestError } from '../supervisor/Runtime.ts';
import { quote } from '../wire/text.ts';
import type { CallGraph } from './CallGraph.ts';

/** A recording's channels in file order: the caller left, the agent right (DESIGN: recordings). */
export const RECORD_ROLES = [RECORD_CALLER_ROLE, RECORD_AGENT_ROLE] as const;

/** The request's `record` (absent: false); a 422 for anything but a boolean. */
export function recordRequested(req: CallRequest): boolean {
  const v = req['record'];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new RequestError(422, `record: expected true or false, got ${quote(v)}`);
  return v;
}

/** The graph with a tap on every node whose kind writes a recording channel (`hasRole` asks the kind). */
export function withRecordTaps(graph: CallGraph, hasRole: (kind: string, role: string) => boolean): CallGraph {
  const taps: (readonly [string, string])[] = [];
  for (const [name, n] of Object.entries(graph.nodes)) {
    for (const role of RECORD_ROLES) if (hasRole(n.kind, role)) taps.push([name, role]);
  }
  return { ...graph, taps };
}

/** The call's rate: the first node configuration that states one (`rateHz`). */
export function graphRateHz(graph: CallGraph): number | undefined {
  for (const n of Object.values(graph.nodes)) {
    const r = n.config['rateHz'];
    if (typeof r === 'number' && Number.isInteger(r) && r > 0) return r;
  }
  return undefined;
}

/** The call's recording channels, by role in file order, found among its actors' rings; undefined when one is missing. */
export function recordRings(actors: readonly string[], ringOf: (actorId: string, role: string) => FrameRing | undefined): FrameRing[] | undefined {
  const out: FrameRing[] = [];
  for (const role of RECORD_ROLES) {
    const ring = actors.map((a) => ringOf(a, role)).find((r) => r !== undefined);
    if (ring === undefined) return undefined;
    out.push(ring);
  }
  return out;
}
