import { createSocket, type Socket } from 'node:dgram';
import { TICK_BOUNDS_US } from '../../src/frames/heartbeat.ts';
import { tickQuantile } from '../../src/load/statusSampler.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';

/**
 * N live RTP loopback calls on a supervisor in this process, each fed one
 * PCMU packet every 20 ms from a UDP socket of its own, for benchmarks that
 * read the workers' ticks while something else runs beside the calls
 * (recording, post-call jobs). Windows of each condition are taken in turn
 * and summed, so a change of load on a shared machine falls on all alike.
 */
export interface LiveCalls {
  /** The workers' ticks since the last call (or since the calls started). */
  window(): TickWindow;
  close(): Promise<void>;
}

export interface TickWindow {
  /** Tick counts by TICK_BOUNDS_US bucket (then longer), summed over the workers. */
  counts: number[];
  maxMs: number;
  /** Packets the calls sent back, and what 50 a second per call would have been. */
  returned: number;
  expected: number;
}

/** Windows taken apart (interleaved with others) summed into one row's figures. */
export function tickFigures(windows: readonly TickWindow[]): { p99Ms: number | null; maxMs: number; ticks: number; returnedPct: number } {
  const counts = new Array<number>(TICK_BOUNDS_US.length + 1).fill(0);
  let maxMs = 0;
  let returned = 0;
  let expected = 0;
  for (const w of windows) {
    w.counts.forEach((n, b) => (counts[b]! += n));
    maxMs = Math.max(maxMs, w.maxMs);
    returned += w.returned;
    expected += w.expected;
  }
  return { p99Ms: tickQuantile(counts, 0.99, maxMs), maxMs, ticks: counts.reduce((a, b) => a + b, 0), returnedPct: expected > 0 ? (100 * returned) / expected : 0 };
}

function bindAny(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** The workers' cumulative tick-time counters summed by bucket (TICK_BOUNDS_US, then longer). */
function tickCounts(sup: Supervisor): number[] {
  const sum = new Array<number>(TICK_BOUNDS_US.length + 1).fill(0);
  for (const w of sup.workerStatuses({ takeMaxTick: false })) w.load.tickHistogram.forEach((n, b) => (sum[b]! += n));
  return sum;
}

/** Longest tick of any worker since the last read (reading resets it). */
function takeMaxTickMs(sup: Supervisor): number {
  return Math.max(0, ...sup.workerStatuses({ takeMaxTick: true }).map((w) => w.load.maxTickUs / 1000));
}

export async function startLiveCalls(sup: Supervisor, calls: number, record: boolean): Promise<LiveCalls> {
  const sockets: Socket[] = [];
  const legPorts: number[] = [];
  const ids: string[] = [];
  let returned = 0;
  for (let i = 0; i < calls; i++) {
    const s = await bindAny();
    s.on('message', () => returned++);
    const info = await sup.createCall({ transport: 'rtp', remote: `127.0.0.1:${s.address().port}`, codec: 'PCMU', agent: 'loopback', record });
    sockets.push(s);
    legPorts.push((info['rtp'] as { localPort: number }).localPort);
    ids.push(info.id);
  }
  // Speech-like level, so the loopback agent returns audio frames, not silence.
  const payload = new Uint8Array(160).map((_, i) => (i % 16 < 8 ? 0x20 : 0xa0));
  let seq = 0;
  const timer = setInterval(() => {
    const p = serializeRtp({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc: 77, csrc: [], paddingLength: 0, payload });
    seq++;
    for (let i = 0; i < calls; i++) sockets[i]!.send(p, legPorts[i]!, '127.0.0.1');
  }, 20);
  let before = tickCounts(sup);
  let since = performance.now();
  takeMaxTickMs(sup);
  return {
    window(): TickWindow {
      const now = tickCounts(sup);
      const counts = now.map((n, b) => n - before[b]!);
      const t = performance.now();
      const w = { counts, maxMs: takeMaxTickMs(sup), returned, expected: (calls * 50 * (t - since)) / 1000 };
      [before, since, returned] = [now, t, 0];
      return w;
    },
    async close(): Promise<void> {
      clearInterval(timer);
      for (const id of ids) await sup.deleteCall(id);
      for (const s of sockets) s.close();
    },
  };
}
