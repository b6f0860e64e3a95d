/**
 * Worker entry for opusNativeWorkers.child.ts: encodes speech with native
 * encoders on this thread, posts the packets, then ends the way it is told.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OpusEncoder, loadNativeOpus } from '../../src/dsp/opus.ts';
import { nativePackets, type NativeWorkerJob } from './opusNativeJob.ts';

const job = workerData as NativeWorkerJob;
const port = parentPort!;
// A decoder too: the addon's other class, freed (or not) with the thread.
const decoder = new (loadNativeOpus().binding!.Decoder)({ channels: 1, sample_rate: 48000 });
const held = [new OpusEncoder({ rateHz: 48000, backend: 'native' }), new OpusEncoder({ rateHz: 16000, backend: 'native' })];
const packets = nativePackets(job.offset, job.frames);
decoder.decode(packets[0]!);
port.postMessage({ reason: loadNativeOpus().reason, held: held.length, packets });

switch (job.end) {
  case 'return':
    break;
  case 'throw':
    throw new Error('worker failed on purpose');
  case 'exit':
    process.exit(3);
    break;
  case 'terminate':
    // Kept alive until the parent terminates it.
    setInterval(() => undefined, 1000);
    break;
  case 'heap': {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(100_000).fill(1.5));
  }
}
