import { describe, expect, it } from 'vitest';
import { callQuality } from '../../src/qos/callQuality.ts';
import { mosFromR, rFactor } from '../../src/qos/emodel.ts';

describe('callQuality', () => {
  it('rates a call from its jitter buffer delay, its decoder loss (lost + late) and half the RTT', () => {
    const q = callQuality('PCMU', { packetsReceived: 950, packetsLost: 30, packetsLate: 20, currentDelayMs: 60 }, 100)!;
    expect(q.lossPct).toBeCloseTo(5, 10);
    expect(q.oneWayDelayMs).toBe(50 + 60 + 20);
    expect(q.rFactor).toBeCloseTo(rFactor({ codec: 'PCMU', oneWayDelayMs: 130, lossPct: 5 }), 10);
    expect(q.mos).toBeCloseTo(mosFromR(q.rFactor), 10);
  });

  it('gives a clean G.711 call a toll-quality MOS and a lossy one less', () => {
    const clean = callQuality('PCMU', { packetsReceived: 1000, packetsLost: 0, packetsLate: 0, currentDelayMs: 40 }, undefined)!;
    const lossy = callQuality('PCMU', { packetsReceived: 900, packetsLost: 100, packetsLate: 0, currentDelayMs: 40 }, undefined)!;
    expect(clean.mos).toBeGreaterThan(4.1);
    expect(lossy.mos).toBeLessThan(clean.mos - 0.5);
  });

  it('has no rating without a jitter actor, with an unknown codec, and counts nothing before the first packet', () => {
    expect(callQuality('PCMU', undefined, 10)).toBeUndefined();
    expect(callQuality('AMR', { packetsReceived: 1 }, 10)).toBeUndefined();
    expect(callQuality(undefined, { packetsReceived: 1 }, 10)).toBeUndefined();
    expect(callQuality('opus', {}, undefined)!.lossPct).toBe(0);
  });
});
