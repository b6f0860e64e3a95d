import { DeviceStream } from './DeviceProcess.ts';
import { DeviceLink } from './DeviceLink.ts';
import { DEVICE_RATE_HZ } from './DeviceInput.ts';

/** Frames a tick may queue before the pump sends them; more are dropped (counted). */
const PENDING_FRAMES = 8;
/** Frames the pipe may hold unsent (a stalled device): beyond, new frames are dropped, not queued. */
const PIPE_FRAMES = 12;
/** Buffers in rotation: pending and in-pipe frames never reach a buffer being refilled. */
const POOL_FRAMES = 32;
/** How often the pump hands queued frames to the pipe (off the tick: a write is I/O). */
const PUMP_MS = 5;
/** Silence written first: a cushion against the frame clock's jitter, so the device does not starve between ticks. */
const PRIME_FRAMES = 2;

/**
 * An output device as the playback actor sees it: each tick fills one 20 ms
 * frame of 48 kHz mono from a preallocated pool (`frame()`, `queue()`), and a
 * pump on this thread's event loop writes queued frames to the device's pipe.
 * A device slower than the frame clock, or one that stopped, costs dropped
 * frames, never a blocked tick or a growing queue.
 */
export class DeviceOutput extends DeviceLink {
  readonly #pool: Buffer[] = [];
  readonly #views: Int16Array[] = [];
  readonly #pending = new Int32Array(PENDING_FRAMES);
  readonly #frameBytes: number;
  #next = 0;
  #pendingCount = 0;
  readonly #pump: ReturnType<typeof setInterval>;
  /** Frames dropped: the queue or the pipe was full. */
  dropped = 0;

  private constructor(stream: DeviceStream, frameMs: number) {
    super(stream);
    const samples = (DEVICE_RATE_HZ * frameMs) / 1000;
    this.#frameBytes = samples * 2;
    for (let i = 0; i < POOL_FRAMES; i++) {
      const buf = Buffer.alloc(this.#frameBytes);
      this.#pool.push(buf);
      this.#views.push(new Int16Array(buf.buffer, buf.byteOffset, samples));
    }
    for (let i = 0; i < PRIME_FRAMES; i++) stream.pcm.write(Buffer.alloc(this.#frameBytes));
    this.#pump = setInterval(() => this.#flush(), PUMP_MS);
  }

  /** Opens the named output device (rejects: DeviceNotFoundError, or an Error saying why it cannot run). */
  static async open(device: string, blockMs: number, frameMs: number): Promise<DeviceOutput> {
    return new DeviceOutput(await DeviceStream.open({ op: 'open', direction: 'output', device, rateHz: DEVICE_RATE_HZ, blockMs }), frameMs);
  }

  /** The next frame to fill (48 kHz mono), or undefined when no more can be queued now (counted by `queue`'s caller). */
  frame(): Int16Array | undefined {
    if (this.#pendingCount === PENDING_FRAMES || this.stream.ended) return undefined;
    if (this.stream.pcm.writableLength > PIPE_FRAMES * this.#frameBytes) return undefined;
    return this.#views[this.#next];
  }

  /** Queues the frame `frame()` gave for the pump. */
  queue(): void {
    this.#pending[this.#pendingCount++] = this.#next;
    this.#next = (this.#next + 1) % POOL_FRAMES;
  }

  #flush(): void {
    const n = this.#pendingCount;
    if (n === 0) return;
    this.#pendingCount = 0;
    if (this.stream.ended) return;
    for (let i = 0; i < n; i++) this.stream.pcm.write(this.#pool[this.#pending[i]!]!);
  }

  close(): void {
    clearInterval(this.#pump);
    this.#flush();
    this.stream.close();
  }
}
