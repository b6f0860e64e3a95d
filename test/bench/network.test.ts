import { describe, expect, it } from 'vitest';
import {
  BASE_DELAY_MS,
  GE_LOSS_RATE,
  GE_MEAN_BURST,
  NETWORK_MODELS,
  PACKET_MS,
  SPIKE_MAX_MS,
  SPIKE_MIN_MS,
  arrivalOrder,
  lossPattern,
  lossRate,
  meanBurstLength,
  meanDelayMs,
  reorderRate,
  traceStats,
  type PacketTrace,
} from '../../bench/lib/network.ts';

const LONG = 50_000; // 1000 s of 20 ms packets
const model = (name: string): ((n: number, seed: number) => PacketTrace[]) => NETWORK_MODELS[name]!;

describe('network models', () => {
  it.each(Object.keys(NETWORK_MODELS))('%s: replays exactly for a seed, and is well formed', (name) => {
    const a = model(name)(3000, 42);
    expect(model(name)(3000, 42)).toEqual(a);
    expect(a).toHaveLength(3000);
    a.forEach((p, i) => {
      expect(p.seq).toBe(i);
      expect(p.timestampMs).toBe(PACKET_MS * i);
      expect(p.lost).toBe(p.arrivalMs === null);
      if (p.arrivalMs !== null) expect(p.arrivalMs - p.sendMs).toBeGreaterThanOrEqual(BASE_DELAY_MS - 1e-9);
    });
    expect(model(name)(0, 42)).toEqual([]);
  });

  it('gives different traces for different seeds', () => {
    for (const name of ['uniform-jitter', 'pareto-jitter', 'loss-10', 'gilbert-elliott', 'reorder-2', 'spikes']) {
      expect(model(name)(3000, 1)).not.toEqual(model(name)(3000, 2));
    }
  });

  it('none: a constant delay and nothing lost', () => {
    const s = traceStats(model('none')(1000, 1));
    expect(s).toMatchObject({ lossRate: 0, meanDelayMs: BASE_DELAY_MS, maxDelayMs: BASE_DELAY_MS, reorderRate: 0 });
  });

  it('uniform-jitter: delays spread over base + [0, 40) ms with mean base + 20', () => {
    const t = model('uniform-jitter')(LONG, 3);
    const delays = t.map((p) => p.arrivalMs! - p.sendMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(BASE_DELAY_MS);
    expect(Math.max(...delays)).toBeLessThan(BASE_DELAY_MS + 40);
    expect(meanDelayMs(t)).toBeCloseTo(BASE_DELAY_MS + 20, 0);
    expect(lossRate(t)).toBe(0);
  });

  it('pareto-jitter: a median extra of 5–10 ms with a long, capped tail', () => {
    const extra = model('pareto-jitter')(LONG, 4)
      .map((p) => p.arrivalMs! - p.sendMs - BASE_DELAY_MS)
      .sort((a, b) => a - b);
    const q = (f: number): number => extra[Math.floor(f * (extra.length - 1))]!;
    expect(q(0.5)).toBeGreaterThan(5);
    expect(q(0.5)).toBeLessThan(10);
    expect(q(0.99)).toBeGreaterThan(10 * q(0.5)); // heavy: a uniform or Gaussian tail is nowhere near
    expect(q(1)).toBeLessThanOrEqual(1000);
  });

  it.each([
    ['loss-5', 0.05],
    ['loss-10', 0.1],
    ['loss-20', 0.2],
  ])('%s: loses packets independently at the rate', (name, rate) => {
    const t = model(name)(LONG, 5);
    expect(Math.abs(lossRate(t) - rate)).toBeLessThan(0.005);
    // Independent losses: bursts as long as a geometric law says, 1 / (1 − rate).
    expect(meanBurstLength(t)).toBeCloseTo(1 / (1 - rate), 1);
  });

  it('gilbert-elliott: about 10% loss in bursts of 3 on average', () => {
    const t = model('gilbert-elliott')(LONG, 6);
    expect(Math.abs(lossRate(t) - GE_LOSS_RATE)).toBeLessThan(0.01);
    expect(Math.abs(meanBurstLength(t) - GE_MEAN_BURST)).toBeLessThan(0.25);
  });

  it('reorder-2: about 2% of packets are overtaken, by 1–3 later packets', () => {
    const t = model('reorder-2')(LONG, 7);
    expect(Math.abs(reorderRate(t) - 0.02)).toBeLessThan(0.003);
    const order = arrivalOrder(t).map((p) => p.seq);
    for (let i = 0; i < order.length; i++) {
      const displacement = i - order[i]!; // how many later packets came first
      expect(displacement).toBeLessThanOrEqual(3);
    }
  });

  it('spikes: every ~10 s a 300–500 ms stall, after which the queue arrives bunched', () => {
    const t = model('spikes')(3000, 8); // 60 s
    const spikeStarts = t.filter(
      (p, i) => i > 0 && p.arrivalMs! - p.sendMs > 250 && t[i - 1]!.arrivalMs! - t[i - 1]!.sendMs < 100,
    );
    expect(spikeStarts.length).toBeGreaterThanOrEqual(4);
    expect(spikeStarts.length).toBeLessThanOrEqual(8);
    for (const start of spikeStarts) {
      const height = start.arrivalMs! - start.sendMs - BASE_DELAY_MS;
      expect(height).toBeLessThanOrEqual(SPIKE_MAX_MS);
      expect(height).toBeGreaterThan(SPIKE_MIN_MS - PACKET_MS);
      // The next packets, sent 20 ms apart, arrive a few ms apart: bunched.
      const next = t[start.seq + 1]!;
      expect(next.arrivalMs! - start.arrivalMs!).toBeLessThan(5);
    }
    expect(reorderRate(t)).toBe(0); // a queue keeps its order
  });

  it.each([
    ['drift+100', 1e-4],
    ['drift-100', -1e-4],
  ])('%s: the sender clock runs off by 100 ppm', (name, ratio) => {
    const t = model(name)(LONG, 9);
    const last = t[t.length - 1]!;
    expect(last.sendMs / last.timestampMs - 1).toBeCloseTo(ratio, 9);
    expect(last.sendMs - last.timestampMs).toBeCloseTo(ratio * last.timestampMs, 6); // ±100 ms over 1000 s
    expect(lossRate(t)).toBe(0);
  });

  it('lossPattern and arrivalOrder agree with the trace', () => {
    const t = model('realistic')(2000, 10);
    const lost = lossPattern(t);
    expect(lost.filter(Boolean).length).toBe(t.filter((p) => p.lost).length);
    const order = arrivalOrder(t);
    expect(order.length).toBe(t.length - lost.filter(Boolean).length);
    for (let i = 1; i < order.length; i++) expect(order[i]!.arrivalMs!).toBeGreaterThanOrEqual(order[i - 1]!.arrivalMs!);
  });

  it('stats of an empty trace are zero, not NaN', () => {
    expect(traceStats([])).toEqual({
      packets: 0,
      lossRate: 0,
      meanBurstLength: 0,
      meanDelayMs: 0,
      maxDelayMs: 0,
      reorderRate: 0,
    });
  });
});
