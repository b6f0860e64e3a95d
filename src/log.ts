import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The main thread's logs: pino JSON lines on stdout, one object per event, in
 * the shape worker threads also write (numeric `level`, epoch-ms `time`). On
 * a terminal the same lines go through a small formatter instead, so a person
 * reads `12:00:01.234 INFO  listening url=http://…` rather than JSON.
 */

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Human-readable lines; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; default: stdout, written synchronously so none is lost at exit. */
  destination?: DestinationStream;
}

export function createLogger({ level, pretty, destination }: LoggerOptions): Logger {
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  const human = pretty ?? process.stdout.isTTY === true;
  return pino({ level, base: { pid: process.pid } }, human ? prettyDestination(out) : out);
}

/** An actor's logger: every line carries the actor's id. */
export function actorLogger(logger: Logger, actorId: string): Logger {
  return logger.child({ actor: actorId });
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLOURS: Readonly<Record<number, string>> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[41m' };
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
/** Fields every line has, or that the line's head already shows. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

/** Formats one pino JSON line for a terminal; lines that are not JSON pass through. */
export function formatPretty(line: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) return line.endsWith('\n') ? line : `${line}\n`;
    throw err;
  }
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '';
  const name = LEVEL_NAMES[level] ?? String(level);
  const tint = colour ? (LEVEL_COLOURS[level] ?? '') : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  let out = `${colour ? DIM : ''}${time}${colour ? RESET : ''} ${tint}${name}${tint ? RESET : ''} ${String(rec.msg ?? '')}`;
  if (fields) out += `  ${colour ? DIM : ''}${fields}${colour ? RESET : ''}`;
  const err = rec.err as { stack?: unknown; message?: unknown } | undefined;
  if (err !== undefined) out += `\n    ${String(err.stack ?? err.message ?? JSON.stringify(err)).replace(/\n/g, '\n    ')}`;
  return `${out}\n`;
}

/** A pino destination that writes formatted lines to `out`. */
export function prettyDestination(out: DestinationStream, colour = true): DestinationStream {
  return { write: (line: string) => out.write(formatPretty(line.replace(/\n$/, ''), colour)) };
}

/** Bad input: at most this many lines per key … */
export const BAD_INPUT_LINES_PER_WINDOW = 5;
/** … per this window; the rest are counted and summarised. */
export const BAD_INPUT_WINDOW_MS = 10_000;
/** Keys tracked at once; past it, further keys share one bucket so a flood of distinct keys stays bounded. */
export const RATE_LIMIT_MAX_KEYS = 1_000;
const OVERFLOW_KEY = '(other)';

interface Window {
  startMs: number;
  lines: number;
  suppressed: number;
}

export interface RateLimitOptions {
  linesPerWindow?: number;
  windowMs?: number;
  now?: () => number;
}

/**
 * Warnings about bad input from outside (a malformed packet, request or
 * message), limited per key so a flood of garbage cannot flood the log: the
 * first `linesPerWindow` lines of a key in a window are written, the rest
 * counted, and the count is written as one summary line when the key's window
 * ends (on its next line, or at `sweep()`).
 */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(log: Logger, opts: RateLimitOptions = {}) {
    this.#log = log;
    this.#limit = opts.linesPerWindow ?? BAD_INPUT_LINES_PER_WINDOW;
    this.#windowMs = opts.windowMs ?? BAD_INPUT_WINDOW_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Logs `msg` at warn level unless `key` is over its limit; returns whether it was written. */
  warn(key: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (w !== undefined && now - w.startMs >= this.#windowMs) {
      this.#summarise(key, w);
      this.#windows.delete(key);
      w = undefined;
    }
    if (w === undefined) {
      if (this.#windows.size >= RATE_LIMIT_MAX_KEYS) this.sweep();
      if (this.#windows.size >= RATE_LIMIT_MAX_KEYS && key !== OVERFLOW_KEY) return this.warn(OVERFLOW_KEY, fields, msg);
      w = { startMs: now, lines: 0, suppressed: 0 };
      this.#windows.set(key, w);
    }
    if (w.lines < this.#limit) {
      w.lines++;
      this.#log.warn({ ...fields, key }, msg);
      return true;
    }
    w.suppressed++;
    return false;
  }

  /** Writes the summaries of windows that have ended and forgets them. */
  sweep(): void {
    const now = this.#now();
    for (const [key, w] of this.#windows) {
      if (now - w.startMs >= this.#windowMs) {
        this.#summarise(key, w);
        this.#windows.delete(key);
      }
    }
  }

  /** Writes every pending summary now (at shutdown). */
  flush(): void {
    for (const [key, w] of this.#windows) this.#summarise(key, w);
    this.#windows.clear();
  }

  #summarise(key: string, w: Window): void {
    if (w.suppressed === 0) return;
    this.#log.warn(
      { key, suppressed: w.suppressed, windowMs: this.#windowMs },
      `suppressed ${w.suppressed} more line(s) like the above`,
    );
    w.suppressed = 0;
  }
}
