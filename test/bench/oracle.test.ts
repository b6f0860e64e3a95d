import { describe, expect, it } from 'vitest';
import { NETWORK_MODELS, type PacketTrace } from '../../bench/lib/network.ts';
import { baseDelayMs, fixedBufferGaps, lateLossRate, oracleDelay } from '../../bench/lib/oracle.ts';

/** A trace from one-way delays in ms (null = lost), packets 20 ms apart. */
function handMade(delays: ReadonlyArray<number | null>): PacketTrace[] {
  return delays.map((d, seq) => ({
    seq,
    timestampMs: 20 * seq,
    sendMs: 20 * seq,
    arrivalMs: d === null ? null : 20 * seq + d,
    lost: d === null,
  }));
}

describe('oracleDelay', () => {
  it('is 0 above the base when every packet takes the same time', () => {
    expect(oracleDelay(handMade([30, 30, 30, 30]))).toEqual({ delayMs: 0, baseMs: 30, playoutDelayMs: 30, lateRate: 0 });
  });

  it('covers the slowest packet when fewer than 100 arrived (1% of them rounds down to none)', () => {
    const o = oracleDelay(handMade([10, 25, 10, 40, 12, null, 10]));
    expect(o.baseMs).toBe(10);
    expect(o.delayMs).toBe(30);
    expect(o.playoutDelayMs).toBe(40);
    expect(o.lateRate).toBe(0);
  });

  it('may leave exactly 1% late: of 200 packets, the two slowest', () => {
    const delays: number[] = new Array(200).fill(20);
    delays[17] = 300; // late
    delays[90] = 250; // late
    delays[150] = 70; // the slowest that must be on time
    delays[151] = 60;
    const o = oracleDelay(handMade(delays));
    expect(o.delayMs).toBe(50);
    expect(o.lateRate).toBe(0.01);
    // Any less and a third packet is late.
    expect(lateLossRate(handMade(delays), () => 49.9)).toBe(0.015);
  });

  it('measures lost packets out of the budget: only arrived packets count', () => {
    const delays: Array<number | null> = new Array(100).fill(20);
    for (let i = 0; i < 50; i++) delays[2 * i] = null; // 50 arrived → 0 may be late
    delays[1] = 95;
    expect(oracleDelay(handMade(delays)).delayMs).toBe(75);
  });

  it('has nothing to say about a trace where nothing arrived', () => {
    expect(oracleDelay(handMade([null, null]))).toEqual({ delayMs: 0, baseMs: 0, playoutDelayMs: 0, lateRate: 0 });
    expect(oracleDelay([])).toMatchObject({ delayMs: 0, lateRate: 0 });
  });

  it('keeps late loss at or under 1% on every network model, with no smaller delay doing so', () => {
    for (const [name, model] of Object.entries(NETWORK_MODELS)) {
      const t = model(3000, 11);
      const o = oracleDelay(t);
      expect(o.lateRate, name).toBeLessThanOrEqual(0.01);
      if (o.delayMs > 0) expect(lateLossRate(t, () => o.delayMs - 0.01), name).toBeGreaterThan(0.01);
    }
  });

  it('uses the sender media time, so drift costs a fixed delay its ppm', () => {
    // 60 s at −100 ppm: the last packet is 6 ms early against the first, and
    // the 1% budget lets the earliest 30 packets (0.6 s of drift) be late.
    const t = NETWORK_MODELS['drift-100']!(3000, 1);
    expect(oracleDelay(t).delayMs).toBeCloseTo(6 * 0.99, 2);
  });
});

describe('lateLossRate', () => {
  it('counts a packet late only when it arrives after its playout time', () => {
    const t = handMade([10, 30, 31, null]);
    expect(baseDelayMs(t)).toBe(10);
    expect(lateLossRate(t, () => 20)).toBeCloseTo(1 / 3); // 30 is on time, 31 is late
    expect(lateLossRate(t, () => 21)).toBe(0);
    expect(lateLossRate(t, (p) => (p.seq === 2 ? 0 : 100))).toBeCloseTo(1 / 3);
  });
});

describe('fixedBufferGaps', () => {
  it('starts playing the delay after the first arrival and counts late and lost packets as gaps', () => {
    //                 seq: 0   1   2     3   4
    const t = handMade([50, 20, 110, null, 45]);
    // The first to arrive is seq 1 at 40 ms: seq k plays at 40 − 20 + 60 + 20k = 80 + 20k.
    expect(fixedBufferGaps(t, 60)).toEqual([false, false, true, true, false]);
    expect(fixedBufferGaps(handMade([null, null]), 60)).toEqual([true, true]);
  });
});
