/**
 * Plain TypeScript level meter: the specification assembly/level.ts is tested
 * against and benchmarked beside.
 *
 * Full scale is 32767: a full-scale sine reads 0 dBFS peak and −3.01 dBFS
 * RMS. −32768 counts as full scale, so no reading exceeds 0 dBFS. Silence
 * reads `LEVEL_FLOOR_DBFS`, a finite number that survives JSON and metrics.
 */

export const LEVEL_FLOOR_DBFS = -120;
/** Largest frame a meter accepts: 120 ms at 48 kHz. */
export const LEVEL_MAX_SAMPLES = 5760;
const FULL_SCALE = 32767;

export interface Level {
  rmsDbfs: number;
  peakDbfs: number;
}

export function rmsDbfsOf(sumSquares: number, n: number): number {
  if (n <= 0 || sumSquares <= 0) return LEVEL_FLOOR_DBFS;
  const db = 10 * Math.log10(sumSquares / n / (FULL_SCALE * FULL_SCALE));
  return Math.min(0, Math.max(LEVEL_FLOOR_DBFS, db));
}

export function peakDbfsOf(peak: number): number {
  if (peak <= 0) return LEVEL_FLOOR_DBFS;
  return Math.max(LEVEL_FLOOR_DBFS, 20 * Math.log10(Math.min(peak, FULL_SCALE) / FULL_SCALE));
}

/** RMS and peak of a frame (allocates its result: a reference, not for the per-frame path). */
export function levelReference(frame: Int16Array): Level {
  let sumSquares = 0;
  let peak = 0;
  for (let k = 0; k < frame.length; k++) {
    const x = frame[k]!;
    sumSquares += x * x;
    const a = Math.abs(x);
    if (a > peak) peak = a;
  }
  return { rmsDbfs: rmsDbfsOf(sumSquares, frame.length), peakDbfs: peakDbfsOf(peak) };
}
