import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DeviceHostMessage, DeviceHostRequest, DeviceInfo } from '../protocol.ts';

/**
 * The daemon's side of a device host (deviceHost.ts): a child process per
 * request, so PortAudio's output and crashes stay out of the daemon. What the
 * child prints is kept (its last few KB) for the error that needs it, never
 * passed to the daemon's own stdout or stderr.
 */

/** A device scan probes every ALSA device, with retries for busy ones: it may take seconds. */
export const DEVICE_HOST_TIMEOUT_MS = 10_000;
/** After SIGTERM, how long the child may take to close its stream before SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** What is kept of the child's stdout and stderr. */
const NOISE_KEPT_CHARS = 4_000;

/** A refusal the request caused: no such device, an ambiguous name (the HTTP client's 422). */
export class DeviceNotFoundError extends RangeError {
  override name = 'RangeError';
}

/**
 * A device that could not be opened, as the actor reports it: prefixed with
 * the actor's kind (`capture: …`, `playback: …`) so the caller can tell which
 * end failed; a name no device has stays a RangeError (the request's fault).
 */
export function deviceError(kind: 'capture' | 'playback', err: unknown): Error {
  const message = `${kind}: ${err instanceof Error ? err.message : String(err)}`;
  return err instanceof RangeError ? new RangeError(message) : new Error(message);
}

/** Why device support is absent on this host, or undefined when naudiodon resolves. */
export function naudiodonMissing(): string | undefined {
  try {
    createRequire(import.meta.url).resolve('naudiodon');
    return undefined;
  } catch {
    return 'naudiodon is not installed (an optional dependency: npm install naudiodon builds the PortAudio bindings)';
  }
}

/** `node deviceHost.js` from a build; from source (tests, tsx) the `.ts` through tsx's loader. */
function hostCommand(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`./deviceHost.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  if (!fromSource) return [entry];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, entry];
}

interface Started {
  child: ChildProcess;
  first: Promise<DeviceHostMessage>;
  noise(): string;
}

function startHost(req: DeviceHostRequest, timeoutMs: number): Started {
  // cwd: naudiodon's crash handler writes crash.log where the process runs. detached: a process
  // group of its own, so a terminal's Ctrl-C (or `timeout`) signals the daemon, which then closes
  // its devices, and not the device hosts behind its back; a host whose daemon died ends on `disconnect`.
  const child = spawn(process.execPath, [...hostCommand(), JSON.stringify(req)], {
    cwd: tmpdir(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
  });
  let noise = '';
  const keep = (s: string): void => void (noise = (noise + s).slice(-NOISE_KEPT_CHARS));
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const first = new Promise<DeviceHostMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the device host did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as DeviceHostMessage);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const last = noise.trim().split('\n').slice(-1)[0] ?? '';
      reject(new Error(`the device host ended before answering [${signal ?? `exit ${code}`}${last ? `: ${last.slice(0, 200)}` : ''}]`));
    });
  });
  return { child, first, noise: () => noise };
}

function refusal(m: DeviceHostMessage): Error {
  if (m.type !== 'error') return new Error(`device host: unexpected answer "${m.type}"`);
  return m.unknownDevice === true ? new DeviceNotFoundError(m.message) : new Error(m.message);
}

/** The devices PortAudio finds (a child process scans them). Rejects with why not. */
export async function listDevices(timeoutMs = DEVICE_HOST_TIMEOUT_MS): Promise<DeviceInfo[]> {
  const missing = naudiodonMissing();
  if (missing !== undefined) throw new Error(missing);
  const { child, first } = startHost({ op: 'list' }, timeoutMs);
  child.stdio[4]?.destroy();
  const m = await first;
  if (m.type !== 'devices') throw refusal(m);
  return m.devices;
}

/**
 * One open device stream in its child process. `pcm` is the pipe of mono
 * s16le at the requested rate: readable for an input, writable for an output.
 */
export class DeviceStream {
  readonly device: DeviceInfo;
  readonly channels: number;
  readonly pcm: Readable & Writable;
  readonly #child: ChildProcess;
  readonly #noise: () => string;
  #ended = false;
  #error: string | undefined;
  #closing = false;
  #onEnd: ((error: string | undefined) => void) | undefined;

  private constructor(s: Started, opened: Extract<DeviceHostMessage, { type: 'opened' }>) {
    this.device = opened.device;
    this.channels = opened.channels;
    this.#child = s.child;
    this.#noise = s.noise;
    this.pcm = s.child.stdio[4] as Readable & Writable;
    // The stream's own write errors (EPIPE once the child is gone) are its end, reported below.
    this.pcm.on('error', () => undefined);
    s.child.on('message', (m) => {
      const msg = m as DeviceHostMessage;
      if (msg.type === 'error') this.#error ??= msg.message;
    });
    s.child.on('exit', (code, signal) => {
      this.#ended = true;
      if (!this.#closing) this.#error ??= `the device host ended [${signal ?? `exit ${code}`}]`;
      this.#onEnd?.(this.#closing ? undefined : this.#error);
    });
  }

  /** Opens `req` in a new child; rejects with DeviceNotFoundError for a name no device has, else an Error saying why. */
  static async open(req: Extract<DeviceHostRequest, { op: 'open' }>, timeoutMs = DEVICE_HOST_TIMEOUT_MS): Promise<DeviceStream> {
    const missing = naudiodonMissing();
    if (missing !== undefined) throw new Error(missing);
    const s = startHost(req, timeoutMs);
    let m: DeviceHostMessage;
    try {
      m = await s.first;
    } catch (err) {
      s.child.kill('SIGKILL');
      throw err;
    }
    if (m.type !== 'opened') {
      s.child.kill('SIGKILL');
      throw refusal(m);
    }
    return new DeviceStream(s, m);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Why the stream stopped by itself (the device failed, the child died); undefined while it runs or after close(). */
  get error(): string | undefined {
    return this.#closing ? undefined : this.#error;
  }

  /** The tail of what PortAudio and ALSA printed in the child (for a log line at debug level). */
  get noise(): string {
    return this.#noise();
  }

  /** Called once when the child ends: with the reason, unless close() ended it. */
  onEnd(fn: (error: string | undefined) => void): void {
    this.#onEnd = fn;
    // Ended before anyone listened (between the open and the actor's start): told all the same.
    if (this.#ended) queueMicrotask(() => fn(this.error));
  }

  /** Ends the stream: the pipe closed, SIGTERM, SIGKILL after a grace period. Safe to call twice. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#ended) return;
    this.pcm.end();
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), KILL_GRACE_MS);
    timer.unref();
    this.#child.once('exit', () => clearTimeout(timer));
  }
}
