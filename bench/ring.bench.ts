/**
 * The frame ring against postMessage: frames per second between two workers
 * at full speed, and the one-way handoff latency at full speed and paced at
 * one frame per 2 ms. Also the ring's cost on one thread and the frame
 * clock's precision. Targets: ≥ 1M frames/s; paced p99 ≤ 150 µs.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import { FrameClock } from '../src/frames/FrameClock.ts';
import { FrameMeta, FrameRing } from '../src/frames/FrameRing.ts';
import { startWorker } from '../src/supervisor/workerEntry.ts';
import type { BenchPeerData, BenchPeerResult, Transport } from './ringPeer.worker.ts';
import { printTable, rate } from './table.ts';

const SLOTS = 64;
const PACE_MS = 2;
const PACED_FRAMES = 2500;
const CLOCK_TICKS = 100;

interface EdgeRun {
  transport: Transport;
  samples: number;
  frames: number;
  paceMs: number;
  stampEvery: number;
  wait: BenchPeerData['wait'];
}

interface EdgeResult {
  framesPerSecond: number;
  consumer: BenchPeerResult;
}

function message<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function runEdge(run: EdgeRun): Promise<EdgeResult> {
  const sab =
    run.transport === 'ring' ? FrameRing.create(SLOTS, run.samples).buffer : new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const { port1, port2 } = new MessageChannel();
  const common = {
    transport: run.transport,
    sab,
    frames: run.frames,
    samples: run.samples,
    paceMs: run.paceMs,
    stampEvery: run.stampEvery,
    window: SLOTS,
    wait: run.wait,
  };
  const producer = startWorker(import.meta.url, './ringPeer.worker', {
    workerData: { ...common, role: 'producer', port: port1 } satisfies BenchPeerData,
    transferList: [port1],
  });
  const consumer = startWorker(import.meta.url, './ringPeer.worker', {
    workerData: { ...common, role: 'consumer', port: port2 } satisfies BenchPeerData,
    transferList: [port2],
  });
  try {
    await Promise.all([message(producer), message(consumer)]); // both 'ready'
    const done = Promise.all([message<BenchPeerResult>(producer), message<BenchPeerResult>(consumer)]);
    consumer.postMessage('go');
    producer.postMessage('go');
    const [p, c] = await done;
    return { framesPerSecond: (c.frames * 1e9) / (c.endNs - p.startNs), consumer: c };
  } finally {
    await Promise.all([producer.terminate(), consumer.terminate()]);
  }
}

const LABEL: Record<Transport, string> = {
  ring: 'SAB FrameRing',
  copy: 'postMessage, copied',
  transfer: 'postMessage, transferred',
};

/** write + read of one frame on one thread: the ring's own cost, without a second core. */
function sameThread(samples: number): Record<string, string | number> {
  const ring = FrameRing.create(SLOTS, samples);
  const frame = new Int16Array(samples);
  const out = new Int16Array(samples);
  const meta = new FrameMeta();
  const perSecond = rate(() => {
    ring.write(frame, samples, 1, 2, 48000, 0);
    ring.read(out, meta);
  }, 600);
  return {
    case: `write+read, one thread, ${samples} samples`,
    'frames/s': perSecond,
    'ns/frame': 1e9 / perSecond,
    'Msamples/s': (perSecond * samples) / 1e6,
    // A 20 ms frame's worth of real time per second of one core.
    '× real time (1 stream)': perSecond / 50,
  };
}

async function clockPrecision(finishMs: number): Promise<Record<string, string | number>> {
  const late: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const clock = new FrameClock({
      finishMs,
      onTick: (n, lateMs) => {
        // Tick 0 is due at start() and can only fire after a timer's minimum
        // delay; from tick 1 on, lateness measures the clock.
        if (n > 0) late.push(lateMs * 1000);
        if (n >= CLOCK_TICKS - 1) {
          clock.stop();
          resolve();
        }
      },
    });
    clock.start();
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  late.sort((a, b) => a - b);
  const pct = (p: number): number => late[Math.min(late.length - 1, Math.floor((p / 100) * late.length))]!;
  return {
    clock: finishMs > 0 ? `timer to ${finishMs} ms early, then Atomics.wait` : 'timer only',
    ticks: late.length,
    'late p50 µs': pct(50),
    'late p99 µs': pct(99),
    'late max µs': late.at(-1)!,
    'CPU % of a core': ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
  };
}

export default async function ringBench(): Promise<void> {
  printTable('FrameRing on one thread (no handoff): the cost of write + read', [sameThread(160), sameThread(960)]);

  const full: Array<Record<string, string | number>> = [];
  for (const samples of [160, 960]) {
    for (const transport of ['ring', 'copy', 'transfer'] as const) {
      const frames = transport === 'ring' ? 2_000_000 : 300_000;
      const r = await runEdge({ transport, samples, frames, paceMs: 0, stampEvery: 16, wait: 'spin-then-sleep' });
      full.push({
        transport: LABEL[transport],
        samples,
        frames,
        'frames/s': r.framesPerSecond,
        'Msamples/s': (r.framesPerSecond * samples) / 1e6,
        '× real time (20 ms frames)': r.framesPerSecond / 50,
        'p50 µs': r.consumer.p50!,
        'p99 µs': r.consumer.p99!,
        'p99.9 µs': r.consumer.p999!,
      });
    }
  }
  printTable(
    `Producer → consumer between two workers at full speed (${SLOTS} frames in flight at most; latency of every 16th frame; clock: process.hrtime.bigint, shared CLOCK_MONOTONIC)`,
    full,
  );

  const paced: Array<Record<string, string | number>> = [];
  const pacedRuns: Array<[Transport, BenchPeerData['wait'], string]> = [
    ['ring', 'sleep', 'consumer blocks in waitSync'],
    ['ring', 'async', 'consumer awaits waitForData'],
    ['ring', 'spin-then-sleep', 'consumer spins ≈1 µs, then blocks'],
    ['copy', 'async', 'consumer on the message event'],
    ['transfer', 'async', 'consumer on the message event'],
  ];
  for (const [transport, wait, how] of pacedRuns) {
    const r = await runEdge({ transport, samples: 960, frames: PACED_FRAMES, paceMs: PACE_MS, stampEvery: 1, wait });
    paced.push({
      transport: `${LABEL[transport]}, ${how}`,
      frames: r.consumer.stamped!,
      'p50 µs': r.consumer.p50!,
      'p99 µs': r.consumer.p99!,
      'p99.9 µs': r.consumer.p999!,
      'max µs': r.consumer.max!,
    });
  }
  printTable(
    `One-way handoff latency paced at one 960-sample frame per ${PACE_MS} ms (clock: process.hrtime.bigint, shared CLOCK_MONOTONIC)`,
    paced,
  );

  printTable(`FrameClock lateness over ${CLOCK_TICKS - 1} ticks of 20 ms on the main thread`, [
    await clockPrecision(2),
    await clockPrecision(0),
  ]);
}
