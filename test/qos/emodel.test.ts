import { describe, expect, it } from 'vitest';
import {
  burstRatio,
  delayImpairment,
  effectiveEquipmentImpairment,
  mosFromR,
  rFactor,
} from '../../src/qos/emodel.ts';

describe('E-model (ITU-T G.107)', () => {
  it('gives the default R of 93.2 and MOS 4.41 for G.711 without loss or delay', () => {
    const r = rFactor({ codec: 'PCMU', oneWayDelayMs: 0, lossPct: 0 });
    expect(r).toBeCloseTo(93.2, 6);
    expect(mosFromR(r)).toBeCloseTo(4.41, 2);
  });

  it('charges no delay impairment up to 100 ms and then grows it monotonically', () => {
    expect(delayImpairment(50)).toBe(0);
    expect(delayImpairment(100)).toBe(0);
    // G.107 Idd at 200 ms and 400 ms (X = 1 and 2).
    expect(delayImpairment(200)).toBeCloseTo(25 * (2 ** (1 / 6) - 3 * (1 + (1 / 3) ** 6) ** (1 / 6) + 2), 9);
    let prev = 0;
    for (let ta = 110; ta <= 800; ta += 10) {
      const id = delayImpairment(ta);
      expect(id).toBeGreaterThan(prev);
      prev = id;
    }
  });

  it('follows (7-30) for loss: G.711 with PLC at 1%, 5% and bursty 5%', () => {
    expect(effectiveEquipmentImpairment(0, 25.1, 1, 1)).toBeCloseTo(95 / 26.1, 9);
    const random = rFactor({ codec: 'PCMA', oneWayDelayMs: 0, lossPct: 5 });
    const bursty = rFactor({ codec: 'PCMA', oneWayDelayMs: 0, lossPct: 5, burstRatio: 2 });
    expect(random).toBeCloseTo(93.2 - (95 * 5) / (5 + 25.1), 9);
    expect(bursty).toBeLessThan(random);
  });

  it('keeps R in [0, 100] and MOS in [1, 4.5] for absurd input', () => {
    for (const lossPct of [-5, 0, 50, 100, 1000]) {
      for (const oneWayDelayMs of [-1, 0, 10_000]) {
        const r = rFactor({ codec: 'opus', oneWayDelayMs, lossPct, advantage: 20 });
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(100);
        const mos = mosFromR(r);
        expect(mos).toBeGreaterThanOrEqual(1);
        expect(mos).toBeLessThanOrEqual(4.5);
      }
    }
  });

  it('derives the burst ratio of a two-state loss model', () => {
    expect(burstRatio(0, 3)).toBe(1);
    expect(burstRatio(0.1, 3)).toBeCloseTo(2.7, 9);
    expect(burstRatio(0.1, 1)).toBe(1); // random loss: bursts of one are no burstier than chance
  });
});
