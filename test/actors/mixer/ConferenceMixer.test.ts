import { afterEach, describe, expect, it } from 'vitest';
import { ConferenceMixer, FRAME_MS } from '../../../src/actors/mixer/ConferenceMixer.ts';
import { DEFAULT_DUCKING, SWITCH_FRAMES } from '../../../src/actors/mixer/Ducker.ts';
import type { MixerMemberConfig } from '../../../src/protocol.ts';
import { fitTone, sine } from '../../helpers/spectral.ts';
import { speech } from '../../helpers/fixtures.ts';

/**
 * The conference's mixing without rings or threads: members at their own
 * rates in, each one's N−1 mix out, the tones of the others measured by a
 * least-squares fit (an independent measure, not the kernel's reference).
 */
const made: ConferenceMixer[] = [];
afterEach(() => {
  for (const m of made.splice(0)) m.destroy();
});

function mixer(ducking = false, minRateHz = 8000): ConferenceMixer {
  const m = new ConferenceMixer({ maxMembers: 32, minRateHz, ducking: ducking ? DEFAULT_DUCKING : undefined });
  made.push(m);
  return m;
}

const member = (slot: number, rateHz: number, extra: Partial<MixerMemberConfig> = {}): MixerMemberConfig => ({
  slot,
  rateHz,
  gain: 1,
  muted: false,
  delayFrames: 0,
  ...extra,
});

/** Runs `frames` frames; each slot's source gives its frame i; returns each slot's output, concatenated. */
function run(m: ConferenceMixer, slots: number[], frames: number, source: (slot: number, i: number, spf: number) => Int16Array | undefined): Map<number, Int16Array> {
  const out = new Map<number, Int16Array>();
  for (const s of slots) out.set(s, new Int16Array(frames * m.member(s)!.samplesPerFrame));
  for (let i = 0; i < frames; i++) {
    for (const s of slots) {
      const mem = m.member(s)!;
      const f = source(s, i, mem.samplesPerFrame);
      mem.present = f !== undefined;
      if (f !== undefined) mem.input.set(f);
    }
    m.mix();
    for (const s of slots) out.get(s)!.set(m.member(s)!.output, i * m.member(s)!.samplesPerFrame);
  }
  return out;
}

/** A continuous tone, cut into frames. */
const toneSource = (freqs: Map<number, number>, rates: Map<number, number>, amplitude: number) => (slot: number, i: number, spf: number) =>
  sine(spf * (i + 1), freqs.get(slot)!, rates.get(slot)!, amplitude).subarray(spf * i);

describe('ConferenceMixer', () => {
  it('gives each member, at its own rate, every other member and never itself; the conference runs at the highest rate', () => {
    const m = mixer();
    const rates = new Map([[0, 8000], [1, 16000], [2, 48000], [3, 8000]]);
    const freqs = new Map([[0, 440], [1, 700], [2, 1100], [3, 1500]]);
    for (const [s, r] of rates) m.join(member(s, r));
    expect(m.rateHz).toBe(48000);
    const out = run(m, [0, 1, 2, 3], 40, toneSource(freqs, rates, 3000));
    for (const [s, r] of rates) {
      const y = out.get(s)!;
      const from = y.length / 2; // past the fade-in and the resamplers' delay
      for (const [t, f] of freqs) {
        const a = fitTone(y, f, r, from).amplitude;
        if (t === s) expect(a, `slot ${s} hears itself`).toBeLessThan(30);
        else expect(a, `slot ${s} hears slot ${t}`).toBeGreaterThan(3000 * 0.95);
      }
    }
  });

  it('applies gains and mutes; a missing frame is silence and costs the others nothing', () => {
    const m = mixer();
    const rates = new Map([[0, 8000], [1, 8000], [2, 8000]]);
    const freqs = new Map([[0, 500], [1, 900], [2, 1300]]);
    for (const [s, r] of rates) m.join(member(s, r));
    m.update(member(0, 8000, { gain: 2 }));
    m.update(member(1, 8000, { muted: true }));
    const tone = toneSource(freqs, rates, 2000);
    // Slot 2's frames are missing every other frame.
    const out = run(m, [0, 1, 2], 30, (s, i, spf) => (s === 2 && i % 2 === 1 ? undefined : tone(s, i, spf)));
    const y2 = out.get(2)!;
    expect(fitTone(y2, 500, 8000, 1600).amplitude).toBeGreaterThan(4000 * 0.98);
    expect(fitTone(y2, 900, 8000, 1600).amplitude).toBeLessThan(5);
    // Slot 0 hears 2 only in the frames it had (half its amplitude on average), and 1 not at all.
    const y0 = out.get(0)!;
    expect(fitTone(y0, 900, 8000, 1600).amplitude).toBeLessThan(5);
    expect(fitTone(y0, 1300, 8000, 1600, 1760).amplitude).toBeGreaterThan(1900); // frame 10 was there
    expect(fitTone(y0, 1300, 8000, 1760, 1920).amplitude).toBeLessThan(5); // frame 11 was not
  });

  it('never wraps or clips hard at full scale: 32 members in phase', () => {
    const m = mixer();
    const rates = new Map<number, number>();
    const freqs = new Map<number, number>();
    for (let s = 0; s < 32; s++) {
      m.join(member(s, 8000, { gain: 16 }));
      rates.set(s, 8000);
      freqs.set(s, 1000);
    }
    const out = run(m, [...rates.keys()], 10, toneSource(freqs, rates, 32767));
    const x = sine(80 * 10, 1000, 8000, 1);
    for (const y of out.values()) {
      let peak = 0;
      let wrapped = 0;
      for (let k = 160; k < y.length; k++) {
        peak = Math.max(peak, Math.abs(y[k]!));
        // The limited sum keeps the sign of the true sum: nothing wrapped around.
        if (Math.abs(x[k]!) > 0.2 && Math.sign(y[k]!) !== Math.sign(x[k]!)) wrapped++;
      }
      expect(wrapped).toBe(0);
      expect(peak).toBeGreaterThan(32000);
      expect(peak).toBeLessThanOrEqual(32767);
    }
  });

  it('fades a member in on joining and out on leaving, without a step', () => {
    const m = mixer();
    const rates = new Map([[0, 8000], [1, 8000]]);
    const freqs = new Map([[0, 400], [1, 600]]);
    m.join(member(0, 8000));
    m.join(member(1, 8000));
    const tone = toneSource(freqs, rates, 10000);
    const heard: number[] = [];
    for (let i = 0; i < 6; i++) {
      if (i === 4) expect(m.leave(0)).toBe(true);
      if (m.member(0) !== undefined) {
        m.member(0)!.input.set(tone(0, i, 160));
        m.member(0)!.present = true;
      }
      m.member(1)!.present = false;
      m.mix();
      heard.push(...m.member(1)!.output);
    }
    // Frame 0 rises from 0, frame 4 (the leave) falls to 0, frame 5 is silent.
    expect(Math.abs(heard[0]!)).toBeLessThan(50);
    expect(Math.max(...heard.slice(640, 800).map(Math.abs))).toBeGreaterThan(1000);
    expect(Math.abs(heard[799]!)).toBeLessThan(600);
    expect(heard.slice(800).every((v) => v === 0)).toBe(true);
    expect(m.size).toBe(1);
  });

  it('ducks the non-dominant speaker by the depth, with bounded steps, and keeps the floor steady', () => {
    const m = mixer(true);
    const { samples } = speech('synth-m-8k');
    m.join(member(0, 8000));
    m.join(member(1, 8000));
    m.join(member(2, 8000)); // a listener
    const frames = Math.floor(samples.length / 160);
    const quiet = Int16Array.from(samples, (v) => Math.round(v / 4)); // 12 dB down
    const ducks: number[] = [];
    const dominants: number[] = [];
    for (let i = 0; i < frames; i++) {
      const a = samples.subarray(i * 160, (i + 1) * 160);
      // The quiet speaker says the same, a little later (another voice's timing).
      const j = Math.max(0, i - 7);
      const b = quiet.subarray(j * 160, (j + 1) * 160);
      m.member(0)!.input.set(a);
      m.member(1)!.input.set(b);
      m.member(2)!.input.fill(0);
      for (const s of [0, 1, 2]) m.member(s)!.present = true;
      m.mix();
      ducks.push(m.duckDb(1));
      dominants.push(m.dominant);
    }
    expect(Math.min(...ducks)).toBeCloseTo(-DEFAULT_DUCKING.depthDb, 5);
    const attackStep = (DEFAULT_DUCKING.depthDb * FRAME_MS) / DEFAULT_DUCKING.attackMs;
    for (let i = 1; i < ducks.length; i++) expect(Math.abs(ducks[i]! - ducks[i - 1]!)).toBeLessThanOrEqual(attackStep + 1e-9);
    // The louder speaker holds the floor whenever anyone does; the quiet one never takes it from a talking loud one.
    const held = dominants.filter((d) => d >= 0);
    expect(held.length).toBeGreaterThan(frames / 4);
    expect(held.filter((d) => d === 0).length / held.length).toBeGreaterThan(0.9);
    let switches = 0;
    for (let i = 1; i < dominants.length; i++) if (dominants[i] !== dominants[i - 1]) switches++;
    expect(switches).toBeLessThan(frames / SWITCH_FRAMES / 4);
  });

  it('refuses a taken slot, a bad rate and a bad gain at control time', () => {
    const m = mixer();
    m.join(member(0, 8000));
    expect(() => m.join(member(0, 16000))).toThrow(/slot 0 is taken/);
    expect(() => m.join(member(1, 11025))).toThrow(RangeError);
    expect(() => m.join(member(1, 8000, { gain: 17 }))).toThrow(/gain/);
    expect(() => m.join(member(32, 8000))).toThrow(/slot/);
    expect(() => m.update(member(5, 8000))).toThrow(/no member/);
  });
});
