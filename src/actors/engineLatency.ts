import { madeAgeUs } from '../frames/epochClock.ts';

/**
 * Engine-added latency, measured on every frame a leg puts on the wire: from
 * the jitter/PLC's playout of the caller's frame (stamped on the `pcm` edge,
 * epochClock.ts `madeStamp`) through the agent (the loopback agent passes the
 * stamp on) to the packet leaving. The jitter buffer's own delay is not in
 * it: this is what the engine adds — ring hops waiting for another thread's
 * tick, and the tick's work before this call's turn. A frame the agent made
 * itself carries no stamp and is not counted.
 *
 * Kept as a histogram in the leg's stats slots, so /status and /metrics give
 * percentiles across calls without per-frame messages.
 */
export const ENGINE_LATENCY_BOUNDS_US = [500, 1000, 2000, 5000, 10_000, 20_000, 40_000] as const;

export const ENGINE_LATENCY_STATS = [
  'engineLatencyFrames',
  'engineLatencyMaxUs',
  ...ENGINE_LATENCY_BOUNDS_US.map((b) => `engineLatencyLe${b}us`),
  'engineLatencyOver40000us',
] as const;

/** Records one frame's engine latency into `stats` from slot `at` (ENGINE_LATENCY_STATS in order); allocation-free. */
export function recordEngineLatency(stats: Float64Array, at: number, stamp: number, nowMs: number): void {
  if (stamp === 0) return;
  const us = madeAgeUs(stamp, nowMs);
  stats[at] = stats[at]! + 1;
  if (us > stats[at + 1]!) stats[at + 1] = us;
  let b = 0;
  while (b < ENGINE_LATENCY_BOUNDS_US.length && us > ENGINE_LATENCY_BOUNDS_US[b]!) b++;
  stats[at + 2 + b] = stats[at + 2 + b]! + 1;
}
