import type { ImpairmentSettings } from './impairments.ts';
import type { LoadAgent, LoadCodec } from './LoadOptions.ts';
import type { TransportName } from './transports.ts';

/**
 * Every message between the driver's main thread and its caller threads
 * (src/load/caller.worker.ts): a union on `type` each way.
 */

export interface CallerPlan {
  index: number;
  transport: TransportName;
  /** When to start setting the call up (epoch ms, as performance.timeOrigin + performance.now()). */
  startAtMs: number;
  seed: number;
}

export interface ThreadRun {
  codec: LoadCodec;
  agent: LoadAgent;
  durationS: number;
  impairments: ImpairmentSettings;
  /** The daemon's origin, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** The daemon's SIP port on 127.0.0.1 (SIP callers). */
  sipPort?: number;
  token?: string;
  speechDir: string;
}

export type ToCallerThread = { type: 'start'; thread: number; callers: CallerPlan[]; run: ThreadRun } | { type: 'stop' };

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export type CallOutcome = 'completed' | 'refused' | 'failed';

/** One call's figures, as its caller measured them. */
export interface CallResult {
  index: number;
  transport: TransportName;
  /** The daemon's id for the call (RTP) or the stream's sid (Twilio); null when it never started. */
  callId: string | null;
  outcome: CallOutcome;
  /** Why a call was refused or failed. */
  error?: string;
  startedAtMs: number;
  setupMs: number;
  /** How long the caller sent for. */
  durationMs: number;
  /** Frames the caller's clock produced, the network's losses among them. */
  framesSent: number;
  packetsLost: number;
  packetsDuplicated: number;
  packetsReordered: number;
  /** Returned packets expected while the caller spoke (one a frame), and those that came. */
  returnExpected: number;
  returned: number;
  returnedPct: number;
  returnedDuplicates: number;
  returnedOutOfOrder: number;
  /** Not RTP, or RTP of another payload type, or a Media Stream message that does not parse. */
  returnedMalformed: number;
  /** From elsewhere than the call's own port, and RTCP. */
  returnedStray: number;
  decodeErrors: number;
  /** RFC 3550 §6.4.1 interarrival jitter of the returned stream at the end, ms. */
  jitterMs: number | null;
  latency: LatencySummary | null;
  alignedWindows: number;
  unalignedWindows: number;
  /**
   * The longest silence between two returned packets while the caller spoke, less the frame
   * they are apart by design, ms (0: none longer than a frame), and when it ended (epoch ms):
   * what a worker restart costs the call.
   */
  longestGapMs: number;
  longestGapEndedAtMs: number | null;
  /** Silences longer than GAP_REPORT_MS beyond the frame, as [ended at (epoch ms), ms], the first MAX_GAPS_KEPT. */
  gaps: Array<[number, number]>;
  rFactor: number | null;
  mos: number | null;
  /** Twilio: marks the daemon sent and this caller echoed once played. */
  marksEchoed?: number;
}

export interface ThreadProgress {
  thread: number;
  live: number;
  completed: number;
  refused: number;
  failed: number;
  framesSent: number;
  returned: number;
  returnExpected: number;
}

export type FromCallerThread =
  | { type: 'progress'; progress: ThreadProgress }
  | { type: 'call'; result: CallResult; latencyBins: Uint32Array }
  | { type: 'notice'; message: string }
  | { type: 'done'; thread: number }
  | { type: 'fatal'; message: string };
