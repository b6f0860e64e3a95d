import type { FrameRing } from '../frames/FrameRing.ts';
import type { ActorConfig } from '../protocol.ts';

/**
 * A call declared as data: its actors (nodes) and the rings between them
 * (edges), in the manner of pipecat's `Pipeline([...])` — the transport says
 * what the call is, the registry makes it. Every call so far is one graph:
 *
 * ```
 *            packets            pcm              pcm
 *   leg ───────────────► jitter ─────► agent ───────────► leg
 *    ▲                   (PLC)          │ ▲
 *    └───────────────── heard ──────────┘ └─ (barge-in: CLEAR frames on its out)
 * ```
 *
 * An edge joins a producer's ring role to a consumer's (`[node, role]`); its
 * ring is made once, sized by the kind that owns it (src/frames/edges.ts), and
 * handed to both actors. Roles no edge names are the actor's own (a leg's
 * `wire` to the main thread, say).
 */
export interface GraphNode {
  /** Actor kind (src/actors/registry.ts). */
  readonly kind: string;
  readonly config: ActorConfig;
}

export interface GraphEdge {
  /** Writer: `[node, ring role]`. */
  readonly from: readonly [string, string];
  /** Reader: `[node, ring role]`. */
  readonly to: readonly [string, string];
}

export interface CallGraph {
  readonly nodes: Readonly<Record<string, GraphNode>>;
  readonly edges: readonly GraphEdge[];
  /**
   * Rings an actor writes for a reader outside the graph (the recording
   * writer thread): `[node, ring role]`, each made like an edge's ring, at
   * the call's rate. The registry adds them to a call that records.
   */
  readonly taps?: readonly (readonly [string, string])[];
}

/** Places one actor with the rings it shares (the registry's createActor). */
export type PlaceActor = (kind: string, config: ActorConfig, shared: Readonly<Record<string, FrameRing>>) => Promise<string>;
/** Makes the ring of an edge from its writer's ring spec (kind and role); throws RangeError when the two ends disagree. */
export type MakeRing = (from: GraphNode & { role: string }, to: GraphNode & { role: string }) => FrameRing;

/** Makes the ring of a tap (an actor's optional ring read off the graph). */
export type MakeTap = (n: GraphNode & { role: string }) => FrameRing;

/** The actor ids of a built call, by node name. */
export type BuiltGraph = Record<string, string>;

/**
 * Makes the graph's actors: every edge's ring first, then the nodes in
 * declaration order, each with its ends of the edges. A failure part-way
 * leaves the actors made so far in `made` for the caller to destroy.
 */
export async function buildGraph(
  graph: CallGraph,
  place: PlaceActor,
  makeRing: MakeRing,
  made: string[],
  makeTap?: MakeTap,
): Promise<BuiltGraph> {
  const shared: Record<string, Record<string, FrameRing>> = {};
  for (const name of Object.keys(graph.nodes)) shared[name] = {};
  for (const e of graph.edges) {
    const from = node(graph, e.from[0]);
    const to = node(graph, e.to[0]);
    const ring = makeRing({ ...from, role: e.from[1] }, { ...to, role: e.to[1] });
    shared[e.from[0]]![e.from[1]] = ring;
    shared[e.to[0]]![e.to[1]] = ring;
  }
  for (const [name, role] of graph.taps ?? []) {
    if (makeTap === undefined) throw new RangeError(`call graph: a tap ${name}.${role} but no way to make its ring`);
    shared[name]![role] = makeTap({ ...node(graph, name), role });
  }
  const built: BuiltGraph = {};
  for (const [name, n] of Object.entries(graph.nodes)) {
    const id = await place(n.kind, n.config, shared[name]!);
    made.push(id);
    built[name] = id;
  }
  return built;
}

function node(graph: CallGraph, name: string): GraphNode {
  const n = graph.nodes[name];
  if (n === undefined) throw new RangeError(`call graph: an edge names no node "${name}" [nodes:${Object.keys(graph.nodes).join(', ')}]`);
  return n;
}

/**
 * The call every leg so far makes: the leg's packets through a jitter/PLC
 * actor to the agent, the agent's audio back to the leg, and what the caller
 * heard from the leg to the agent (exact barge-in). `packets: false` for a
 * leg whose packets come from the main thread (a WebSocket leg).
 */
export function legCall(leg: GraphNode, jitter: ActorConfig, agent: ActorConfig, opts: { packets: boolean }): CallGraph {
  return {
    // The leg first: a call's actors are listed leg, agent, jitter (its rings exist before any actor does).
    nodes: { leg, agent: { kind: 'agent', config: agent }, jitter: { kind: 'jitter', config: jitter } },
    edges: [
      ...(opts.packets ? [{ from: ['leg', 'packets'], to: ['jitter', 'in'] } as const] : []),
      { from: ['jitter', 'out'], to: ['agent', 'in'] },
      { from: ['agent', 'out'], to: ['leg', 'in'] },
      { from: ['leg', 'heard'], to: ['agent', 'heard'] },
    ],
  };
}
