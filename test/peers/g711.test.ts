import { describe, expect, it } from 'vitest';
import { ulawDecodeSample, ulawEncodeSample } from './g711.ts';

/** The peers' own µ-law (ITU-T G.711 §3), checked against the standard's table rather than the engine. */
describe('test peers: G.711 µ-law', () => {
  it("decodes to Table 2a's levels (×4 for 16-bit samples)", () => {
    // The first 17 codes (negative, largest first) and the last of each sign.
    const levels = [-32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764, -15996];
    levels.forEach((level, code) => expect(ulawDecodeSample(code), `code ${code}`).toBe(level));
    expect(ulawDecodeSample(0x7e)).toBe(-8);
    expect(ulawDecodeSample(0x7f) + 0).toBe(0);
    expect(ulawDecodeSample(0x80)).toBe(32124);
    expect(ulawDecodeSample(0xfe)).toBe(8);
    expect(ulawDecodeSample(0xff)).toBe(0);
  });

  it('encodes every level to its own code, clips at full scale, and never goes backwards', () => {
    for (let code = 0; code < 256; code++) {
      // 0x7f is the negative zero, which encodes as the positive one (0xff).
      expect(ulawEncodeSample(ulawDecodeSample(code)), `code ${code}`).toBe(code === 0x7f ? 0xff : code);
    }
    expect(ulawEncodeSample(32767)).toBe(0x80);
    expect(ulawEncodeSample(-32768)).toBe(0x00);
    // As magnitudes grow, codes fall: from 0xff to 0x80 for positive samples, from 0x7f to 0x00 for negative ones.
    const backwards: number[] = [];
    for (let x = 1; x < 32768; x++) {
      const [code, before] = [ulawEncodeSample(x), ulawEncodeSample(x - 1)];
      if (code > before || code < 0x80) backwards.push(x);
      if (ulawEncodeSample(-x) < ulawEncodeSample(-x - 1) || ulawEncodeSample(-x) > 0x7f) backwards.push(-x);
    }
    expect(backwards).toEqual([]);
  });
});
