import OpenAI from 'openai';
import { clip } from '../../../wire/text.ts';

/** The three stages of the pipeline, as named in events and metrics. */
export type StageName = 'stt' | 'llm' | 'tts';

/** Why an attempt failed: the kinds a stage reports in its `pipeline.error` event. */
export type FailureKind = 'timeout' | 'status' | 'malformed' | 'oversize' | 'connection';

export interface StageFailure {
  stage: StageName;
  kind: FailureKind;
  /** The HTTP status, for `status`. */
  status: number | null;
  message: string;
  /** 1 for the first attempt, 2 for the retry. */
  attempt: number;
  /** True when a second attempt follows. */
  retrying: boolean;
}

/** A reply that does not follow the API's shape (a chunk without choices, a stream cut before its end). */
export class MalformedReply extends Error {
  override name = 'MalformedReply';
}

/** A reply beyond a bound (PipelineStages.ts): reported, not retried (the same request would run on again). */
export class OversizeReply extends MalformedReply {
  override name = 'OversizeReply';
}

/** The turn the attempt belongs to was cancelled (barge-in, a new turn, the call's end): not a failure. */
export class Cancelled extends Error {
  override name = 'Cancelled';
}

/** What an attempt gets: its signal, and `touch` to call on every piece of data (the idle timer restarts). */
export interface AttemptContext {
  signal: AbortSignal;
  touch(): void;
  /**
   * The server said how long it worked on the request (`openai-processing-ms`):
   * the stage passes on the rest of the time to the response's headers — the
   * round trip, the client and this thread's delays, the engine's share.
   */
  overhead(ms: number): void;
  /** Set when output was already used (spoken): a retry would say it twice, so none follows. */
  committed: boolean;
}

/** Attempts a stage makes at most: the first, and one retry. */
export const STAGE_ATTEMPTS = 2;
const TIMED_OUT = 'stage timed out';

function classify(err: unknown, timedOut: boolean): { kind: FailureKind; status: number | null; retryable: boolean; message: string } {
  // A server's words: cut by code points (no half surrogate pair), never trusted to be short.
  const message = clip(err instanceof Error ? err.message : String(err), 300);
  if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'timeout', status: null, retryable: true, message };
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    // Rate limits and server errors pass; other 4xx say the request itself is wrong and would fail again.
    const s = err.status;
    return { kind: 'status', status: s, retryable: s === 408 || s === 429 || s >= 500, message };
  }
  if (err instanceof OversizeReply) return { kind: 'oversize', status: null, retryable: false, message };
  if (err instanceof OpenAI.APIConnectionError) return { kind: 'connection', status: null, retryable: true, message };
  // An error event inside the stream, JSON that does not parse, or a reply of the wrong shape.
  return { kind: 'malformed', status: null, retryable: true, message };
}

/**
 * Runs `run` at most STAGE_ATTEMPTS times: a timeout (nothing received for
 * `timeoutMs`), a 408/429/5xx, a lost connection or a malformed reply is
 * reported through `onFailure` and retried once — unless the attempt had
 * already committed output. Returns the result, or undefined when the stage
 * failed for good; throws Cancelled when `turn` was aborted.
 */
export async function withRetry<T>(
  stage: StageName,
  turn: AbortSignal,
  timeoutMs: number,
  run: (a: AttemptContext) => Promise<T>,
  onFailure: (f: StageFailure) => void,
  onOverhead: (ms: number) => void = () => {},
): Promise<T | undefined> {
  for (let attempt = 1; attempt <= STAGE_ATTEMPTS; attempt++) {
    const own = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => own.abort(new Error(TIMED_OUT)), timeoutMs);
    };
    const ctx: AttemptContext = { signal: AbortSignal.any([turn, own.signal]), touch, committed: false, overhead: onOverhead };
    touch();
    try {
      return await run(ctx);
    } catch (err) {
      if (turn.aborted) throw new Cancelled(`${stage} cancelled`);
      const c = classify(err, own.signal.aborted);
      const retrying = c.retryable && !ctx.committed && attempt < STAGE_ATTEMPTS;
      onFailure({ stage, kind: c.kind, status: c.status, message: c.message, attempt, retrying });
      if (!retrying) return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
  return undefined;
}
