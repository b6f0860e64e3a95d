import type { ActorKind } from '../ActorKind.ts';

/** 100 slots = 2 s of audio: a consumer that stalls that long starts losing frames. */
const CAPTURE_RING_SLOTS = 100;

export const captureKind: ActorKind = {
  name: 'capture',
  pool: 'capture',
  entry: './capture/capture.worker',
  rings: [{ name: 'out', slots: CAPTURE_RING_SLOTS, maxSamples: 960 }],
  stats: ['framesWritten', 'overflows', 'rateHz'],
};
