import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Runtime } from '../../supervisor/Runtime.ts';
import { HttpError } from '../errors.ts';
import { DashboardFeed } from './feed.ts';

/** One sample a second: the dashboard's promise of updates within a second. */
export const DASHBOARD_SAMPLE_MS = 1_000;
/** Ten minutes of charts at one point a second. */
export const DASHBOARD_HISTORY_S = 600;
/**
 * Event streams open at once at most: each costs a socket and its share of
 * the updates' bytes (about 40 KB a second at 1,000 calls); a few operators
 * need a few. Beyond: 503 with Retry-After.
 */
export const MAX_DASHBOARD_STREAMS = 8;
/**
 * A stream whose socket still holds this much unsent skips updates (and gets
 * a snapshot once it drains), so a slow reader costs at most this plus one
 * frame, never a queue that grows with time.
 */
export const MAX_STREAM_BUFFERED_BYTES = 256 * 1024;
/** A stream that has skipped every update this long is stuck: its connection is dropped. */
export const STREAM_STALL_MS = 15_000;
/** How long an EventSource waits before reconnecting (SSE `retry:`). */
const RECONNECT_MS = 2_000;
/** Retry-After of a refused stream: by then a closed page's stream is gone. */
const STREAM_RETRY_AFTER_S = 5;

export interface DashboardEventsOptions {
  sampleMs?: number;
  historySeconds?: number;
  maxStreams?: number;
  maxBufferedBytes?: number;
  stallMs?: number;
}

interface Stream {
  readonly res: ServerResponse;
  /** Set on connect and after a skipped update: the next frame is a snapshot. */
  needsSnapshot: boolean;
  /** When it began skipping updates (undefined: not behind). */
  behindSinceMs: number | undefined;
  skipped: number;
}

/** What a test or an operator can see of one open stream. */
export interface StreamState {
  bufferedBytes: number;
  skipped: number;
}

/**
 * The dashboard's Server-Sent Events (`GET /dashboard/events`): one sampler
 * on the main thread feeds every open stream from one shared frame, so the
 * cost per second does not grow with the viewers, only the bytes do. The
 * sampler runs from start to close for the history; call rows are read only
 * while a stream is open.
 */
export class DashboardEvents {
  readonly #runtime: Runtime;
  readonly #log: Logger;
  readonly #feed: DashboardFeed;
  readonly #streams = new Set<Stream>();
  readonly #sampleMs: number;
  readonly historySeconds: number;
  readonly maxStreams: number;
  readonly #maxBuffered: number;
  readonly #stallMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(runtime: Runtime, log: Logger, opts: DashboardEventsOptions = {}) {
    this.#runtime = runtime;
    this.#log = log;
    this.#sampleMs = opts.sampleMs ?? DASHBOARD_SAMPLE_MS;
    this.historySeconds = opts.historySeconds ?? DASHBOARD_HISTORY_S;
    this.maxStreams = opts.maxStreams ?? MAX_DASHBOARD_STREAMS;
    this.#maxBuffered = opts.maxBufferedBytes ?? MAX_STREAM_BUFFERED_BYTES;
    this.#stallMs = opts.stallMs ?? STREAM_STALL_MS;
    this.#feed = new DashboardFeed(runtime, this.historySeconds);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#feed.sample(Date.now(), { history: true, calls: false });
    this.#timer = setInterval(() => this.#tick(), this.#sampleMs);
    this.#timer.unref();
  }

  /** Ends every stream and stops sampling; safe to call twice. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const s of this.#streams) s.res.end();
    this.#streams.clear();
  }

  streams(): StreamState[] {
    return [...this.#streams].map((s) => ({ bufferedBytes: s.res.writableLength, skipped: s.skipped }));
  }

  /** Takes over `res` as an event stream sending `historySeconds` of history first; throws a 503 HttpError at the cap. */
  open(res: ServerResponse, historySeconds: number): void {
    if (this.#streams.size >= this.maxStreams) {
      throw new HttpError(503, 'too_many_streams', `${this.maxStreams} dashboard event streams are open; close one or try again later`, {
        headers: { 'Retry-After': String(STREAM_RETRY_AFTER_S) },
      });
    }
    const stream: Stream = { res, needsSnapshot: false, behindSinceMs: undefined, skipped: 0 };
    this.#streams.add(stream);
    // Whatever ends the response (the page closing, a drop, the server closing) forgets the stream: no timer is its own.
    res.once('close', () => this.#streams.delete(stream));
    res.on('error', () => res.destroy());
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // A buffering proxy in front would hold the updates back.
      'X-Accel-Buffering': 'no',
    });
    // The first viewer finds no call rows in the last sample (nobody watched): read them now.
    if (this.#streams.size === 1) this.#feed.sample(Date.now(), { history: false, calls: true });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    res.write(frame('snapshot', this.#feed.snapshot(historySeconds)));
  }

  #tick(): void {
    const watched = this.#streams.size > 0;
    try {
      this.#feed.sample(Date.now(), { history: true, calls: watched });
    } catch (err) {
      // A fault in reading the runtime must not stop the sampler: the next second tries again.
      this.#log.error({ err }, 'dashboard sample failed');
      return;
    }
    if (!watched) return;
    const now = performance.now();
    let update: string | undefined;
    let snapshot: string | undefined;
    for (const s of this.#streams) {
      if (s.res.writableLength > this.#maxBuffered) {
        s.skipped++;
        s.needsSnapshot = true;
        s.behindSinceMs ??= now;
        if (now - s.behindSinceMs >= this.#stallMs) {
          this.#log.warn({ bufferedBytes: s.res.writableLength, skipped: s.skipped }, 'dashboard stream stalled: dropped');
          this.#runtime.countBadInput('http', 'dashboard_stream_stalled');
          s.res.destroy();
          this.#streams.delete(s);
        }
        continue;
      }
      s.behindSinceMs = undefined;
      if (s.needsSnapshot) {
        s.needsSnapshot = false;
        s.res.write((snapshot ??= frame('snapshot', this.#feed.snapshot(this.historySeconds))));
      } else {
        s.res.write((update ??= frame('update', this.#feed.update())));
      }
    }
  }
}

/** One SSE event; the JSON has no raw line breaks, so it is one `data:` line. */
function frame(event: 'snapshot' | 'update', json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
