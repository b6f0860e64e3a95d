/**
 * Seeded network models for the jitter buffer and PLC evaluation: for N
 * packets of 20 ms each, when each was sent and when (or whether) it arrived.
 *
 * Clocks: `timestampMs` is the sender's media clock (20·seq, what the RTP
 * timestamp carries); `sendMs` and `arrivalMs` are on the receiver's clock.
 * They differ only in the drift models. Every model is a pure function of
 * (n, seed): the same arguments give the same trace.
 */
import { mulberry32 } from '../../test/helpers/prng.ts';

export const PACKET_MS = 20;
/** One-way delay of an unloaded path, the floor every model adds to. */
export const BASE_DELAY_MS = 30;

export interface PacketTrace {
  seq: number;
  /** Sender media time, 20·seq ms: what the receiver learns from the RTP timestamp. */
  timestampMs: number;
  /** When the packet left, on the receiver's clock. */
  sendMs: number;
  /** When it arrived, on the receiver's clock; null when lost. */
  arrivalMs: number | null;
  lost: boolean;
}

export type NetworkModel = (n: number, seed: number) => PacketTrace[];

type Rng = () => number;

/** Builds a trace from a per-packet one-way delay (null = lost). */
function trace(n: number, delayOf: (seq: number, sendMs: number) => number | null, clockRatio = 1): PacketTrace[] {
  const out: PacketTrace[] = [];
  for (let seq = 0; seq < n; seq++) {
    const timestampMs = PACKET_MS * seq;
    const sendMs = timestampMs * clockRatio;
    const delay = delayOf(seq, sendMs);
    out.push({ seq, timestampMs, sendMs, arrivalMs: delay === null ? null : sendMs + delay, lost: delay === null });
  }
  return out;
}

function uniformJitter(rng: Rng, maxMs: number): number {
  return rng() * maxMs;
}

/**
 * Lomax (Pareto II) extra delay: heavy tail, median = scale·(2^(1/shape) − 1).
 * Shape 2 with an 8 ms median puts the 99th percentile near 175 ms: a tail
 * that hurts, yet inside the jitter buffer's 200 ms maximum, so the ratio to
 * the 1%-late oracle stays a fair question (shape 1.5 puts it near 280 ms).
 */
const PARETO_SHAPE = 2;
const PARETO_MEDIAN_MS = 8;
const PARETO_SCALE_MS = PARETO_MEDIAN_MS / (2 ** (1 / PARETO_SHAPE) - 1);
/** A path that holds a packet longer than this has effectively lost it; the cap keeps traces finite. */
const PARETO_CAP_MS = 1000;

function paretoExtra(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: never an infinite delay
  return Math.min(PARETO_CAP_MS, PARETO_SCALE_MS * (u ** (-1 / PARETO_SHAPE) - 1));
}

function bernoulliLoss(rate: number): NetworkModel {
  return (n, seed) => {
    const rng = mulberry32(seed);
    return trace(n, () => (rng() < rate ? null : BASE_DELAY_MS));
  };
}

/**
 * Gilbert-Elliott two-state loss (Gilbert 1960, Elliott 1963) in its simple
 * form: every packet is lost in the bad state, none in the good one. The mean
 * burst is 1/p(bad→good) and the stationary loss p(g→b)/(p(g→b)+p(b→g)).
 */
export const GE_MEAN_BURST = 3;
export const GE_LOSS_RATE = 0.1;
const GE_BAD_TO_GOOD = 1 / GE_MEAN_BURST;
const GE_GOOD_TO_BAD = (GE_LOSS_RATE * GE_BAD_TO_GOOD) / (1 - GE_LOSS_RATE);

const gilbertElliott: NetworkModel = (n, seed) => {
  const rng = mulberry32(seed);
  // Start in the stationary distribution so short traces are not biased to "good".
  let bad = rng() < GE_LOSS_RATE;
  return trace(n, () => {
    const lost = bad;
    bad = bad ? rng() >= GE_BAD_TO_GOOD : rng() < GE_GOOD_TO_BAD;
    return lost ? null : BASE_DELAY_MS;
  });
};

const REORDER_RATE = 0.02;

/** A few packets held back 1–3 packet times (plus a little), so later ones overtake them. */
const reorder2: NetworkModel = (n, seed) => {
  const rng = mulberry32(seed);
  return trace(n, () => {
    if (rng() >= REORDER_RATE) return BASE_DELAY_MS;
    const packets = 1 + Math.floor(rng() * 3);
    return BASE_DELAY_MS + packets * PACKET_MS + 1 + rng() * (PACKET_MS / 2);
  });
};

export const SPIKE_INTERVAL_MS = 10_000;
export const SPIKE_MIN_MS = 300;
export const SPIKE_MAX_MS = 500;
/** How long the bottleneck link takes to put one queued packet through once the stall clears. */
const DRAIN_MS_PER_PACKET = 1;
const SPIKE_BACKGROUND_JITTER_MS = 5;

/**
 * Delay spikes: about every 10 s (8–12 s apart) the path stalls for 300–500
 * ms. A packet sent during the stall waits for its end, and the queue then
 * drains at link speed: the packets behind the spike arrive bunched, about a
 * millisecond apart, each with a delay that fell from the spike's height.
 */
const spikes: NetworkModel = (n, seed) => {
  const rng = mulberry32(seed);
  const nextGap = (): number => SPIKE_INTERVAL_MS * (0.8 + 0.4 * rng());
  let stallStart = nextGap();
  let stallEnd = stallStart + SPIKE_MIN_MS + rng() * (SPIKE_MAX_MS - SPIKE_MIN_MS);
  let queued = 0;
  return trace(n, (_seq, sendMs) => {
    while (sendMs >= stallEnd + queued * DRAIN_MS_PER_PACKET + PACKET_MS) {
      stallStart = stallEnd + nextGap();
      stallEnd = stallStart + SPIKE_MIN_MS + rng() * (SPIKE_MAX_MS - SPIKE_MIN_MS);
      queued = 0;
    }
    const background = BASE_DELAY_MS + uniformJitter(rng, SPIKE_BACKGROUND_JITTER_MS);
    if (sendMs < stallStart) return background;
    // Held in the queue: leaves when the stall is over and those ahead have gone.
    const leaves = stallEnd + queued * DRAIN_MS_PER_PACKET;
    queued++;
    return Math.max(background, leaves - sendMs + BASE_DELAY_MS);
  });
};

/** ±100 ppm: the sender's 20 ms last 20·(1 + ppm·1e-6) ms of receiver time. */
function drift(ppm: number): NetworkModel {
  return (n) => trace(n, () => BASE_DELAY_MS, 1 + ppm * 1e-6);
}

export const NETWORK_MODELS: Record<string, NetworkModel> = {
  none: (n) => trace(n, () => BASE_DELAY_MS),
  'uniform-jitter': (n, seed) => {
    const rng = mulberry32(seed);
    return trace(n, () => BASE_DELAY_MS + uniformJitter(rng, 40));
  },
  'pareto-jitter': (n, seed) => {
    const rng = mulberry32(seed);
    return trace(n, () => BASE_DELAY_MS + paretoExtra(rng));
  },
  'loss-5': bernoulliLoss(0.05),
  'loss-10': bernoulliLoss(0.1),
  'loss-20': bernoulliLoss(0.2),
  'gilbert-elliott': gilbertElliott,
  'reorder-2': reorder2,
  spikes,
  'drift+100': drift(100),
  'drift-100': drift(-100),
  /** A plausible default path: 0–40 ms jitter and 5% random loss. */
  realistic: (n, seed) => {
    const rng = mulberry32(seed);
    return trace(n, () => (rng() < 0.05 ? null : BASE_DELAY_MS + uniformJitter(rng, 40)));
  },
};

/** Per 20 ms frame: lost or not (what the PLC baselines take). */
export function lossPattern(t: readonly PacketTrace[]): boolean[] {
  return t.map((p) => p.lost);
}

/** The packets that arrived, in the order they arrived (ties by sequence). */
export function arrivalOrder(t: readonly PacketTrace[]): PacketTrace[] {
  return t.filter((p) => !p.lost).sort((a, b) => a.arrivalMs! - b.arrivalMs! || a.seq - b.seq);
}

/** Fraction of packets lost. */
export function lossRate(t: readonly PacketTrace[]): number {
  if (t.length === 0) return 0;
  let lost = 0;
  for (const p of t) if (p.lost) lost++;
  return lost / t.length;
}

/** Mean one-way delay (arrival − send) of the packets that arrived, ms. */
export function meanDelayMs(t: readonly PacketTrace[]): number {
  let sum = 0;
  let count = 0;
  for (const p of t) {
    if (p.arrivalMs === null) continue;
    sum += p.arrivalMs - p.sendMs;
    count++;
  }
  return count === 0 ? 0 : sum / count;
}

/** Mean length of a run of consecutive lost packets (0 when none is lost). */
export function meanBurstLength(t: readonly PacketTrace[]): number {
  let bursts = 0;
  let lost = 0;
  for (let i = 0; i < t.length; i++) {
    if (!t[i]!.lost) continue;
    lost++;
    if (i === 0 || !t[i - 1]!.lost) bursts++;
  }
  return bursts === 0 ? 0 : lost / bursts;
}

/**
 * Fraction of arrived packets that some later-sequenced packet overtook
 * (RFC 4737's "reordered" in spirit: a packet is out of order when it arrives
 * after one sent later).
 */
export function reorderRate(t: readonly PacketTrace[]): number {
  let arrived = 0;
  let overtaken = 0;
  // Walk backwards keeping the earliest arrival among later packets.
  let earliestLater = Infinity;
  for (let i = t.length - 1; i >= 0; i--) {
    const a = t[i]!.arrivalMs;
    if (a === null) continue;
    arrived++;
    if (a > earliestLater) overtaken++;
    if (a < earliestLater) earliestLater = a;
  }
  return arrived === 0 ? 0 : overtaken / arrived;
}

export interface TraceStats {
  packets: number;
  lossRate: number;
  meanBurstLength: number;
  meanDelayMs: number;
  maxDelayMs: number;
  reorderRate: number;
}

export function traceStats(t: readonly PacketTrace[]): TraceStats {
  let maxDelayMs = 0;
  for (const p of t) if (p.arrivalMs !== null) maxDelayMs = Math.max(maxDelayMs, p.arrivalMs - p.sendMs);
  return {
    packets: t.length,
    lossRate: lossRate(t),
    meanBurstLength: meanBurstLength(t),
    meanDelayMs: meanDelayMs(t),
    maxDelayMs,
    reorderRate: reorderRate(t),
  };
}
