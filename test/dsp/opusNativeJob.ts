/** What opusNativeWorkers.child.ts asks of a worker, and the encoding both sides compare. */
import { OpusEncoder } from '../../src/dsp/opus.ts';
import { speech } from '../helpers/fixtures.ts';

export type WorkerEnd = 'return' | 'throw' | 'exit' | 'terminate' | 'heap';

export interface NativeWorkerJob {
  end: WorkerEnd;
  /** First frame of the speech fixture to encode; workers given different offsets encode different audio. */
  offset: number;
  frames: number;
}

/** `frames` 20 ms frames of 48 kHz speech from `offset`, each encoded by a fresh native encoder. */
export function nativePackets(offset: number, frames: number): Uint8Array[] {
  const pcm = speech('synth-m-48k').samples;
  const enc = new OpusEncoder({ rateHz: 48000, bitrateBps: 32000, complexity: 5, backend: 'native' });
  const out = new Uint8Array(1500);
  const packets: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    const at = ((offset + f) * 960) % (pcm.length - 960);
    const n = enc.encode(pcm.subarray(at, at + 960), out);
    packets.push(out.slice(0, Math.max(n, 0)));
  }
  enc.destroy();
  return packets;
}
