import type { ActorKind } from '../ActorKind.ts';

export const captureKind: ActorKind = {
  name: 'capture',
  pool: 'capture',
  entry: './capture/capture.worker',
  rings: [{ name: 'out', edge: 'capture' }],
  stats: ['framesWritten', 'overflows', 'rateHz'],
};
