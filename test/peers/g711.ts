/**
 * µ-law per sample for the test peers, written from ITU-T G.711 §3 (the
 * segment/quantization rule with the 0x84 bias and inverted bits) rather than
 * taken from the engine, so a peer never shares the engine's mistakes.
 */
const BIAS = 0x84;
const CLIP = 32635;

export function ulawEncodeSample(pcm: number): number {
  const sign = pcm < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(pcm), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function ulawDecodeSample(code: number): number {
  const u = ~code & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4)) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}
