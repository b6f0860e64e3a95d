/**
 * One end of a benchmark edge between two workers: frames go producer →
 * consumer through a FrameRing, or through a MessagePort (copied or
 * transferred) for comparison. Both transports are bounded to the same
 * number of frames in flight, so full-speed latency measures the same queue.
 *
 * Clock: send and receive times are `process.hrtime.bigint()`, the
 * CLOCK_MONOTONIC counter every thread of the process shares, in ns. The send
 * time travels inside the frame (its first four samples, as a float64).
 */
import { createHistogram } from 'node:perf_hooks';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { FrameMeta, FrameRing } from '../src/frames/FrameRing.ts';

export type Transport = 'ring' | 'copy' | 'transfer';

export interface BenchPeerData {
  role: 'producer' | 'consumer';
  transport: Transport;
  /** The ring's buffer (ring) or the credit words (postMessage). */
  sab: SharedArrayBuffer;
  port?: MessagePort;
  frames: number;
  samples: number;
  /** 0: full speed; otherwise one frame every `paceMs`. */
  paceMs: number;
  /** Stamp every n-th frame (stamping costs two clock reads). */
  stampEvery: number;
  /** postMessage: most frames in flight (the ring's slot count). */
  window: number;
  /** Ring consumer: how it waits when the ring is empty. */
  wait: 'spin-then-sleep' | 'sleep' | 'async';
}

export interface BenchPeerResult {
  role: 'producer' | 'consumer';
  startNs: number;
  endNs: number;
  frames: number;
  /** Handoff latency percentiles in µs (consumer only). */
  p50?: number;
  p99?: number;
  p999?: number;
  max?: number;
  stamped?: number;
}

/** How many times a side re-checks before it sleeps: a spin of roughly a microsecond or two. */
const SPIN_CHECKS = 200;
/** Credit words of the postMessage edge. */
const CREDIT = { RECEIVED: 0 } as const;

const d = workerData as BenchPeerData;
const sleepWord = new Int32Array(new SharedArrayBuffer(4));
const nowNs = (): number => Number(process.hrtime.bigint());

function sleepUntilNs(t: number): void {
  for (;;) {
    const left = (t - nowNs()) / 1e6;
    if (left <= 0) return;
    Atomics.wait(sleepWord, 0, 0, left);
  }
}

function produce(): BenchPeerResult {
  const ring = d.transport === 'ring' ? FrameRing.attach(d.sab) : undefined;
  const credit = new Int32Array(d.sab);
  const frame = new Int16Array(Math.max(d.samples, 4));
  const stamp = new Float64Array(frame.buffer, 0, 1);
  const startNs = nowNs();
  let next = startNs;
  for (let k = 0; k < d.frames; k++) {
    if (d.paceMs > 0) {
      next += d.paceMs * 1e6;
      sleepUntilNs(next);
    }
    stamp[0] = k % d.stampEvery === 0 ? nowNs() : 0;
    if (ring !== undefined) {
      while (!ring.write(frame, d.samples, k, 0, 48000, 0)) {
        let spins = SPIN_CHECKS;
        while (ring.space() === 0 && --spins > 0);
        if (spins === 0) ring.waitSpaceSync(50);
      }
    } else {
      while (k - Atomics.load(credit, CREDIT.RECEIVED) >= d.window) {
        Atomics.wait(credit, CREDIT.RECEIVED, Atomics.load(credit, CREDIT.RECEIVED), 50);
      }
      if (d.transport === 'copy') {
        d.port!.postMessage(frame);
      } else {
        const copy = frame.slice();
        d.port!.postMessage(copy, [copy.buffer]);
      }
    }
  }
  return { role: 'producer', startNs, endNs: nowNs(), frames: d.frames };
}

function consume(): Promise<BenchPeerResult> {
  const histogram = createHistogram();
  let stamped = 0;
  let received = 0;
  let endNs = 0;
  const record = (sentNs: number): void => {
    if (sentNs === 0) return;
    histogram.record(Math.max(1, Math.round(nowNs() - sentNs)));
    stamped++;
  };
  const result = (): BenchPeerResult => ({
    role: 'consumer',
    startNs: 0,
    endNs,
    frames: received,
    p50: histogram.percentile(50) / 1000,
    p99: histogram.percentile(99) / 1000,
    p999: histogram.percentile(99.9) / 1000,
    max: histogram.max / 1000,
    stamped,
  });

  if (d.transport !== 'ring') {
    const credit = new Int32Array(d.sab);
    return new Promise((resolve) => {
      d.port!.on('message', (frame: Int16Array) => {
        record(new Float64Array(frame.buffer, frame.byteOffset, 1)[0]!);
        received++;
        Atomics.store(credit, CREDIT.RECEIVED, received);
        Atomics.notify(credit, CREDIT.RECEIVED);
        if (received === d.frames) {
          endNs = nowNs();
          d.port!.close();
          resolve(result());
        }
      });
    });
  }

  const ring = FrameRing.attach(d.sab);
  const out = new Int16Array(ring.maxSamples);
  const stamp = new Float64Array(out.buffer, 0, 1);
  const meta = new FrameMeta();
  if (d.wait === 'async') {
    return (async () => {
      while (received < d.frames) {
        if (ring.read(out, meta)) {
          record(stamp[0]!);
          received++;
        } else {
          await ring.waitForData(50);
        }
      }
      endNs = nowNs();
      return result();
    })();
  }
  while (received < d.frames) {
    if (ring.read(out, meta)) {
      record(stamp[0]!);
      received++;
      continue;
    }
    let spins = d.wait === 'sleep' ? 0 : SPIN_CHECKS;
    while (ring.available() === 0 && --spins > 0);
    if (spins <= 0) ring.waitSync(50);
  }
  endNs = nowNs();
  return Promise.resolve(result());
}

// Start only when the driver says go, so neither side's start-up is timed.
parentPort!.once('message', () => {
  void (d.role === 'producer' ? Promise.resolve(produce()) : consume()).then((r) => parentPort!.postMessage(r));
});
parentPort!.postMessage('ready');
