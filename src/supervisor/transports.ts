import { quote } from '../wire/text.ts';
import type { ActorConfig } from '../protocol.ts';
import type { FrameRing } from '../frames/FrameRing.ts';
import { RequestError, type CallRequest } from './Runtime.ts';

/**
 * How a call's transport plugs into the registry: it validates the request,
 * creates the call's actors, and answers with its own fields. A leg (RTP,
 * Twilio, …) is one transport entry.
 */
export interface TransportContext {
  readonly callId: string;
  /** Creates one of the call's actors; `shared` wires it to rings of actors created before. */
  createActor(kind: string, config: ActorConfig, callId: string, shared?: Readonly<Record<string, FrameRing>>): Promise<string>;
  ringOf(actorId: string, name: string): FrameRing | undefined;
  /** An actor's published figures by name (read from its stats slots, no message). */
  statsOf(actorId: string): Readonly<Record<string, number>> | undefined;
  /** Adds an event to the call (shown under it); for things the transport sees itself (a caller's DTMF). */
  emit(name: string, data: Record<string, unknown>): void;
}

export interface CallSetup {
  actors: string[];
  /** Merged into the call's answer (e.g. `{ rtp: { localPort } }`). */
  answer: Record<string, unknown>;
  /** Releases what the transport holds outside actors (ports…), after hang-up. */
  release?(): void;
  /** Why the call ended by itself (the peer hung up), or undefined while it goes on; polled. */
  ended?(): string | undefined;
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
      const actor = await ctx.createActor('capture', { source: 'synthetic', rateHz, toneHz }, ctx.callId);
      return { actors: [actor], answer: { rateHz } };
    } catch (err) {
      if (isRangeError(err)) {
        throw new RequestError(422, err.message);
      }
      throw err;
    }
  },
};
