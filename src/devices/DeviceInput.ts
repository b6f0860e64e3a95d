import { DeviceStream } from './DeviceProcess.ts';
import { DeviceLink } from './DeviceLink.ts';
import { SampleFifo } from './SampleFifo.ts';

/** PortAudio runs devices at this rate here; calls resample at the edge (DESIGN: 48 kHz capture). */
export const DEVICE_RATE_HZ = 48_000;
/** Device blocks: 10 or 20 ms (PortAudio's framesPerBuffer). */
export const DEVICE_BLOCK_MS = [10, 20] as const;

/**
 * Reading stops above HIGH_WATER_MS of buffered audio and resumes below
 * LOW_WATER_MS. A device paced by its own clock keeps a frame or two here
 * (it delivers as fast as the frame clock takes); what it gains on our clock
 * (±100 ppm: a frame every 200 s) piles up to the high-water mark, then waits
 * in the pipe while the frame clock catches up, so capture latency stays
 * bounded. A device that is not paced (ALSA's file plugin) is simply read no
 * faster than the frame clock. The low-water mark covers a burst of catch-up
 * ticks after a stalled thread (FrameClock: up to 4 back to back, 80 ms, with
 * no I/O between them), so a stall is no underrun where the device is ahead.
 */
const HIGH_WATER_MS = 160;
const LOW_WATER_MS = 100;
/** A pipe read takes up to 64 KB: what arrives with the read that crosses the mark is kept too. */
const MAX_READ_SAMPLES = 32_768;

/**
 * An input device as the capture actor sees it: a FIFO of 48 kHz mono samples
 * that the device's pipe fills (on this thread's event loop, outside any
 * tick) and the actor's tick drains a frame at a time.
 */
export class DeviceInput extends DeviceLink {
  readonly #fifo: SampleFifo;
  readonly #high: number;
  readonly #low: number;
  #paused = false;

  private constructor(stream: DeviceStream) {
    super(stream);
    this.#fifo = new SampleFifo((DEVICE_RATE_HZ * HIGH_WATER_MS) / 1000 + MAX_READ_SAMPLES);
    this.#high = (DEVICE_RATE_HZ * HIGH_WATER_MS) / 1000;
    this.#low = (DEVICE_RATE_HZ * LOW_WATER_MS) / 1000;
    stream.pcm.on('data', (chunk: Buffer) => {
      this.#fifo.push(chunk);
      if (this.#fifo.length >= this.#high && !this.#paused) {
        this.#paused = true;
        stream.pcm.pause();
      }
    });
  }

  /** Opens the named input device (rejects: DeviceNotFoundError, or an Error saying why it cannot run). */
  static async open(device: string, blockMs: number): Promise<DeviceInput> {
    return new DeviceInput(await DeviceStream.open({ op: 'open', direction: 'input', device, rateHz: DEVICE_RATE_HZ, blockMs }));
  }

  /** Samples waiting. */
  get buffered(): number {
    return this.#fifo.length;
  }

  /** Samples lost because the FIFO was full (none while reading pauses in time). */
  get dropped(): number {
    return this.#fifo.dropped;
  }

  /**
   * Moves `n` samples into `out` (false when fewer are buffered). Real-time
   * safe: copies only; resuming a paused pipe queues its read on the event
   * loop (once per pause, not per frame).
   */
  take(out: Int16Array, n: number): boolean {
    const ok = this.#fifo.take(out, n);
    if (this.#paused && this.#fifo.length <= this.#low && !this.stream.ended) {
      this.#paused = false;
      this.stream.pcm.resume();
    }
    return ok;
  }

  close(): void {
    this.stream.close();
  }
}
