import { JitterBuffer, type JitterBufferOptions } from '../../src/actors/jitter/JitterBuffer.ts';

export const RATE_HZ = 16000;
export const SPF = 320;

/** An L16 payload (big-endian, RFC 3551) of one 20 ms frame whose samples are all `value`. */
export function l16Packet(value: number, samples = SPF): Uint8Array {
  const b = new Uint8Array(2 * samples);
  for (let i = 0; i < samples; i++) {
    b[2 * i] = (value >> 8) & 0xff;
    b[2 * i + 1] = value & 0xff;
  }
  return b;
}

/** The sample value packet `i` carries in these tests: distinct, loud enough to count as speech, never 0. */
export function valueOf(i: number): number {
  return 1000 + (i % 20000);
}

export function l16Buffer(opts: Partial<JitterBufferOptions> = {}): JitterBuffer {
  return new JitterBuffer({ codec: 'L16', rateHz: RATE_HZ, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60, ...opts });
}

export interface Arrival {
  seq: number;
  ts: number;
  atMs: number;
  payload: Uint8Array;
  marker?: boolean;
  ssrc?: number;
}

/**
 * Runs a buffer in simulated time: packets are inserted at their arrival
 * times, and a frame is pulled every 20 ms (at 20·k + phaseMs) until `untilMs`.
 * Returns each frame's kind and first sample.
 */
export function run(jb: JitterBuffer, arrivals: readonly Arrival[], untilMs: number, phaseMs = 10) {
  const sorted = [...arrivals].sort((a, b) => a.atMs - b.atMs);
  const out = new Int16Array(jb.samplesPerFrame);
  const kinds: number[] = [];
  const firsts: number[] = [];
  let k = 0;
  for (let t = phaseMs; t < untilMs; t += 20) {
    while (k < sorted.length && sorted[k]!.atMs <= t) {
      const a = sorted[k++]!;
      jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, a.marker ?? false, a.ssrc ?? 0x1234);
    }
    kinds.push(jb.pull(out, t));
    firsts.push(out[0]!);
  }
  return { kinds, firsts };
}

/** Values in the order played, collapsed: each packet's value once per run of frames that start with it. */
export function playedValues(firsts: readonly number[]): number[] {
  const seen: number[] = [];
  for (const v of firsts) if (v >= 1000 && seen[seen.length - 1] !== v) seen.push(v);
  return seen;
}
