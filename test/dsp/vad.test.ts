import { describe, expect, it } from 'vitest';
import { buildCase, noise, scoreCase, VARIANTS, type VadCase } from '../../bench/vadCorpus.ts';
import { VadReference } from '../../src/dsp/reference/vad.ts';
import { Vad, type VadExports } from '../../src/dsp/vad.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';
import { speech } from '../helpers/fixtures.ts';

const variant = (name: string) => VARIANTS.find((v) => v.name === name)!;

/**
 * A voiced test signal: a 140 Hz pulse train through a one-pole low-pass,
 * about `dbfs` at its peaks, in syllables (five a second, 14 dB deep) so that
 * it is not a steady tone.
 */
function voiced(rateHz: number, seconds: number, dbfs: number): Int16Array {
  const out = new Int16Array(Math.round(rateHz * seconds));
  const period = Math.round(rateHz / 140);
  const a = Math.exp((-2 * Math.PI * 800) / rateHz);
  const amp = 32767 * 10 ** (dbfs / 20) * 4;
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    const syllables = 0.2 + 0.8 * Math.sin((Math.PI * i) / rateHz / 0.2) ** 2;
    y = a * y + (1 - a) * (i % period === 0 ? amp * 8 : 0);
    out[i] = Math.round(Math.max(-32768, Math.min(32767, syllables * (y - amp * 0.1))));
  }
  return out;
}

function decisions(vad: { process(f: Int16Array): boolean }, x: Int16Array, spf: number): boolean[] {
  const out: boolean[] = [];
  for (let at = 0; at + spf <= x.length; at += spf) out.push(vad.process(x.subarray(at, at + spf)));
  return out;
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('Vad', () => {
  it('agrees with the reference frame for frame, figures to rounding', () => {
    for (const [file, frameMs, v] of [
      ['synth-m-8k', 20, 'pink −40 gaps'],
      ['synth-f-16k', 10, 'white −55 under all'],
      ['human-front-left-48k', 20, 'white −40 gaps'],
      ['human-rear-left-48k', 10, 'pink −50 under all'],
    ] as const) {
      const { rateHz, samples } = speech(file);
      const c = buildCase(samples, rateHz, variant(v), 42, frameMs);
      const wasm = new Vad(rateHz, { frameMs });
      const ref = new VadReference(rateHz, { frameMs });
      const spf = wasm.samplesPerFrame;
      let speechFrames = 0;
      for (let f = 0; f < c.labels.length; f++) {
        const frame = c.samples.subarray(f * spf, (f + 1) * spf);
        const a = wasm.process(frame);
        const b = ref.process(frame);
        if (a !== b) throw new Error(`decision differs [file:${file}, frame:${f}, wasm:${a}, reference:${b}]`);
        if (Math.abs(wasm.voicing - ref.voicing) > 1e-9 || Math.abs(wasm.noiseFloorDbfs - ref.noiseFloorDbfs) > 1e-9) {
          throw new Error(`figures differ [file:${file}, frame:${f}]`);
        }
        if (a) speechFrames++;
      }
      expect(speechFrames).toBeGreaterThan(c.labels.length / 5);
      wasm.destroy();
    }
  });

  it('scores at least 95% frame accuracy on representative files', () => {
    const cases: Array<[string, string, number]> = [
      ['synth-m-8k', 'pink −40 gaps', 20],
      ['synth-f-16k', 'white −55 under all', 20],
      ['synth-m-48k', 'white −40 gaps', 10],
      ['human-side-left-48k', 'silence gaps', 20],
      ['human-rear-center-48k', 'pink −50 under all', 20],
    ];
    for (const [file, v, frameMs] of cases) {
      const { rateHz, samples } = speech(file);
      const c: VadCase = buildCase(samples, rateHz, variant(v), 1000 + VARIANTS.indexOf(variant(v)) * 7 + file.length, frameMs);
      const vad = new Vad(rateHz, { frameMs });
      const score = scoreCase(c, (frame) => vad.process(frame));
      vad.destroy();
      expect(score.accuracy, `${file}, ${v}, ${frameMs} ms`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('ignores silence, learns steady noise, and does not take a tone for speech for long', () => {
    const rate = 16000;
    const spf = 320;
    const vad = new Vad(rate);
    expect(decisions(vad, new Int16Array(rate * 2), spf).some((d) => d)).toBe(false);
    const n = noise('white', rate * 3, rate, -30, 9);
    const loud = Int16Array.from(n, (x) => Math.round(x));
    const d = decisions(vad, loud, spf);
    expect(d.slice(50).some((x) => x)).toBe(false); // learnt within its first second
    const tone = Int16Array.from({ length: rate * 3 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 425 * i) / rate)));
    vad.reset();
    const t = decisions(vad, tone, spf);
    expect(t.slice(75).some((x) => x)).toBe(false); // a periodic but steady sound becomes floor within 1.5 s
    vad.destroy();
  });

  it('opens on voicing after the onset frames and closes exactly a hangover after the last', () => {
    for (const rate of [8000, 16000, 24000, 48000]) {
      for (const frameMs of [10, 20]) {
        const spf = (rate * frameMs) / 1000;
        const hangoverFrames = 7;
        const onsetFrames = 3;
        const vad = new Vad(rate, { frameMs, hangoverFrames, onsetFrames });
        const ref = new VadReference(rate, { frameMs, hangoverFrames, onsetFrames });
        const x = concat(new Int16Array(spf * 20), voiced(rate, 0.6, -20), new Int16Array(spf * 30));
        const d = decisions(vad, x, spf);
        expect(d).toEqual(decisions(ref, x, spf));
        const first = d.indexOf(true);
        const last = d.lastIndexOf(true);
        const voicedFrames = Math.round(0.6 * 1000 / frameMs);
        // voicing needs a few frames of history; then `onsetFrames` candidates
        expect(first).toBeGreaterThanOrEqual(20 + onsetFrames - 1);
        expect(first).toBeLessThanOrEqual(20 + onsetFrames + 3);
        expect(last).toBe(20 + voicedFrames - 1 + hangoverFrames);
        expect(d.slice(first, last + 1).every((s) => s)).toBe(true);
        vad.destroy();
      }
    }
  });

  it('does not open on a single loud click', () => {
    const spf = 160;
    const vad = new Vad(8000, { onsetFrames: 2 });
    const click = new Int16Array(spf);
    click.fill(20000, 0, 40);
    const x = concat(new Int16Array(spf * 10), click, new Int16Array(spf * 10));
    expect(decisions(vad, x, spf).some((d) => d)).toBe(false);
    vad.destroy();
  });

  it('reset() makes it a fresh detector', () => {
    const { rateHz, samples } = speech('synth-m-8k');
    const part = samples.subarray(0, rateHz * 3);
    const vad = new Vad(rateHz);
    const first = decisions(vad, part, 160);
    vad.reset();
    expect(vad.noiseFloorDbfs).toBe(-60);
    expect(decisions(vad, part, 160)).toEqual(first);
    vad.destroy();
  });

  it('handles bad input: control calls throw RangeError, per-frame calls never throw', () => {
    expect(() => new Vad(44100)).toThrow(/unsupported VAD rate \[rateHz:44100/);
    expect(() => new Vad(8000, { frameMs: 30 })).toThrow(/unsupported VAD frame length \[frameMs:30/);
    expect(() => new Vad(8000, { hangoverFrames: -1 })).toThrow(RangeError);
    expect(() => new Vad(8000, { onsetFrames: 0 })).toThrow(RangeError);
    expect(() => new Vad(8000, { hangoverFrames: 2.5 })).toThrow(RangeError);

    const vad = new Vad(8000);
    const loud = voiced(8000, 0.3, -20);
    decisions(vad, loud, 160);
    expect(vad.speech).toBe(true);
    const level = vad.levelDbfs;
    expect(vad.process(new Int16Array(0))).toBe(true); // empty: nothing changes
    expect(vad.levelDbfs).toBe(level);
    expect(vad.process(new Int16Array(1000))).toBe(true); // too long: its first 160 samples, still in hangover
    expect(vad.levelDbfs).toBe(-100);
    expect(vad.process(Int16Array.of(1, -1, 1))).toBe(true); // short: measured over 3 samples
    expect(vad.levelDbfs).toBeCloseTo(20 * Math.log10(1 / 32767), 9);
    vad.destroy();
    vad.destroy();
    expect(vad.process(loud.subarray(0, 160))).toBe(false);
    expect(vad.speech).toBe(false);

    const core = newDspInstance<VadExports>();
    expect(core.vadCreate(11025, 20, 10, 1)).toBe(0);
    expect(core.vadCreate(8000, 15, 10, 1)).toBe(0);
    expect(core.vadCreate(8000, 20, -1, 1)).toBe(0);
    expect(core.vadCreate(8000, 20, 10, 0)).toBe(0);
    const state = core.vadCreate(8000, 20, 10, 1);
    expect(core.vadProcess(state, -5)).toBe(0);
    expect(core.vadProcess(state, 1 << 30)).toBe(0); // clamped to the frame: silence
    core.vadDestroy(state);
  });
});
