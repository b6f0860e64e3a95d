import { describe, expect, it } from 'vitest';
import { LatencyAligner, sourceEnvelope } from '../../src/load/LatencyAligner.ts';
import { syntheticSpeech } from '../../src/load/speechSource.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';

/**
 * The aligner is fed what a caller sees: frames leaving on a 20 ms clock,
 * and a returned stream that is the same audio delayed by a known, not
 * frame-aligned latency (and, for a second case, arriving with jitter).
 */

const RATE = 8000;
const F = 160;

function run(samples: Int16Array, latencyMs: number, opts: { jitterMs?: number; baseFrame?: number; frames?: number } = {}) {
  const env = sourceEnvelope(samples, RATE);
  const base = opts.baseFrame ?? 0;
  const aligner = new LatencyAligner(RATE, F, env, base);
  const rnd = mulberry32(5);
  const frames = opts.frames ?? 500;
  const delaySamples = Math.round((latencyMs * RATE) / 1000);
  // The returned stream starts 3 frames before the caller's first (the daemon sends from the call's creation).
  const lead = 3;
  const events: Array<{ at: number; fn: () => void }> = [];
  for (let k = 0; k < frames; k++) events.push({ at: k * 20, fn: () => aligner.sent(k, k * 20) });
  for (let j = 0; j < frames + lead; j++) {
    const pcm = new Int16Array(F);
    // Returned sample m = (j − lead)·F + i carries sent sample m − delaySamples.
    for (let i = 0; i < F; i++) {
      const p = (j - lead) * F + i - delaySamples;
      pcm[i] = p < 0 ? 0 : samples[(base * F + p) % samples.length]!;
    }
    // Its first sample left the caller latencyMs earlier.
    const at = (j - lead) * 20 + (opts.jitterMs ?? 0) * rnd();
    events.push({ at, fn: () => aligner.returned(j * F, pcm, F, at) });
  }
  events.sort((a, b) => a.at - b.at);
  for (const e of events) e.fn();
  return aligner;
}

describe('LatencyAligner', () => {
  it('finds a latency that is not a whole number of frames, in the corpus speech and the synthetic fallback', () => {
    for (const samples of [speech('synth-m-8k').samples, syntheticSpeech(RATE, 30, F).samples]) {
      const a = run(samples, 47.3, { baseFrame: 321 });
      expect(a.alignedWindows).toBeGreaterThanOrEqual(8);
      expect(a.histogram.quantile(0.5)!).toBeGreaterThan(46.3);
      expect(a.histogram.quantile(0.5)!).toBeLessThan(48.3);
      expect(a.histogram.quantile(0.99)!).toBeLessThan(48.8);
    }
  });

  it('reports jitter on the way back as spread above the base latency', () => {
    const a = run(speech('synth-f-8k').samples, 80, { jitterMs: 10, baseFrame: 40 });
    expect(a.alignedWindows).toBeGreaterThanOrEqual(8);
    expect(a.histogram.quantile(0.01)!).toBeGreaterThan(78);
    expect(a.histogram.quantile(0.5)!).toBeGreaterThan(82);
    expect(a.histogram.quantile(0.5)!).toBeLessThan(88);
    expect(a.histogram.quantile(0.99)!).toBeLessThan(92);
  });

  it('gives no latency for audio unrelated to what was sent', () => {
    const samples = speech('synth-m-8k').samples;
    const env = sourceEnvelope(samples, RATE);
    const a = new LatencyAligner(RATE, F, env, 0);
    // Not the other voice: both speak the same sentences, and their envelopes match.
    const other = syntheticSpeech(RATE, 30, F).samples;
    for (let k = 0; k < 500; k++) {
      a.sent(k, k * 20);
      a.returned(k * F, other.subarray(k * F, (k + 1) * F), F, k * 20 + 30);
    }
    expect(a.histogram.count).toBe(0);
    expect(a.unalignedWindows).toBeGreaterThanOrEqual(8);
  });
});
