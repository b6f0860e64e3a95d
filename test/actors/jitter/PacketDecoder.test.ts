import { describe, expect, it } from 'vitest';
import { codecClock, MAX_PACKET_SAMPLES, PacketDecoder } from '../../../src/actors/jitter/PacketDecoder.ts';
import { OpusEncoder } from '../../../src/dsp/opus.ts';
import { readFixture, readS16le } from '../../helpers/fixtures.ts';

/** Decodes a whole file packet by packet (`bytes` per packet) and compares with the independent decoding. */
function decodeFile(dec: PacketDecoder, codes: Uint8Array, bytes: number): Int16Array {
  const out = new Int16Array(MAX_PACKET_SAMPLES);
  const pcm: number[] = [];
  const payload = new Uint8Array(1500);
  for (let at = 0; at + bytes <= codes.length; at += bytes) {
    payload.set(codes.subarray(at, at + bytes));
    const n = dec.decode(payload, bytes, out);
    for (let i = 0; i < n; i++) pcm.push(out[i]!);
  }
  return Int16Array.from(pcm);
}

describe('PacketDecoder', () => {
  it('knows each codec’s RTP clock and refuses rates it cannot play', () => {
    expect(codecClock('PCMU', 8000)).toBe(8000);
    expect(codecClock('G722', 16000)).toBe(8000); // RFC 3551 §4.5.2
    expect(codecClock('opus', 16000)).toBe(48000); // RFC 7587 §4.1
    expect(codecClock('L16', 24000)).toBe(24000);
    expect(() => codecClock('PCMA', 16000)).toThrow(/PCMA is 8000 Hz audio/);
    expect(() => codecClock('G722', 8000)).toThrow(/G722 is 16000 Hz/);
    expect(() => codecClock('L16', 44100)).toThrow(/L16 rateHz must be one of/);
    expect(() => new PacketDecoder('GSM' as never, 8000)).toThrow(/unknown codec/);
  });

  for (const [codec, file] of [
    ['PCMU', 'synth-m-8k.ulaw'],
    ['PCMA', 'synth-m-8k.alaw'],
  ] as const) {
    it(`decodes ${codec} 20 ms packets as ffmpeg does`, () => {
      const codes = readFixture(`g711/${file}`);
      const want = readS16le(`g711/${file}.decoded.s16le`);
      const got = decodeFile(new PacketDecoder(codec, 8000), codes, 160);
      expect(got.length).toBeGreaterThan(1000);
      expect(Array.from(got)).toEqual(Array.from(want.subarray(0, got.length)));
    });
  }

  it('decodes G.722 packets with state carried across them, as the independent decoder', () => {
    const codes = readFixture('g722/synth-m-16k.g722');
    const want = readS16le('g722/synth-m-16k.g722.decoded.s16le');
    const got = decodeFile(new PacketDecoder('G722', 16000), codes, 160);
    expect(got.length).toBeGreaterThan(1000);
    expect(Array.from(got)).toEqual(Array.from(want.subarray(0, got.length)));
  });

  it('decodes L16 in network byte order', () => {
    const dec = new PacketDecoder('L16', 16000);
    const out = new Int16Array(MAX_PACKET_SAMPLES);
    // 0x0102 = 258, 0xFFFE = −2, 0x8000 = −32768, and an odd trailing byte that is ignored.
    const payload = Uint8Array.of(0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f);
    expect(dec.decode(payload, 7, out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([258, -2, -32768]);
  });

  it('decodes Opus, conceals, and refuses empty, oversized and corrupt payloads with 0', () => {
    const enc = new OpusEncoder({ rateHz: 16000, fec: true, packetLossPct: 20 });
    const dec = new PacketDecoder('opus', 16000);
    const pcm = new Int16Array(320);
    const pkt = new Uint8Array(1500);
    const out = new Int16Array(MAX_PACKET_SAMPLES);
    let n = 0;
    for (let f = 0; f < 10; f++) {
      for (let i = 0; i < 320; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * (f * 320 + i)) / 16000));
      const len = enc.encode(pcm, pkt);
      n = dec.decode(pkt, len, out);
      expect(n).toBe(320);
    }
    expect(dec.conceal(out)).toBe(320);
    const len = enc.encode(pcm, pkt);
    expect(dec.decodeFec(pkt, len, out)).toBe(320);
    expect(dec.decode(pkt, 0, out)).toBe(0);
    expect(dec.decode(pkt, 1501, out)).toBe(0);
    expect(dec.decode(Uint8Array.of(0xff, 0xff, 0xff), 3, out)).toBe(0);
    expect(new PacketDecoder('PCMU', 8000).conceal(out)).toBe(0);
    enc.destroy();
    dec.destroy();
  });
});
