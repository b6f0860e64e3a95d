import { describe, expect, it } from 'vitest';
import { Mixer, MIXER_KNEE, type MixerExports } from '../../src/dsp/mixer.ts';
import { limitSample, MixerReference } from '../../src/dsp/reference/mixer.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';
import { mulberry32 } from '../helpers/prng.ts';

function randomFrame(rnd: () => number, n: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: n }, () => Math.max(-32768, Math.min(32767, Math.round((rnd() * 2 - 1) * amplitude))));
}

/** Runs the same frames through the kernel and the reference; returns both sides' outputs. */
function mixBoth(frames: Int16Array[], gains: number[], spf: number, maxInputs = frames.length) {
  const m = new Mixer(maxInputs, spf);
  const ref = new MixerReference(maxInputs, spf);
  frames.forEach((f, i) => {
    m.copyIn(i, f);
    ref.inputs[i]!.set(f);
    m.setGain(i, gains[i]!);
    ref.setGain(i, gains[i]!);
  });
  expect(m.mixMinusOne(frames.length)).toBe(frames.length);
  ref.mixMinusOne(frames.length);
  const outs = frames.map((_, i) => {
    const o = new Int16Array(spf);
    m.copyOut(i, o);
    return o;
  });
  const mix = new Int16Array(spf);
  m.copyMix(mix);
  m.destroy();
  return { outs, mix, ref };
}

describe('Mixer', () => {
  it('matches the reference bit for bit: random members, gains and frame lengths', () => {
    const rnd = mulberry32(2024);
    for (const [members, spf] of [[3, 320], [8, 160], [32, 960], [5, 961], [2, 3], [64, 480]] as const) {
      const frames = Array.from({ length: members }, () => randomFrame(rnd, spf, 2 ** (8 + Math.floor(rnd() * 8))));
      const gains = frames.map(() => (rnd() < 0.3 ? 1 : rnd() * 2));
      const { outs, mix, ref } = mixBoth(frames, gains, spf);
      for (let i = 0; i < members; i++) expect(outs[i]).toEqual(ref.outputs[i]);
      expect(mix).toEqual(ref.mix);
    }
  });

  it('is transparent below the knee: bit-exact with the integer sum', () => {
    const rnd = mulberry32(7);
    const members = 16;
    const spf = 480;
    const frames = Array.from({ length: members }, () => randomFrame(rnd, spf, MIXER_KNEE / members));
    const { outs, mix } = mixBoth(frames, frames.map(() => 1), spf);
    for (let k = 0; k < spf; k++) {
      let sum = 0;
      for (const f of frames) sum += f[k]!;
      expect(mix[k]).toBe(sum);
      for (let i = 0; i < members; i++) expect(outs[i]![k]).toBe(sum - frames[i]![k]!);
    }
  });

  it('never lets a member hear itself', () => {
    const spf = 160;
    const frames = Array.from({ length: 6 }, () => new Int16Array(spf));
    frames[2]![40] = 12000;
    const { outs, mix } = mixBoth(frames, [1, 1, 1, 1, 1, 1], spf);
    expect(outs[2]!.every((x) => x === 0)).toBe(true);
    for (const i of [0, 1, 3, 4, 5]) {
      expect(outs[i]![40]).toBe(12000);
      expect(outs[i]!.reduce((a, x) => a + Math.abs(x), 0)).toBe(12000);
    }
    expect(mix[40]).toBe(12000);
  });

  it('saturates without wrapping: 32 members at full scale', () => {
    const spf = 160;
    for (const level of [32767, -32768]) {
      const frames = Array.from({ length: 32 }, () => new Int16Array(spf).fill(level));
      const { outs, mix } = mixBoth(frames, frames.map(() => 1), spf);
      for (const o of [...outs, mix]) {
        for (const x of o) {
          expect(Math.sign(x)).toBe(Math.sign(level));
          expect(Math.abs(x)).toBeGreaterThan(32000); // 31 members: ~62 dB over the knee, near the asymptote
        }
      }
    }
    // and at the largest gain, 256 members: still no wrap
    const frames = Array.from({ length: 256 }, () => new Int16Array(8).fill(-32768));
    const { mix } = mixBoth(frames, frames.map(() => 16), 8);
    for (const x of mix) expect(x).toBeGreaterThanOrEqual(-32768), expect(x).toBeLessThan(-32760);
  });

  it('limits monotonically and smoothly above the knee, and never reaches past full scale', () => {
    // The reference curve (bit-exact with the kernel, tested above) over every
    // integer sum up to 2^21 and then coarser up to 2^27.
    let prev = limitSample(0);
    for (let x = 1; x < 1 << 27; x += x < 1 << 21 ? 1 : 997) {
      const y = limitSample(x);
      if (limitSample(-x) !== -y) throw new Error(`not symmetric at ${x}`);
      if (y < prev) throw new Error(`not monotonic at ${x}: ${y} < ${prev}`);
      if (x <= MIXER_KNEE && y !== x) throw new Error(`not transparent at ${x}: ${y}`);
      // slope 1 out of the knee: the curve falls a whole step short of x only ~90 over it
      if (x > MIXER_KNEE && (y > x || (x > MIXER_KNEE + 128 && y >= x))) throw new Error(`not limiting at ${x}: ${y}`);
      prev = y;
    }
    expect(prev).toBe(32766); // at 2^27, 2 short of the asymptote
    // the curve in closed form: T + K·e/(e + K)
    const K = 32768 - MIXER_KNEE;
    for (const e of [1000, 2000, 10000, 100000]) {
      expect(Math.abs(limitSample(MIXER_KNEE + e) - (MIXER_KNEE + (K * e) / (e + K)))).toBeLessThanOrEqual(0.5);
    }
    expect(limitSample(32767)).toBeLessThan(32767);

    // and the kernel over a ramp of one input at gain 16 (sums up to 2^19)
    const m = new Mixer(1, 4096);
    m.setGain(0, 16);
    const out = new Int16Array(4096);
    let last = -32769;
    for (let start = -32768; start < 32768; start += 4096) {
      m.copyIn(0, Int16Array.from({ length: 4096 }, (_, k) => start + k));
      m.mix(1);
      m.copyMix(out);
      for (let k = 0; k < 4096; k++) {
        expect(out[k]).toBe(limitSample(16 * (start + k)));
        if (out[k]! < last) throw new Error(`kernel not monotonic at ${start + k}`);
        last = out[k]!;
      }
    }
    m.destroy();
  });

  it('rounds and limits with pmin/pmax and the magic number exactly as min/max/nearest/trunc_sat do', () => {
    // limitSample is the min/max/nearest/trunc_sat form, step for step. Every
    // int16 input at gains that put sums on half-integer ties (0.5, 1.5, 2.5),
    // around the knee (1, 0.999, 1.001) and deep into the limiter (16, 15.999,
    // 7.3): the kernel's mix, and a mix-minus (the sum less a second input),
    // must equal it sample for sample.
    const spf = 4096;
    const m = new Mixer(2, spf);
    const mix = new Int16Array(spf);
    const minus = new Int16Array(spf);
    const ramp = new Int16Array(spf);
    const offset = new Int16Array(spf).fill(-3);
    let mismatches = 0;
    let compared = 0;
    for (const gain of [0.5, 1.5, 2.5, 1, 0.999, 1.001, 7.3, 15.999, 16]) {
      const g = Math.fround(gain);
      m.setGain(0, g);
      m.copyIn(1, offset);
      for (let start = -32768; start < 32768; start += spf) {
        for (let k = 0; k < spf; k++) ramp[k] = start + k;
        m.copyIn(0, ramp);
        m.mixMinusOne(2);
        m.copyMix(mix);
        m.copyOut(1, minus);
        for (let k = 0; k < spf; k++) {
          const sum = Math.fround(Math.fround(g * ramp[k]!) - 3);
          if (mix[k] !== limitSample(sum)) mismatches++;
          if (minus[k] !== limitSample(Math.fround(sum - -3))) mismatches++;
          compared += 2;
        }
      }
    }
    m.destroy();
    expect(compared).toBe(9 * 65536 * 2);
    expect(mismatches).toBe(0);
  });

  it('applies gains, and holds them as the kernel rounds them (f32)', () => {
    const spf = 16;
    const frames = [new Int16Array(spf).fill(1000), new Int16Array(spf).fill(-600), new Int16Array(spf).fill(300)];
    const { outs, mix } = mixBoth(frames, [0.5, 2, 0], spf);
    expect(mix[0]).toBe(500 - 1200);
    expect(outs[0]![0]).toBe(-1200); // hears 2·(−600) + 0·300
    expect(outs[1]![0]).toBe(500);
    expect(outs[2]![0]).toBe(-700); // a muted member still hears everyone
    const m = new Mixer(2, 8);
    m.setGain(1, 0.1);
    expect(m.gain(1)).toBe(Math.fround(0.1));
    expect(m.gain(0)).toBe(1);
    m.destroy();
  });

  it('handles bad input: per-frame calls clamp and count, control calls throw RangeError', () => {
    const m = new Mixer(4, 32);
    for (let i = 0; i < 4; i++) m.copyIn(i, new Int16Array(32).fill(100 * (i + 1)));
    expect(m.mixMinusOne(99)).toBe(4); // count > maxInputs: all four
    const out = new Int16Array(32);
    m.copyMix(out);
    expect(out[0]).toBe(1000);
    expect(m.mixMinusOne(-3)).toBe(0);
    expect(m.mixMinusOne(Number.NaN)).toBe(0);
    m.copyMix(out);
    expect(out[0]).toBe(0); // nothing mixed is silence
    expect(m.copyIn(4, out)).toBe(0);
    expect(m.copyIn(-1, out)).toBe(0);
    expect(m.copyOut(7, out)).toBe(0);
    expect(m.copyIn(0, Int16Array.of(5, 6))).toBe(2); // short frame: the rest is silence
    expect(Array.from(m.input(0).subarray(0, 4))).toEqual([5, 6, 0, 0]);
    expect(m.copyIn(0, new Int16Array(100).fill(9))).toBe(32); // long frame: cut
    expect(m.copyOut(0, new Int16Array(8))).toBe(8); // short destination: what fits

    expect(() => m.setGain(0, Number.NaN)).toThrow(RangeError);
    expect(() => m.setGain(0, -0.5)).toThrow(/gain must be a number in 0\.\.16 \[input:0, gain:-0\.5\]/);
    expect(() => m.setGain(0, 17)).toThrow(RangeError);
    expect(() => m.setGain(4, 1)).toThrow(/input index out of range \[input:4, maxInputs:4\]/);
    expect(() => m.setGain(1.5, 1)).toThrow(RangeError);
    expect(() => new Mixer(0, 160)).toThrow(RangeError);
    expect(() => new Mixer(257, 160)).toThrow(RangeError);
    expect(() => new Mixer(2, 5761)).toThrow(/samplesPerFrame must be an integer in 1\.\.5760/);

    m.destroy();
    m.destroy();
    expect(m.mixMinusOne(4)).toBe(0);
    expect(m.copyIn(0, out)).toBe(0);
    expect(m.copyMix(out)).toBe(0);
    expect(() => m.setGain(0, 1)).toThrow(/destroyed/);
  });

  it('the kernel itself mutes NaN and negative gains, clamps large ones, and refuses bad sizes', () => {
    const core = newDspInstance<MixerExports>();
    const state = core.mixerCreate(2, 8);
    expect(core.mixerSetGain(state, 0, Number.NaN)).toBe(1);
    expect(core.mixerGain(state, 0)).toBe(0);
    core.mixerSetGain(state, 0, -3);
    expect(core.mixerGain(state, 0)).toBe(0);
    core.mixerSetGain(state, 0, Number.POSITIVE_INFINITY);
    expect(core.mixerGain(state, 0)).toBe(16);
    expect(core.mixerSetGain(state, 2, 1)).toBe(0);
    expect(core.mixerInput(state, 2)).toBe(0);
    expect(core.mixerCreate(0, 8)).toBe(0);
    expect(core.mixerCreate(2, 0)).toBe(0);
    expect(core.mixerCreate(2, 5761)).toBe(0);
    core.mixerDestroy(state);
  });

  it('writes only its own buffers (canaries around them) and survives memory growth', () => {
    const core = newDspInstance<MixerExports>();
    const before = core.alloc(64);
    const m = new Mixer(3, 13, core); // 13 samples: a stride of 16 with padding lanes
    const after = core.alloc(64);
    new Uint8Array(core.memory.buffer, before, 64).fill(0xa5);
    new Uint8Array(core.memory.buffer, after, 64).fill(0x5a);
    const grow = core.alloc(8 << 20); // the heap views must follow the grown memory
    for (let i = 0; i < 3; i++) {
      const at = m.inputIndex(i);
      for (let k = 0; k < 13; k++) m.heap[at + k] = 20000 * (i === 1 ? -1 : 1);
    }
    m.mixMinusOne(3);
    const heap = m.heap;
    expect(heap[m.mixIndex]).toBe(limitSample(20000));
    expect(heap[m.outputIndex(1)]).toBe(limitSample(40000));
    expect(heap[m.outputIndex(0)]).toBe(0);
    expect(new Uint8Array(core.memory.buffer, before, 64).every((b) => b === 0xa5)).toBe(true);
    expect(new Uint8Array(core.memory.buffer, after, 64).every((b) => b === 0x5a)).toBe(true);
    core.free(grow);
    m.destroy();
  });
});
