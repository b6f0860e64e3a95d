import { describe, expect, it } from 'vitest';
import { createJitterBuffer } from '../../../src/actors/jitter/JitterActor.ts';
import { DelayManager } from '../../../src/actors/jitter/DelayManager.ts';
import { DelayPeakDetector, MAX_PEAK_PERIOD_MS, PEAK_HOLD_MS } from '../../../src/actors/jitter/DelayPeakDetector.ts';
import type { JitterBuffer } from '../../../src/actors/jitter/JitterBuffer.ts';
import { speech } from '../../helpers/fixtures.ts';
import { RATE_HZ, SPF } from '../../helpers/jitter.ts';

/** Isolated delay peaks (one stall) stop holding the target; recurring ones keep it up. */

const voice = speech('synth-m-16k').samples;
/** Packet `i` of the speech fixture (looped), as L16: it has pauses, where the playout trims its queue. */
function speechPacket(i: number): Uint8Array {
  const b = new Uint8Array(2 * SPF);
  for (let n = 0; n < SPF; n++) {
    const v = voice[(i * SPF + n) % voice.length]!;
    b[2 * n] = (v >> 8) & 0xff;
    b[2 * n + 1] = v & 0xff;
  }
  return b;
}

/** Arrival time of the packet sent at `sendMs`: 5 ms after sending, unless the sender stalls, when all it sent meanwhile goes at the stall's end. */
type Path = (sendMs: number) => number;

function stalls(list: readonly (readonly [number, number])[]): Path {
  return (sendMs) => {
    for (const [from, to] of list) if (sendMs >= from && sendMs < to) return to + 5;
    return sendMs + 5;
  };
}

interface Sample {
  tMs: number;
  targetMs: number;
  /** The delay as heard: when the last decoded packet plays minus when it was sent, less the path's 5 ms. */
  heardMs: number;
}

/** Sends `packets` 20 ms packets over `path`, pulling every 20 ms; samples the buffer after every pull. */
function simulate(jb: JitterBuffer, packets: number, path: Path) {
  const arrivals = Array.from({ length: packets }, (_, i) => ({ i, at: path(20 * i) })).sort((a, b) => a.at - b.at || a.i - b.i);
  const out = new Int16Array(SPF);
  const played = new Set<number>();
  const samples: Sample[] = [];
  let k = 0;
  for (let t = 7; t < 20 * packets + 500; t += 20) {
    while (k < arrivals.length && arrivals[k]!.at <= t) {
      const { i, at } = arrivals[k++]!;
      const p = speechPacket(i);
      jb.insert(i, i * SPF, at, p, p.length, i === 0, 0x51a11);
    }
    jb.pull(out, t);
    const seq = jb.lastPlayedSeq;
    if (seq >= 0) played.add(seq);
    samples.push({ tMs: t, targetMs: jb.targetDelayMs, heardMs: seq >= 0 ? jb.lastPlayoutMs - 20 * seq - 5 : 0 });
  }
  return { played, samples };
}

const pcmBuffer = () => createJitterBuffer({ codec: 'L16', rateHz: RATE_HZ, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 });

describe('DelayPeakDetector', () => {
  it('covers one peak for the hold time only, and enters peak mode when peaks recur', () => {
    const d = new DelayPeakDetector();
    expect(d.update(0, 10, 10)).toBe(false);
    expect(d.covering).toBe(false);
    // A stall's backlog: many packets at once, one peak.
    for (let i = 0; i < 20; i++) expect(d.update(1000 + i, 400 - 20 * i, 10)).toBe(400 - 20 * i > 70);
    expect(d.peaks).toBe(1);
    expect(d.covering).toBe(true);
    expect(d.peakMode).toBe(false);
    d.update(1019 + PEAK_HOLD_MS + 20, 0, 10);
    expect(d.covering).toBe(false);
    // The second peak 8 s later: recurring, covered until twice that period has passed without one.
    d.update(9000, 300, 10);
    expect(d.peaks).toBe(2);
    expect(d.peakMode).toBe(true);
    d.update(9000 + 2 * 8000 - 20, 0, 10);
    expect(d.covering).toBe(true);
    d.update(9000 + 2 * 8000 + 20, 0, 10);
    expect(d.covering).toBe(false);
  });

  it('takes peaks further apart than the longest period as isolated, and a peak as twice the ordinary delay at least', () => {
    const d = new DelayPeakDetector();
    d.update(0, 500, 5);
    d.update(MAX_PEAK_PERIOD_MS + 1000, 500, 5);
    expect(d.peakMode).toBe(false);
    // Ordinary delays of 100 ms: 150 is within twice that, 210 beyond it.
    expect(d.update(40_000, 150, 100)).toBe(false);
    expect(d.update(40_020, 210, 100)).toBe(true);
    d.reset();
    expect(d.peaks).toBe(0);
    expect(d.covering).toBe(false);
  });
});

describe('DelayManager with delay peaks', () => {
  /** Transit 30 ms, except packets sent in a stall, which arrive at its end. */
  function feed(dm: DelayManager, fromMs: number, toMs: number, stall?: readonly [number, number]): void {
    for (let s = fromMs; s < toMs; s += 20) {
      const at = stall !== undefined && s >= stall[0] && s < stall[1] ? stall[1] + 30 : s + 30;
      dm.update(at, s);
    }
  }

  it('one stall: covered while its backlog arrives, then the target is the ordinary delay again', () => {
    const dm = new DelayManager({ minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60, quantile: 0.99 });
    feed(dm, 0, 20_000);
    expect(dm.targetMs).toBe(20);
    feed(dm, 20_000, 21_020, [20_000, 21_000]);
    expect(dm.coveringPeaks).toBe(true);
    expect(dm.targetMs).toBe(200);
    feed(dm, 21_020, 23_000);
    expect(dm.coveringPeaks).toBe(false);
    expect(dm.targetMs).toBe(20);
    expect(dm.lateMs).toBeLessThan(20);
  });

  it('stalls every 8 s keep the target up between them', () => {
    const dm = new DelayManager({ minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60, quantile: 0.99 });
    feed(dm, 0, 10_000);
    for (let k = 0; k < 3; k++) {
      const at = 10_000 + 8000 * k;
      feed(dm, at, at + 8000, [at, at + 400]);
    }
    expect(dm.peakMode).toBe(true);
    expect(dm.targetMs).toBe(200);
  });
});

describe('JitterBuffer after a one-off stall', () => {
  it('the sender stalls for 1 s once: the backlog plays or is counted late, then target and delay fall back within 5 s', () => {
    const jb = pcmBuffer();
    const packets = 600;
    const { played, samples } = simulate(jb, packets, stalls([[2000, 3000]]));
    jb.destroy();
    const st = jb.stats;
    // Nothing vanished: the stall's packets beyond the rewind window are
    // counted late (the only ones discarded), the backlog after them plays.
    expect(st.packetsLost).toBe(0);
    expect(st.packetsLate).toBeLessThanOrEqual(20);
    expect(st.packetsDiscarded).toBe(st.packetsLate);
    expect(played.has(118)).toBe(true);
    expect(played.has(packets - 1)).toBe(true);
    // The backlog was covered when it came…
    const at = (ms: number) => samples.find((s) => s.tMs >= ms)!;
    expect(at(3050).targetMs).toBe(200);
    // …and from 5 s after arrivals were clean again on, target and delay are back near the clean level.
    const after = samples.filter((s) => s.tMs >= 3005 + 5000);
    expect(Math.max(...after.map((s) => s.targetMs))).toBeLessThanOrEqual(60);
    expect(Math.max(...after.map((s) => s.heardMs))).toBeLessThanOrEqual(80);
  });

  it('stalls every 8 s: the target stays up to cover them', () => {
    const jb = pcmBuffer();
    const { samples } = simulate(jb, 1200, stalls([[4000, 4400], [12_000, 12_400], [20_000, 20_400]]));
    jb.destroy();
    expect(jb.stats.packetsLate).toBe(0);
    // Between the second and third stall, and after the third.
    const between = samples.filter((s) => (s.tMs >= 13_500 && s.tMs < 20_000) || s.tMs >= 21_500);
    expect(Math.min(...between.map((s) => s.targetMs))).toBeGreaterThanOrEqual(150);
  });
});
