import { fileURLToPath } from 'node:url';
import { gilbertElliott, type ImpairmentSettings } from './impairments.ts';
import { TRANSPORT_NAMES, type TransportName } from './transports.ts';

/**
 * What a load run does: its callers, their audio, the network between them
 * and the daemon, and where the daemon is. `validateLoadOptions` fills the
 * defaults and refuses anything that cannot run, with a LoadOptionError
 * naming the option, the value and what it expects.
 */

export const LOAD_CODECS = ['pcmu', 'pcma', 'g722', 'opus'] as const;
export type LoadCodec = (typeof LOAD_CODECS)[number];
export const LOAD_AGENTS = ['loopback', 'echo', 'tone'] as const;
export type LoadAgent = (typeof LOAD_AGENTS)[number];
/** `mixed`: RTP and Twilio callers alternately. */
export type LoadTransport = TransportName | 'mixed';

/** More streams than one machine's descriptors and ports serve (three sockets a call, two of them the daemon's). */
export const MAX_STREAMS = 5000;
/** Above this a delayed packet would outlive every sensible jitter buffer; it also bounds a caller's release queue. */
export const MAX_JITTER_MS = 1000;
export const MAX_RAMP_PER_S = 1000;
export const MAX_DURATION_S = 24 * 3600;

/** The shared test corpus beside the project (DESIGN.md, "Test data"), from src/load or dist/load alike. */
export const DEFAULT_SPEECH_DIR = fileURLToPath(new URL('../../../shared/data/speech/', import.meta.url));

export interface LoadOptions {
  streams: number;
  transport?: LoadTransport;
  codec?: LoadCodec;
  /** Calls started per second. */
  ramp?: number;
  /** Seconds each call lasts once set up. */
  duration?: number;
  agent?: LoadAgent;
  seed?: number;
  /** Impairments on the way in (see impairments.ts). */
  loss?: number;
  burst?: number;
  jitter?: number;
  reorder?: number;
  duplicate?: number;
  /** A running daemon (`http://host:port`); without one the run starts its own as a child process. */
  target?: string;
  /** Bearer token for the target's `/v1/*` and `/status`. */
  token?: string;
  /** The target's SIP port on the same host (`--transport sip` with `--target`); default 5060. */
  sipPort?: number;
  /** Caller threads; default: one per 250 streams, at most the machine's cores. */
  threads?: number;
  /** Directory of the speech corpus (WAV files); a synthetic speech-like signal when it holds none. */
  speechDir?: string;
}

export type ResolvedLoadOptions = Required<Omit<LoadOptions, 'target' | 'token' | 'burst' | 'sipPort'>> &
  Pick<LoadOptions, 'target' | 'token' | 'burst' | 'sipPort'>;

export class LoadOptionError extends RangeError {
  override name = 'LoadOptionError';
}

const STREAMS_PER_THREAD = 250;

function number(name: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new LoadOptionError(`--${name} expects ${integer ? 'an integer' : 'a number'} ${min}–${max} [got:${String(v).slice(0, 40)}]`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new LoadOptionError(`--${name} expects one of ${allowed.join(', ')} [got:${String(v).slice(0, 40)}]`);
  }
  return v as T;
}

function targetUrl(v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new LoadOptionError(`--target expects an http(s) URL such as http://127.0.0.1:8080 [got:${v.slice(0, 80)}]`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new LoadOptionError(`--target expects a plain http(s) URL without credentials, query or fragment [got:${v.slice(0, 80)}]`);
  }
  return url.origin;
}

/** Fills defaults and checks every option; throws LoadOptionError. */
export function validateLoadOptions(o: LoadOptions, cores: number): ResolvedLoadOptions {
  const streams = number('streams', o.streams, 1, MAX_STREAMS, true);
  const transport = oneOf<LoadTransport>('transport', o.transport ?? 'rtp', [...TRANSPORT_NAMES, 'mixed']);
  const codec = oneOf('codec', o.codec ?? 'pcmu', LOAD_CODECS);
  // SIP negotiates the codec in SDP; a Twilio Media Stream carries µ-law only.
  if ((transport === 'twilio' || transport === 'mixed') && codec !== 'pcmu') {
    throw new LoadOptionError(`--codec ${codec} cannot ride a Twilio Media Stream, which carries 8 kHz µ-law only (use pcmu, or --transport rtp)`);
  }
  const loss = number('loss', o.loss ?? 0, 0, 99);
  const burst = o.burst === undefined ? undefined : number('burst', o.burst, 1, 1000);
  try {
    gilbertElliott(loss, burst);
  } catch (err) {
    throw new LoadOptionError(`--loss/--burst: ${(err as Error).message}`);
  }
  const resolved: ResolvedLoadOptions = {
    streams,
    transport,
    codec,
    ramp: number('ramp', o.ramp ?? 50, 0.01, MAX_RAMP_PER_S),
    duration: number('duration', o.duration ?? 30, 0.2, MAX_DURATION_S),
    agent: oneOf('agent', o.agent ?? 'loopback', LOAD_AGENTS),
    seed: number('seed', o.seed ?? 1, 0, 2 ** 32 - 1, true),
    loss,
    burst,
    jitter: number('jitter', o.jitter ?? 0, 0, MAX_JITTER_MS),
    reorder: number('reorder', o.reorder ?? 0, 0, 100),
    duplicate: number('duplicate', o.duplicate ?? 0, 0, 100),
    target: o.target === undefined ? undefined : targetUrl(o.target),
    token: o.token,
    ...(o.sipPort !== undefined ? { sipPort: number('sip-port', o.sipPort, 1, 65535, true) } : {}),
    threads: number('threads', o.threads ?? Math.max(1, Math.min(cores, Math.ceil(streams / STREAMS_PER_THREAD))), 1, 64, true),
    speechDir: o.speechDir ?? DEFAULT_SPEECH_DIR,
  };
  if (resolved.token !== undefined && (resolved.token === '' || /[\r\n]/.test(resolved.token))) {
    throw new LoadOptionError('--token expects a non-empty token on one line');
  }
  return resolved;
}

/** The impairments the options ask for. */
export function impairmentSettings(o: ResolvedLoadOptions): ImpairmentSettings {
  return {
    lossPct: o.loss,
    ...(o.burst !== undefined ? { burstPackets: o.burst } : {}),
    jitterMs: o.jitter,
    reorderPct: o.reorder,
    duplicatePct: o.duplicate,
  };
}
