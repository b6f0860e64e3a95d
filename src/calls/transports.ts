import { quote } from '../wire/text.ts';
import type { FrameRing } from '../frames/FrameRing.ts';
import { RequestError, type CallRequest } from '../supervisor/Runtime.ts';
import type { BuiltGraph, CallGraph } from './CallGraph.ts';

/**
 * How a call's transport (a leg kind: RTP, Twilio, …) plugs into the
 * registry: it validates the request, declares the call's graph of actors
 * (src/calls/CallGraph.ts) for the registry to build, and answers with its own
 * fields. Adding a leg kind is one transport and its actor kind.
 */
export interface TransportContext {
  readonly callId: string;
  /** Makes the call's actors and the rings between them; resolves with their ids by node name. */
  build(graph: CallGraph): Promise<BuiltGraph>;
  /** The supervisor's end of one of the call's rings (a WebSocket leg's main-thread side). */
  ringOf(actorId: string, name: string): FrameRing | undefined;
  /** A reader of one of an actor's stats slots (its kind's `stats` name), read where it lives; undefined for an unknown one. */
  statOf?(actorId: string, name: string): (() => number) | undefined;
  /** Adds an event to the call (shown under it); for things the transport sees itself (a caller's DTMF). */
  emit(name: string, data: Record<string, unknown>): void;
  /** The peer ended the call (a Media Stream stopped): ends it, once. */
  end(detail: string): void;
}

export interface CallSetup {
  /** Merged into the call's answer (e.g. `{ rtp: { localPort } }`). */
  answer: Record<string, unknown>;
  /** Releases what the transport holds outside actors (ports, a socket), after hang-up. */
  release?(): void;
  /** Quality figures the transport keeps outside actors (the main thread's side of a WebSocket leg). */
  qos?(): Record<string, number>;
}

export interface Transport {
  readonly name: string;
  create(req: CallRequest, ctx: TransportContext): Promise<CallSetup>;
}

/** A RangeError from an actor's factory (possibly across a thread, where only its name survives). */
export function isRangeError(err: unknown): err is Error {
  return err instanceof Error && (err instanceof RangeError || err.name === 'RangeError');
}

function optionalNumber(req: CallRequest, key: string, fallback: number): number {
  const v = req[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RequestError(422, `${key}: expected a number, got ${quote(v)}`);
  }
  return v;
}

/**
 * A call whose caller is a local synthetic source (a tone on a capture
 * actor): the load driver's and the tests' way to run streams without a
 * network peer.
 */
export const syntheticTransport: Transport = {
  name: 'synthetic',
  async create(req, ctx) {
    const rateHz = optionalNumber(req, 'rateHz', 16000);
    const toneHz = optionalNumber(req, 'toneHz', 440);
    try {
      await ctx.build({ nodes: { caller: { kind: 'capture', config: { source: 'synthetic', rateHz, toneHz } } }, edges: [] });
      return { answer: { rateHz } };
    } catch (err) {
      if (isRangeError(err)) {
        throw new RequestError(422, err.message);
      }
      throw err;
    }
  },
};
