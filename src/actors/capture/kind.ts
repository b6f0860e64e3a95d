import type { ActorKind } from '../ActorKind.ts';

/** 128 slots (a power of two, as the ring requires) = 2.56 s of audio: a consumer that stalls longer loses frames. */
const CAPTURE_RING_SLOTS = 128;

export const captureKind: ActorKind = {
  name: 'capture',
  pool: 'capture',
  entry: './capture/capture.worker',
  rings: [{ name: 'out', slots: CAPTURE_RING_SLOTS, maxSamples: 960 }],
  stats: ['framesWritten', 'overflows', 'rateHz'],
};
