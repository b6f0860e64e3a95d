import { describe, expect, it } from 'vitest';
import { readWav, toMono, WavFormatError, writeWav } from '../../src/wire/wav.ts';
import { readFixture } from '../helpers/fixtures.ts';

describe('wav', () => {
  it('reads the speech fixtures as 16-bit mono', () => {
    const w = readWav(readFixture('speech/synth-m-8k.wav'));
    expect(w.rateHz).toBe(8000);
    expect(w.channels).toBe(1);
    expect(w.samples.length).toBeGreaterThan(8000 * 20);
  });

  it('round-trips write → read', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const back = readWav(writeWav({ rateHz: 16000, channels: 2, samples }));
    expect(back).toEqual({ rateHz: 16000, channels: 2, samples });
    // channel means: (0+1)/2, (-1+32767)/2, (-32768+1234)/2, rounded
    expect(Array.from(toMono(back))).toEqual([1, 16383, -15767]);
  });

  it('names the problem in bad input', () => {
    expect(() => readWav(new Uint8Array(4))).toThrow(WavFormatError);
    expect(() => readWav(new TextEncoder().encode('RIFF\0\0\0\0WAVEjunk'))).toThrow(/no fmt chunk/);
    const good = writeWav({ rateHz: 8000, channels: 1, samples: new Int16Array(100) });
    expect(() => readWav(good.subarray(0, 100))).toThrow(/truncated data chunk \[declared:200, available:56\]/);
    const float = good.slice();
    float[20] = 3; // IEEE float
    expect(() => readWav(float)).toThrow(/unsupported WAV encoding \[format:3/);
  });
});
