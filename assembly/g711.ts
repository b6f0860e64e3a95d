// G.711 µ-law and A-law (ITU-T G.711, Tables 1a and 2a), table-driven.
//
// Encoding maps the 16-bit input to the nearest decodable level (ties to the
// larger magnitude, A-law's 0 to +8): the same choice as
// src/dsp/reference/g711.ts, which explains why this beats the standard's
// decision values just above each segment boundary. A 64 Ki-entry table per
// law, indexed by the sample's 16 bits, is filled once when the instance
// starts, so an encode is one load per sample.
//
// Decoding is arithmetic in SIMD, 16 codes at a time: a code's level is
// (base · 2^segment) with base ≤ 252 (µ-law) or ≤ 63 · 8 (A-law), so one
// i16x8 multiply by a power of two taken from a 16-entry swizzle table
// replaces the per-lane shift WebAssembly lacks. Tails shorter than 16 use a
// 256-entry table filled at start.
//
// Static memory (not per stream; G.711 has no state):
//   ULAW_ENCODE  65,536 × u8   code of the sample whose bits are the index
//   ALAW_ENCODE  65,536 × u8
//   ULAW_DECODE     256 × i16  level of each code
//   ALAW_DECODE     256 × i16

const ULAW_ENCODE: usize = memory.data(65536, 64);
const ALAW_ENCODE: usize = memory.data(65536, 64);
const ULAW_DECODE: usize = memory.data(512, 64);
const ALAW_DECODE: usize = memory.data(512, 64);

/** Largest µ-law magnitude (code 0x80). */
const ULAW_MAX: i32 = 32124;
/** µ-law's bias: with it every segment starts at a power of two (G.711 §3). */
const ULAW_BIAS: i32 = 0x84;
/** Largest A-law magnitude (code 0xAA). */
const ALAW_MAX: i32 = 32256;
/** A-law inverts the even bits of every code on the line (G.711 §2). */
const ALAW_INVERT: i32 = 0x55;

// ---- per-sample arithmetic: used only to fill the tables at start --------

@inline function msb(v: i32): i32 {
  return 31 - clz(v);
}

@inline function ulawMagnitude(segment: i32, step: i32): i32 {
  return (((step << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
}

function ulawDecodeSample(code: i32): i32 {
  const c = ~code & 0xff;
  const mag = ulawMagnitude((c >> 4) & 7, c & 15);
  return c & 0x80 ? -mag : mag;
}

function ulawEncodeSample(x: i32): i32 {
  const negative = x < 0;
  const mag = min(negative ? -x : x, ULAW_MAX);
  // Biased, segment e spans [2^(e+7), 2^(e+8)) in 16 equal steps whose
  // midpoints are the levels; only a segment's first step can be nearer to
  // the previous segment's last level (6·2^e below, the step halves there).
  const biased = mag + ULAW_BIAS;
  let segment = msb(biased) - 7;
  let step = (biased >> (segment + 3)) & 15;
  if (step == 0 && segment > 0 && mag < ulawMagnitude(segment, 0) - (3 << segment)) {
    segment -= 1;
    step = 15;
  }
  return ~((negative ? 0x80 : 0) | (segment << 4) | step) & 0xff;
}

@inline function alawMagnitude(segment: i32, step: i32): i32 {
  return segment == 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
}

function alawDecodeSample(code: i32): i32 {
  const c = code ^ ALAW_INVERT;
  const mag = alawMagnitude((c >> 4) & 7, c & 15);
  return c & 0x80 ? mag : -mag;
}

function alawEncodeSample(x: i32): i32 {
  const negative = x < 0;
  const mag = min(negative ? -x : x, ALAW_MAX);
  // Segments 0 and 1 share the step 16 over [0, 512); segment s ≥ 1 spans
  // [2^(s+7), 2^(s+8)). Same boundary rule as µ-law from segment 2 up.
  let segment = mag < 256 ? 0 : msb(mag) - 7;
  let step = (mag >> (segment == 0 ? 4 : segment + 3)) & 15;
  if (step == 0 && segment > 1 && mag < alawMagnitude(segment, 0) - (3 << segment)) {
    segment -= 1;
    step = 15;
  }
  return ((negative ? 0 : 0x80) | (segment << 4) | step) ^ ALAW_INVERT;
}

function fillTables(): void {
  for (let x: i32 = -32768; x < 32768; x++) {
    store<u8>(ULAW_ENCODE + <usize>(x & 0xffff), <u8>ulawEncodeSample(x));
    store<u8>(ALAW_ENCODE + <usize>(x & 0xffff), <u8>alawEncodeSample(x));
  }
  for (let c: i32 = 0; c < 256; c++) {
    store<i16>(ULAW_DECODE + (<usize>c << 1), <i16>ulawDecodeSample(c));
    store<i16>(ALAW_DECODE + (<usize>c << 1), <i16>alawDecodeSample(c));
  }
}

fillTables();

// ---- the kernels -----------------------------------------------------------

// Eight lookups per iteration, their codes gathered into one 64-bit store:
// stores, not loads, limit a byte-per-sample loop.
@inline function encodeWith(table: usize, src: usize, n: i32, dst: usize): i32 {
  if (n <= 0) return 0;
  const end8 = n & ~7;
  let i = 0;
  for (; i < end8; i += 8) {
    const s = src + (<usize>i << 1);
    const a = load<u64>(s);
    const b = load<u64>(s, 8);
    const w: u64 =
      <u64>load<u8>(table + <usize>(a & 0xffff)) |
      (<u64>load<u8>(table + <usize>((a >> 16) & 0xffff)) << 8) |
      (<u64>load<u8>(table + <usize>((a >> 32) & 0xffff)) << 16) |
      (<u64>load<u8>(table + <usize>(a >> 48)) << 24) |
      (<u64>load<u8>(table + <usize>(b & 0xffff)) << 32) |
      (<u64>load<u8>(table + <usize>((b >> 16) & 0xffff)) << 40) |
      (<u64>load<u8>(table + <usize>((b >> 32) & 0xffff)) << 48) |
      (<u64>load<u8>(table + <usize>(b >> 48)) << 56);
    store<u64>(dst + <usize>i, w);
  }
  for (; i < n; i++) {
    store<u8>(dst + <usize>i, load<u8>(table + <usize>load<u16>(src + (<usize>i << 1))));
  }
  return n;
}

/** Encodes n samples (i16 at src) to n µ-law codes at dst; returns n (0 if n ≤ 0). */
export function g711UlawEncode(src: usize, n: i32, dst: usize): i32 {
  return encodeWith(ULAW_ENCODE, src, n, dst);
}

/** Encodes n samples (i16 at src) to n A-law codes at dst; returns n (0 if n ≤ 0). */
export function g711AlawEncode(src: usize, n: i32, dst: usize): i32 {
  return encodeWith(ALAW_ENCODE, src, n, dst);
}

// 2^segment for segments 0…7 (bytes 8…15 unused: segments are masked to 3 bits).
const POW2_BY_SEGMENT: v128 = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
// A-law: 2^(segment−1), with segment 0 sharing segment 1's scale.
const ALAW_POW2_BY_SEGMENT: v128 = i8x16(1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0);
// A-law: segments above 0 carry the implicit leading one (0x100 = 32 · 8).
const ALAW_LEAD_BY_SEGMENT: v128 = i8x16(0, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 0, 0);

/** Decodes n µ-law codes at src to n samples (i16) at dst; returns n (0 if n ≤ 0). */
export function g711UlawDecode(src: usize, n: i32, dst: usize): i32 {
  if (n <= 0) return 0;
  const end16 = n & ~15;
  const low4 = i8x16.splat(15);
  const bias8 = i8x16.splat(<i8>ULAW_BIAS);
  const bias16 = i16x8.splat(<i16>ULAW_BIAS);
  let i = 0;
  for (; i < end16; i += 16) {
    const c = v128.not(v128.load(src + <usize>i));
    const segment = v128.and(i8x16.shr_u(c, 4), i8x16.splat(7));
    // base = 8 · step + 0x84 ≤ 252: still a byte.
    const base = i8x16.add(i8x16.shl(v128.and(c, low4), 3), bias8);
    const pow = i8x16.swizzle(POW2_BY_SEGMENT, segment);
    // Sign lanes: all ones where the (inverted) code's top bit is set.
    const signLo = i16x8.shr_s(i16x8.extend_low_i8x16_s(c), 15);
    const signHi = i16x8.shr_s(i16x8.extend_high_i8x16_s(c), 15);
    const magLo = i16x8.sub(
      i16x8.mul(i16x8.extend_low_i8x16_u(base), i16x8.extend_low_i8x16_u(pow)),
      bias16,
    );
    const magHi = i16x8.sub(
      i16x8.mul(i16x8.extend_high_i8x16_u(base), i16x8.extend_high_i8x16_u(pow)),
      bias16,
    );
    const d = dst + (<usize>i << 1);
    v128.store(d, i16x8.sub(v128.xor(magLo, signLo), signLo));
    v128.store(d, i16x8.sub(v128.xor(magHi, signHi), signHi), 16);
  }
  for (; i < n; i++) {
    store<i16>(dst + (<usize>i << 1), load<i16>(ULAW_DECODE + (<usize>load<u8>(src + <usize>i) << 1)));
  }
  return n;
}

/** Decodes n A-law codes at src to n samples (i16) at dst; returns n (0 if n ≤ 0). */
export function g711AlawDecode(src: usize, n: i32, dst: usize): i32 {
  if (n <= 0) return 0;
  const end16 = n & ~15;
  const low4 = i8x16.splat(15);
  let i = 0;
  for (; i < end16; i += 16) {
    const c = v128.xor(v128.load(src + <usize>i), i8x16.splat(<i8>ALAW_INVERT));
    const segment = v128.and(i8x16.shr_u(c, 4), i8x16.splat(7));
    // level / 8 = 2 · step + 1 (+ 32 above segment 0) ≤ 63, times 2^(segment−1).
    const base = i8x16.add(
      i8x16.add(i8x16.shl(v128.and(c, low4), 1), i8x16.splat(1)),
      i8x16.swizzle(ALAW_LEAD_BY_SEGMENT, segment),
    );
    const pow = i8x16.swizzle(ALAW_POW2_BY_SEGMENT, segment);
    // A-law's sign bit set means positive: negate where it is clear.
    const negLo = v128.not(i16x8.shr_s(i16x8.extend_low_i8x16_s(c), 15));
    const negHi = v128.not(i16x8.shr_s(i16x8.extend_high_i8x16_s(c), 15));
    const magLo = i16x8.shl(i16x8.mul(i16x8.extend_low_i8x16_u(base), i16x8.extend_low_i8x16_u(pow)), 3);
    const magHi = i16x8.shl(i16x8.mul(i16x8.extend_high_i8x16_u(base), i16x8.extend_high_i8x16_u(pow)), 3);
    const d = dst + (<usize>i << 1);
    v128.store(d, i16x8.sub(v128.xor(magLo, negLo), negLo));
    v128.store(d, i16x8.sub(v128.xor(magHi, negHi), negHi), 16);
  }
  for (; i < n; i++) {
    store<i16>(dst + (<usize>i << 1), load<i16>(ALAW_DECODE + (<usize>load<u8>(src + <usize>i) << 1)));
  }
  return n;
}
