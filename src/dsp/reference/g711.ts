/**
 * G.711 µ-law and A-law, one sample at a time with plain bit manipulation:
 * the reference the WebAssembly kernel (assembly/g711.ts) is tested against.
 *
 * Decoding is the standard's reconstruction (ITU-T G.711 Tables 1a and 2a,
 * scaled to 16 bits). Encoding picks the decodable level nearest to the
 * 16-bit input. The standard's encoder quantizes 13-bit (A-law) or 14-bit
 * (µ-law) input with decision values at segment boundaries, so just above a
 * boundary it picks the upper level although the last level of the segment
 * below is closer (the step doubles there); rounding to the nearest level
 * never does worse and decodes with the same tables.
 *
 * Ties go to the level of larger magnitude, and A-law's 0 (equidistant from
 * ±8) to +8.
 */

/** Largest µ-law magnitude: code 0x80 decodes to 32124. */
const ULAW_MAX = 32124;
/** µ-law adds this bias so every segment starts at a power of two (G.711 §3). */
const ULAW_BIAS = 0x84;
/** Largest A-law magnitude: code 0xAA decodes to 32256. */
const ALAW_MAX = 32256;
/** A-law codes have their even bits inverted on the line (G.711 §2, Table 1a). */
const ALAW_INVERT = 0x55;

/** Position of the highest set bit (v > 0). */
function msb(v: number): number {
  return 31 - Math.clz32(v);
}

/** µ-law level of a positive-side code's segment and step, before the sign. */
function ulawMagnitude(segment: number, step: number): number {
  return (((step << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
}

export function ulawDecodeSample(code: number): number {
  const c = ~code & 0xff;
  const mag = ulawMagnitude((c >> 4) & 7, c & 15);
  return c & 0x80 ? -mag : mag;
}

export function ulawEncodeSample(x: number): number {
  const negative = x < 0;
  const mag = Math.min(negative ? -x : x, ULAW_MAX);
  // With the bias added, segment e spans [2^(e+7), 2^(e+8)) and its 16 steps
  // are equal intervals whose midpoints are the decodable levels.
  const biased = mag + ULAW_BIAS;
  let segment = msb(biased) - 7;
  let step = (biased >> (segment + 3)) & 15;
  // The first step of a segment: the previous segment's last level lies 6·2^e
  // below this level (half a step of each size), so it wins below 3·2^e under.
  if (step === 0 && segment > 0 && mag < ulawMagnitude(segment, 0) - (3 << segment)) {
    segment -= 1;
    step = 15;
  }
  return ~((negative ? 0x80 : 0) | (segment << 4) | step) & 0xff;
}

/** A-law level of a positive-side code's segment and step, before the sign. */
function alawMagnitude(segment: number, step: number): number {
  return segment === 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
}

export function alawDecodeSample(code: number): number {
  const c = code ^ ALAW_INVERT;
  const mag = alawMagnitude((c >> 4) & 7, c & 15);
  return c & 0x80 ? mag : -mag;
}

export function alawEncodeSample(x: number): number {
  const negative = x < 0;
  const mag = Math.min(negative ? -x : x, ALAW_MAX);
  // Segments 0 and 1 share a step of 16 over [0, 512); segment s ≥ 1 spans
  // [2^(s+7), 2^(s+8)) in 16 steps whose midpoints are the levels.
  let segment = mag < 256 ? 0 : msb(mag) - 7;
  let step = (mag >> (segment === 0 ? 4 : segment + 3)) & 15;
  // As for µ-law: more than 3·2^s below the first level of segment s ≥ 2,
  // the last level of segment s−1 is nearer.
  if (step === 0 && segment > 1 && mag < alawMagnitude(segment, 0) - (3 << segment)) {
    segment -= 1;
    step = 15;
  }
  return ((negative ? 0 : 0x80) | (segment << 4) | step) ^ ALAW_INVERT;
}

/** Encodes min(pcm.length, out.length) samples; returns that count. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array): number {
  const n = Math.min(pcm.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ulawEncodeSample(pcm[i]!);
  return n;
}

/** Decodes min(codes.length, out.length) codes; returns that count. */
export function ulawDecode(codes: Uint8Array, out: Int16Array): number {
  const n = Math.min(codes.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ulawDecodeSample(codes[i]!);
  return n;
}

/** Encodes min(pcm.length, out.length) samples; returns that count. */
export function alawEncode(pcm: Int16Array, out: Uint8Array): number {
  const n = Math.min(pcm.length, out.length);
  for (let i = 0; i < n; i++) out[i] = alawEncodeSample(pcm[i]!);
  return n;
}

/** Decodes min(codes.length, out.length) codes; returns that count. */
export function alawDecode(codes: Uint8Array, out: Int16Array): number {
  const n = Math.min(codes.length, out.length);
  for (let i = 0; i < n; i++) out[i] = alawDecodeSample(codes[i]!);
  return n;
}
