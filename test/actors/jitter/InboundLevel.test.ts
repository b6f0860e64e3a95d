import { describe, expect, it } from 'vitest';
import { InboundLevel, LEVEL_INTEGRATION_MS } from '../../../src/actors/jitter/InboundLevel.ts';
import { LEVEL_FLOOR_DBFS } from '../../../src/dsp/level.ts';

const FRAME_MS = 20;

/** 20 ms of a 1 kHz sine at 8 kHz (whole cycles, so every frame has the same RMS). */
function sine(amplitude: number): Int16Array {
  return Int16Array.from({ length: 160 }, (_, k) => Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * k) / 8000)));
}

function feed(level: InboundLevel, frame: Int16Array, frames: number): number {
  let db = LEVEL_FLOOR_DBFS;
  for (let i = 0; i < frames; i++) db = level.measure(frame);
  return db;
}

describe('InboundLevel', () => {
  it('settles on a steady tone at its RMS in dBFS (a full-scale sine reads −3.01 dBFS)', () => {
    const level = new InboundLevel(FRAME_MS);
    // 3 s: 10 time constants, within 0.001 dB of the steady reading.
    expect(feed(level, sine(32767), 150)).toBeCloseTo(-3.01, 1);
    const quieter = new InboundLevel(FRAME_MS);
    expect(feed(quieter, sine(3277), 150)).toBeCloseTo(-23.01, 1);
  });

  it('rises and falls with the VU integration time, not from one frame to the next', () => {
    const level = new InboundLevel(FRAME_MS);
    // One loud frame after silence: a single 20 ms frame moves the power by 1 − e^(−20/300) only.
    const first = level.measure(sine(32767));
    expect(first).toBeCloseTo(-3.01 + 10 * Math.log10(1 - Math.exp(-FRAME_MS / LEVEL_INTEGRATION_MS)), 1);
    feed(level, sine(32767), 150);
    // After one time constant of silence the power is down to 1/e: −4.34 dB.
    const afterDecay = feed(level, new Int16Array(160), LEVEL_INTEGRATION_MS / FRAME_MS);
    expect(afterDecay).toBeCloseTo(-3.01 - 10 * Math.log10(Math.E), 1);
  });

  it('reads the floor for silence, and streams on one thread do not share a reading', () => {
    const silent = new InboundLevel(FRAME_MS);
    const loud = new InboundLevel(FRAME_MS);
    feed(loud, sine(32767), 50);
    expect(feed(silent, new Int16Array(160), 50)).toBe(LEVEL_FLOOR_DBFS);
    expect(loud.measure(sine(32767))).toBeGreaterThan(-4);
  });
});
