import { describe, expect, it } from 'vitest';
import { FrameMeta, FrameRing } from '../../src/frames/FrameRing.ts';
import {
  MAX_PAYLOAD_BYTES,
  PACKET_CODEC_NUMBER,
  PACKET_SLOT_WORDS,
  PACKET_SLOT_BYTES,
  MAX_PACKET_SLOTS,
  PacketReader,
  PacketWriter,
} from '../../src/frames/PacketRing.ts';
import { mulberry32 } from '../helpers/prng.ts';

/** A packet ring as a call graph makes one: 64 slots of PACKET_SLOT_BYTES (an MTU-sized packet takes several). */
const ring = (): FrameRing => FrameRing.create(64, PACKET_SLOT_WORDS);

function payloadOf(n: number, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

describe('packet ring', () => {
  it('gives the reader every field the writer was given, each under its own name', () => {
    const r = ring();
    const writer = new PacketWriter(r, 'G722');
    const reader = new PacketReader(r);
    const now = 1_700_000_000_123.25;
    // Odd and even lengths, the smallest and the largest payload; sequence and timestamp at their wraps.
    const cases = [
      { seq: 0xffff, ts: 0xffffffff, n: 1, marker: true, ssrc: 0xffffffff },
      { seq: 0x10000, ts: 2 ** 32 + 7, n: 160, marker: false, ssrc: 0x12345678 },
      { seq: 3, ts: 8, n: 333, marker: false, ssrc: 1 },
      { seq: 4, ts: 9, n: MAX_PAYLOAD_BYTES, marker: true, ssrc: 0 },
    ];
    cases.forEach((c, k) => {
      const payload = payloadOf(c.n, k + 1);
      expect(writer.write(c.seq, c.ts, payload, c.n, c.marker, c.ssrc, now - 40 * k)).toBe(true);
      expect(reader.read(now)).toBe(true);
      expect({
        sequence: reader.sequence,
        rtpTimestamp: reader.rtpTimestamp,
        byteLength: reader.byteLength,
        marker: reader.marker,
        ssrc: reader.ssrc,
        codec: reader.codec,
        arrivalMs: reader.arrivalMs,
      }).toEqual({
        sequence: c.seq & 0xffff,
        rtpTimestamp: c.ts >>> 0,
        byteLength: c.n,
        marker: c.marker,
        ssrc: c.ssrc >>> 0,
        codec: PACKET_CODEC_NUMBER.G722,
        // Stamped in whole milliseconds: the age is what is kept.
        arrivalMs: now - Math.floor(now) + Math.floor(now - 40 * k),
      });
      expect(reader.bytes.subarray(0, c.n)).toEqual(payload);
    });
    expect(reader.read(now)).toBe(false);
  });

  it('keeps whole SSRCs apart that a 16-bit tag would have confused', () => {
    // (ssrc >>> 16) ^ ssrc is 0 for both in their low 16 bits.
    const r = ring();
    const writer = new PacketWriter(r, 'PCMU');
    const reader = new PacketReader(r);
    writer.write(1, 160, payloadOf(160, 1), 160, false, 0, 1000);
    writer.write(2, 320, payloadOf(160, 2), 160, false, 0x00010001, 1020);
    expect(reader.read(2000) && reader.ssrc).toBe(0);
    expect(reader.read(2000) && reader.ssrc).toBe(0x00010001);
  });

  it('puts each field in the slot word of that meaning: no arrival time in rateHz, no SSRC in the sequence', () => {
    const r = ring();
    new PacketWriter(r, 'opus').write(0xabcd, 960, payloadOf(61, 3), 61, true, 0xcafef00d, 5_000_000_000.9);
    const meta = new FrameMeta();
    expect(r.readStamped(new Int16Array(PACKET_SLOT_WORDS), meta)).toBe(true);
    expect(meta).toEqual({
      sequence: 0xabcd,
      timestamp: 960,
      rateHz: 0,
      sampleCount: 31,
      // The marker, the codec, and the packet's slot count (one).
      flags: (1 << 8) | (PACKET_CODEC_NUMBER.opus << 16) | (1 << 24),
      arrivalMs: 5_000_000_000 % 2 ** 32,
      byteLength: 61,
      source: 0xcafef00d,
    });
  });

  it('carries a packet larger than a slot in consecutive slots, intact among small ones', () => {
    const r = ring();
    const writer = new PacketWriter(r, 'PCMU');
    const reader = new PacketReader(r);
    const sizes = [160, MAX_PAYLOAD_BYTES, 1, PACKET_SLOT_BYTES, PACKET_SLOT_BYTES + 1, 161];
    sizes.forEach((n, i) => expect(writer.write(i, i * 160, payloadOf(n, i), n, i === 1, 7, 1000 + i)).toBe(true));
    expect(r.available()).toBe(1 + MAX_PACKET_SLOTS + 1 + 1 + 2 + 1);
    sizes.forEach((n, i) => {
      expect(reader.read(2000)).toBe(true);
      expect([reader.sequence, reader.rtpTimestamp, reader.marker, reader.byteLength, reader.arrivalMs]).toEqual([i, i * 160, i === 1, n, 1000 + i]);
      expect(reader.bytes.subarray(0, n)).toEqual(payloadOf(n, i));
    });
    expect(reader.read(2000)).toBe(false);
    expect(reader.strays).toBe(0);
  });

  it('puts all of a packet in or none of it, and takes one only once all its slots are there', () => {
    const r = FrameRing.create(4, PACKET_SLOT_WORDS);
    const writer = new PacketWriter(r, 'L16');
    const reader = new PacketReader(r);
    for (let i = 0; i < 3; i++) writer.write(i, 0, payloadOf(100, i), 100, false, 1);
    expect(writer.write(3, 0, payloadOf(2 * PACKET_SLOT_BYTES, 3), 2 * PACKET_SLOT_BYTES, false, 1)).toBe(false);
    expect([r.available(), r.overflows]).toEqual([3, 1]);
    for (let i = 0; i < 3; i++) expect(reader.read(0)).toBe(true);
    // A writer part-way through a two-slot packet: its first slot alone is not a packet yet.
    const words = new Int16Array(PACKET_SLOT_WORDS).fill(0x0101);
    const flags = (PACKET_CODEC_NUMBER.L16 << 16) | (2 << 24);
    r.writeStamped(words, PACKET_SLOT_WORDS, 9, 0, 0, flags, 5, PACKET_SLOT_BYTES + 2, 1);
    expect(reader.read(10)).toBe(false);
    expect(r.available()).toBe(1);
    r.writeStamped(words, 1, 9, 0, 0, flags | (1 << 9), 5, PACKET_SLOT_BYTES + 2, 1);
    expect(reader.read(10)).toBe(true);
    expect([reader.sequence, reader.byteLength, reader.bytes[PACKET_SLOT_BYTES + 1]]).toEqual([9, PACKET_SLOT_BYTES + 2, 1]);
  });

  it('skips and counts a continuation slot where a packet should begin, and takes the packet after it', () => {
    const r = ring();
    const reader = new PacketReader(r);
    r.writeStamped(new Int16Array(4), 4, 1, 0, 0, (1 << 9) | (2 << 24), 0, 8, 1);
    new PacketWriter(r, 'PCMU').write(2, 0, payloadOf(160, 2), 160, false, 1, 0);
    expect(reader.read(0) && reader.sequence).toBe(2);
    expect(reader.strays).toBe(1);
  });

  it('refuses empty, oversize and overlong payloads without touching the ring', () => {
    const r = ring();
    const writer = new PacketWriter(r, 'PCMA');
    const big = new Uint8Array(MAX_PAYLOAD_BYTES + 1);
    expect(writer.write(1, 0, big, 0, false, 1)).toBe(false);
    expect(writer.write(1, 0, big, MAX_PAYLOAD_BYTES + 1, false, 1)).toBe(false);
    expect(writer.write(1, 0, big.subarray(0, 10), 11, false, 1)).toBe(false);
    expect([r.available(), r.oversize, r.overflows]).toEqual([0, 0, 0]);
  });

  it('reports a full ring as a refused write, counted by the ring', () => {
    const r = FrameRing.create(2, PACKET_SLOT_WORDS);
    const writer = new PacketWriter(r, 'L16');
    const p = payloadOf(320, 4);
    expect([writer.write(1, 0, p, 320, false, 1), writer.write(2, 0, p, 320, false, 1), writer.write(3, 0, p, 320, false, 1)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(r.overflows).toBe(1);
  });

  it('never reads more bytes than the slot carried, whatever its byte length says', () => {
    const r = ring();
    const reader = new PacketReader(r);
    // A producer that says 100 bytes but fills only 10 words: the reader keeps to the 20 bytes it got.
    expect(r.writeStamped(new Int16Array(10), 10, 1, 0, 0, 0, 0, 100, 0)).toBe(true);
    expect(reader.read(0)).toBe(true);
    expect(reader.byteLength).toBe(20);
  });
});
