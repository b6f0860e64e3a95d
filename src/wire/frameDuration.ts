import type { PacketCodec } from '../frames/PacketRing.ts';

/**
 * Opus frame length in units of 0.5 ms, by the TOC byte's configuration
 * number (RFC 6716 §3.1, Table 2): SILK-only 10/20/40/60 ms (configs 0–11),
 * Hybrid 10/20 ms (12–15), CELT-only 2.5/5/10/20 ms (16–31).
 */
function opusFrameHalfMs(config: number): number {
  if (config < 12) return [20, 40, 80, 120][config & 3]!;
  if (config < 16) return [20, 40][config & 1]!;
  return [5, 10, 20, 40][config & 3]!;
}

/**
 * Milliseconds of audio in one encoded frame, from its bytes alone: G.711 is
 * one byte per 8 kHz sample, G.722 one byte per two 16 kHz samples (so also
 * 8 bytes per ms), L16 two bytes per sample at the stream's rate, and an
 * Opus packet says its own length in its TOC byte and frame count code
 * (RFC 6716 §3.1–3.2; code 3 carries the count in the next byte). 0 for a
 * packet that does not say (too short); nothing allocated.
 */
export function frameDurationMs(codec: PacketCodec, bytes: Uint8Array, length: number, rateHz: number): number {
  switch (codec) {
    case 'PCMU':
    case 'PCMA':
    case 'G722':
      return length / 8;
    case 'L16':
      return (length / 2 / rateHz) * 1000;
    case 'opus': {
      if (length < 1) return 0;
      const toc = bytes[0]!;
      const code = toc & 3;
      const frames = code === 0 ? 1 : code < 3 ? 2 : length < 2 ? 0 : bytes[1]! & 0x3f;
      return (opusFrameHalfMs(toc >> 3) * frames) / 2;
    }
  }
}
