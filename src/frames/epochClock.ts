/**
 * The clock every thread of the process reads alike, and the arrival stamps
 * rings carry on it (the ARRIVAL_MS slot word, layout.ts). A leg stamps a
 * packet when it receives it, so the consumer sees network jitter rather than
 * its own 20 ms tick.
 */

/** Milliseconds on a clock every thread shares (performance.now() has a per-thread origin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** An arrival time as a slot stores it: whole epoch milliseconds mod 2^32. */
export function arrivalStamp(epochMsValue: number): number {
  return Math.floor(epochMsValue) >>> 0;
}

/**
 * The epoch milliseconds of a stamp read at `nowMs`: the stamp is unwrapped
 * as an age of at most 2^31 ms (24 days), and a stamp from the future reads
 * as now.
 */
export function arrivalFromStamp(stamp: number, nowMs: number): number {
  const ageMs = (arrivalStamp(nowMs) - stamp) | 0;
  return nowMs - (ageMs > 0 ? ageMs : 0);
}

/**
 * When a PCM frame was made, as `pcm` edges carry it in the ARRIVAL_MS stamp
 * word (layout.ts): epoch microseconds mod 2^32 (wraps every 71 minutes; a
 * frame lives for milliseconds). 0 is "not stamped", so a stamp that would
 * be 0 is 1.
 */
export function madeStamp(epochMsValue: number): number {
  return Math.floor(epochMsValue * 1000) >>> 0 || 1;
}

/** Microseconds since a `madeStamp`, read at `nowMs` (≥ 0). */
export function madeAgeUs(stamp: number, nowMs: number): number {
  const age = ((Math.floor(nowMs * 1000) >>> 0) - stamp) | 0;
  return age > 0 ? age : 0;
}

/**
 * When the tick being run was due, on the epoch clock: set by the worker's
 * host before it ticks its actors (0 outside a tick). A tick fired late — a
 * burst catching up after a stall — still reads its own deadline, so what an
 * actor stamps with it (a recording tap's frames) lines up with the frame
 * clock rather than with when the thread got to run.
 */
let tickDueEpochMs = 0;

export function setTickDue(epochMsValue: number): void {
  tickDueEpochMs = epochMsValue;
}

export function tickDueMs(): number {
  return tickDueEpochMs;
}
