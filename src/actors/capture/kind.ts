import type { ActorKind } from '../ActorKind.ts';

/** The capture actor's figures, by slot (kind.stats below names them in this order). */
export const CAPTURE_STAT = { FRAMES: 0, OVERFLOWS: 1, RATE: 2, UNDERRUNS: 3, DEVICE_FAILED: 4, BUFFERED_MS: 5, SAMPLES_DROPPED: 6 } as const;

/**
 * A local source (tone, WAV, input device) on the capture worker, which
 * device actors share (playback too): the thread that owns the device pipes.
 * Rings: `out` is the caller's audio for the call's agent; `monitor`, where a
 * playback actor plays the caller too, gets the same frames.
 */
export const captureKind: ActorKind = {
  name: 'capture',
  pool: 'capture',
  entry: './capture/capture.worker',
  rings: [
    { name: 'out', edge: 'pcm' },
    { name: 'monitor', edge: 'pcm', optional: true },
  ],
  // underruns: ticks the device had no frame for (silence sent); bufferedMs: device audio waiting;
  // samplesDropped: device audio lost before a frame took it.
  stats: ['framesWritten', 'overflows', 'rateHz', 'underruns', 'deviceFailed', 'bufferedMs', 'samplesDropped'],
};
