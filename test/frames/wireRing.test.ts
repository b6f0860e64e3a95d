import { describe, expect, it } from 'vitest';
import { FrameMeta, FrameRing } from '../../src/frames/FrameRing.ts';
import {
  EchoMessage,
  EchoReader,
  EchoWriter,
  MAX_MARKS,
  WIRE_CHUNK_BYTES,
  WIRE_RATE_HZ,
  WIRE_SLOT_WORDS,
  WireMessage,
  WireReader,
  WireWriter,
  markName,
  markSlot,
} from '../../src/frames/wireRing.ts';
import { mulberry32 } from '../helpers/prng.ts';

/** The wire and echo rings as a call graph makes them. */
const wireRing = (): FrameRing => FrameRing.create(64, WIRE_SLOT_WORDS);
const echoRing = (): FrameRing => FrameRing.create(2048, 1);

describe('Twilio wire ring', () => {
  it('delivers media, marks and clears in order, each field read under its own name', () => {
    const ring = wireRing();
    const out = new WireWriter(ring);
    const socketSide = new WireReader(ring);
    const rnd = mulberry32(5);
    const chunks = [WIRE_CHUNK_BYTES, 1, 77].map((n) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    chunks.forEach((c, k) => {
      out.chunk.set(c);
      expect(out.media(c.length, 1000 + k)).toBe(true);
      expect(out.mark(MAX_MARKS - 1 - k)).toBe(true);
    });
    expect(out.clear()).toBe(true);
    expect(out.space()).toBe(64 - 7);
    expect(socketSide.available()).toBe(7);
    chunks.forEach((c, k) => {
      expect(socketSide.read()).toBe(WireMessage.MEDIA);
      expect(socketSide.byteLength).toBe(c.length);
      expect(socketSide.bytes.subarray(0, c.length)).toEqual(c);
      expect(socketSide.read()).toBe(WireMessage.MARK);
      expect(socketSide.markSlot).toBe(MAX_MARKS - 1 - k);
    });
    expect(socketSide.read()).toBe(WireMessage.CLEAR);
    expect(socketSide.read()).toBe(WireMessage.NONE);
  });

  it('keeps a media chunk\'s byte count in BYTE_LENGTH: its timestamp means no byte count', () => {
    const ring = wireRing();
    const out = new WireWriter(ring);
    out.chunk.fill(0x7f);
    out.media(159, 42);
    const meta = new FrameMeta();
    expect(ring.readStamped(new Int16Array(WIRE_SLOT_WORDS), meta)).toBe(true);
    expect(meta).toEqual({ sequence: 42, timestamp: 0, rateHz: WIRE_RATE_HZ, sampleCount: 80, flags: 1 << 8, arrivalMs: 0, byteLength: 159, source: 0 });
  });

  it('never reads more bytes than fit its chunk, whatever the slot says', () => {
    // A Twilio ring's reader hands out one µ-law chunk at most, though a slot claims more.
    const twilio = wireRing();
    const twilioSide = new WireReader(twilio);
    expect(twilio.writeStamped(new Int16Array(WIRE_SLOT_WORDS), WIRE_SLOT_WORDS, 1, 0, WIRE_RATE_HZ, 1 << 8, 0, 2000, 0)).toBe(true);
    expect(twilioSide.read()).toBe(WireMessage.MEDIA);
    expect(twilioSide.byteLength).toBe(WIRE_CHUNK_BYTES);
    // A wider ring (a raw stream leg's, edges.ts `streamWire`): its reader's chunk is one of its slots, and no more.
    const ring = FrameRing.create(4, 400);
    const socketSide = new WireReader(ring);
    expect(socketSide.bytes.length).toBe(800);
    expect(ring.writeStamped(new Int16Array(400), 400, 1, 0, WIRE_RATE_HZ, 1 << 8, 0, 2000, 0)).toBe(true);
    expect(socketSide.read()).toBe(WireMessage.MEDIA);
    expect(socketSide.byteLength).toBe(800);
  });

  it('says when the ring is full instead of dropping a message silently', () => {
    const ring = FrameRing.create(2, WIRE_SLOT_WORDS);
    const out = new WireWriter(ring);
    expect([out.mark(1), out.mark(2), out.clear()]).toEqual([true, true, false]);
    expect(ring.overflows).toBe(1);
  });
});

describe('Twilio echo ring', () => {
  it('brings mark echoes and fences back in order', () => {
    const ring = echoRing();
    const back = new EchoWriter(ring);
    const leg = new EchoReader(ring);
    expect([back.mark(3), back.fence(), back.mark(1023)]).toEqual([true, true, true]);
    expect(leg.read()).toBe(EchoMessage.MARK);
    expect(leg.slot).toBe(3);
    expect(leg.read()).toBe(EchoMessage.FENCE);
    expect(leg.read()).toBe(EchoMessage.MARK);
    expect(leg.slot).toBe(1023);
    expect(leg.read()).toBe(EchoMessage.NONE);
  });

  it('carries the time since the newest echo on a fence, to the microsecond, or says there was none', () => {
    const ring = echoRing();
    const back = new EchoWriter(ring);
    const leg = new EchoReader(ring);
    expect([back.fence(20.25), back.fence(), back.fence(1e9), back.fence(-1)]).toEqual([true, true, true, true]);
    expect(leg.read()).toBe(EchoMessage.FENCE);
    expect(leg.sinceEchoMs).toBe(20.25);
    leg.read();
    expect(leg.sinceEchoMs).toBeNaN();
    leg.read();
    expect(leg.sinceEchoMs).toBeCloseTo(4294967.294, 3); // clamped below the none-marker
    leg.read();
    expect(leg.sinceEchoMs).toBeNaN();
  });
});

describe('mark names', () => {
  it('round-trips every slot and refuses names that are not ours', () => {
    for (let s = 0; s < MAX_MARKS; s++) expect(markSlot(markName(s))).toBe(s);
    for (const name of ['', 'sb', 'sb-1', 'sb01', 'sb1024', 'sb99999', 'xx1', 'sb1.5', 'SB1']) expect(markSlot(name)).toBe(-1);
  });
});
