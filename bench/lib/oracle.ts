/**
 * The hindsight yardstick for a jitter buffer's delay: the smallest FIXED
 * playout delay that would have played nearly every packet of a trace.
 *
 * Packet `seq` plays at t0 + timestampMs + D, where timestampMs = 20·seq is
 * its sender media time (all a receiver knows of when it was sent) and t0 is
 * the smallest (arrival − timestampMs) in the trace: the least one-way delay,
 * so D = 0 plays the fastest packet the moment it arrives. A packet is late
 * when it arrives after its playout time.
 */
import type { PacketTrace } from './network.ts';

/** The late-loss budget the oracle may spend (of the packets that arrived). */
export const ORACLE_LATE_FRACTION = 0.01;

export interface OracleDelay {
  /** The smallest fixed D, ms above t0. */
  delayMs: number;
  /** t0: the least (arrival − timestampMs), ms. */
  baseMs: number;
  /** t0 + D: the fixed one-way delay from media time to playout, ms. */
  playoutDelayMs: number;
  /** Late fraction at that D (≤ the budget). */
  lateRate: number;
}

/** t0 of a trace: the least (arrival − timestampMs); 0 when nothing arrived. */
export function baseDelayMs(trace: readonly PacketTrace[]): number {
  let t0 = Infinity;
  for (const p of trace) if (p.arrivalMs !== null) t0 = Math.min(t0, p.arrivalMs - p.timestampMs);
  return t0 === Infinity ? 0 : t0;
}

/**
 * The smallest D with at most ⌊lateFraction · arrived⌋ packets late. Packet i
 * is late exactly when its relative delay rᵢ = arrivalᵢ − timestampᵢ − t0
 * exceeds D, so D is an order statistic of the rᵢ.
 */
export function oracleDelay(trace: readonly PacketTrace[], lateFraction = ORACLE_LATE_FRACTION): OracleDelay {
  const baseMs = baseDelayMs(trace);
  const relative: number[] = [];
  for (const p of trace) if (p.arrivalMs !== null) relative.push(p.arrivalMs - p.timestampMs - baseMs);
  if (relative.length === 0) return { delayMs: 0, baseMs, playoutDelayMs: baseMs, lateRate: 0 };
  relative.sort((a, b) => a - b);
  const allowedLate = Math.floor(lateFraction * relative.length);
  const delayMs = relative[relative.length - 1 - allowedLate]!;
  return { delayMs, baseMs, playoutDelayMs: baseMs + delayMs, lateRate: lateLossRate(trace, () => delayMs) };
}

/**
 * Fraction of the arrived packets that arrive after their playout time
 * t0 + timestampMs + delayFn(packet); t0 is the trace's as above.
 */
export function lateLossRate(trace: readonly PacketTrace[], delayFn: (p: PacketTrace) => number): number {
  const baseMs = baseDelayMs(trace);
  let arrived = 0;
  let late = 0;
  for (const p of trace) {
    if (p.arrivalMs === null) continue;
    arrived++;
    if (p.arrivalMs > baseMs + p.timestampMs + delayFn(p)) late++;
  }
  return arrived === 0 ? 0 : late / arrived;
}

/**
 * Per frame, whether a plain fixed buffer has nothing to play: it starts
 * playing `delayMs` after the first packet arrives and then plays one 20 ms
 * frame per 20 ms whatever happens, so a lost packet and a late one are both
 * a gap. The "fixed 60 ms buffer" baseline.
 */
export function fixedBufferGaps(trace: readonly PacketTrace[], delayMs: number): boolean[] {
  let first: PacketTrace | undefined;
  for (const p of trace) {
    if (p.arrivalMs !== null && (first === undefined || p.arrivalMs < first.arrivalMs!)) first = p;
  }
  if (first === undefined) return trace.map(() => true);
  const startMs = first.arrivalMs! - first.timestampMs + delayMs;
  return trace.map((p) => p.arrivalMs === null || p.arrivalMs > startMs + p.timestampMs);
}
