import { FrameKind, type PcmStretcher } from './FrameKind.ts';
import type { JitterStats } from './JitterStats.ts';
import type { SampleQueue } from './SampleQueue.ts';
import * as T from './playoutTuning.ts';

/**
 * How the playout (Playout.ts) moves its delay by time-scale modification of
 * the queued audio, NetEq's accelerate and preemptive expand: the grid point
 * it holds, the stretch in speech, the trim in a pause. Each returns the
 * FrameKind of what it did and keeps the stats' sample counts; none allocates.
 */

/**
 * The decision delay to hold: decisions fall on the 20 ms grid of pulls,
 * so the grid point nearest the target (less GRID_BIAS_MS). The few packets
 * later than it are waited for (Playout `#produce`) rather than paid for with
 * a frame of delay on every packet: with decisions 17 ms after the fastest
 * arrival and 0–40 ms jitter, the grid offers 37 ms (7.5% would be late
 * without the wait) or 57 ms (44% above the oracle's 39.6).
 */
export function gridPoint(delayMs: number, target: number): number {
  return delayMs + T.FRAME_MS * Math.round((target - T.GRID_BIAS_MS - delayMs) / T.FRAME_MS);
}

/** In speech: accelerates or expands the queued audio when the delay as heard is off the grid point held. */
export function steerSpeech(queue: SampleQueue, stretcher: PcmStretcher, stats: JitterStats, heardMs: number, gridMs: number): number {
  if (heardMs > gridMs + T.ACCELERATE_MARGIN_MS) {
    const d = queue.stretch(stretcher, -1);
    if (d === 0) return FrameKind.NORMAL;
    stats.removedSamplesForAcceleration -= d;
    return FrameKind.ACCELERATED;
  }
  if (heardMs < gridMs) {
    const d = queue.stretch(stretcher, 1);
    if (d === 0) return FrameKind.NORMAL;
    stats.insertedSamplesForDeceleration += d;
    return FrameKind.EXPANDED;
  }
  return FrameKind.NORMAL;
}

/**
 * In a pause: removes up to `excessSamples` of queued audio (one WSOLA
 * period, never more than the excess). Whole-frame drops leave up to a frame
 * of queue behind, which every packet of the next talkspurt then waits
 * through; on 0–40 ms jitter trimming it took the mean delay from 1.17× to
 * 1.13× the oracle (3 seeds) and PLCMOS from 3.95 to 4.02.
 */
export function trimPause(queue: SampleQueue, stretcher: PcmStretcher, stats: JitterStats, excessSamples: number): number {
  if (excessSamples <= 0) return FrameKind.NORMAL;
  const d = queue.stretch(stretcher, -1, excessSamples);
  if (d === 0) return FrameKind.NORMAL;
  stats.removedSamplesForAcceleration -= d;
  return FrameKind.ACCELERATED;
}
