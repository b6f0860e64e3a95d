import { describe, expect, it } from 'vitest';
import { FrameEncoder } from '../../src/dsp/FrameEncoder.ts';
import { frameDurationMs } from '../../src/wire/frameDuration.ts';

describe('frameDurationMs', () => {
  it('G.711 and G.722 at 8 bytes per ms, L16 at two bytes a sample', () => {
    const b = new Uint8Array(1920);
    expect(frameDurationMs('PCMU', b, 160, 8000)).toBe(20);
    expect(frameDurationMs('PCMA', b, 80, 8000)).toBe(10);
    expect(frameDurationMs('G722', b, 160, 16000)).toBe(20);
    expect(frameDurationMs('L16', b, 640, 16000)).toBe(20);
    expect(frameDurationMs('L16', b, 1920, 48000)).toBe(20);
  });

  it('Opus from the TOC byte (RFC 6716 §3.1): configuration, frame count code, code 3 count', () => {
    const toc = (config: number, code: number, count?: number): Uint8Array => new Uint8Array(count === undefined ? [(config << 3) | code] : [(config << 3) | code, count]);
    expect(frameDurationMs('opus', toc(1, 0), 1, 48000)).toBe(20); // SILK NB 20 ms
    expect(frameDurationMs('opus', toc(3, 0), 1, 48000)).toBe(60); // SILK NB 60 ms
    expect(frameDurationMs('opus', toc(13, 1), 1, 48000)).toBe(40); // Hybrid 20 ms, two frames
    expect(frameDurationMs('opus', toc(16, 0), 1, 48000)).toBe(2.5); // CELT 2.5 ms
    expect(frameDurationMs('opus', toc(31, 3, 3), 2, 48000)).toBe(60); // CELT 20 ms, three frames
    expect(frameDurationMs('opus', toc(31, 3), 1, 48000)).toBe(0); // code 3 without its count byte
    expect(frameDurationMs('opus', new Uint8Array(0), 0, 48000)).toBe(0);
  });

  it('a 20 ms frame from the Opus encoder reads as 20 ms', () => {
    const enc = new FrameEncoder('opus', 48000);
    try {
      const out = new Uint8Array(1500);
      const n = enc.encode(new Int16Array(960).map((_, i) => Math.round(8000 * Math.sin(i / 7))), out);
      expect(n).toBeGreaterThan(0);
      expect(frameDurationMs('opus', out, n, 48000)).toBe(20);
    } finally {
      enc.destroy();
    }
  });
});
