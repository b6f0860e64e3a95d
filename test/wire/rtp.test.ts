import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  RtpPacketView,
  RtpParse,
  describeRtpError,
  isRtcp,
  parseRtp,
  parseRtpInto,
  randomRtpStart,
  rtpParseCodeName,
  serializeRtp,
  serializeRtpInto,
} from '../../src/wire/rtp.ts';
import {
  EXT_ONE_BYTE_PROFILE,
  EXT_TWO_BYTE_PROFILE,
  RtpExtensionElement,
  buildRtpExtension,
  findRtpExtension,
  rtpExtensionElements,
} from '../../src/wire/rtpHeaderExtension.ts';
import {
  G722,
  OPUS,
  PCMA,
  PCMU,
  TELEPHONE_EVENT,
  payloadFormat,
  staticPayloadFormat,
  timestampUnits,
} from '../../src/wire/rtpPayloadTypes.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { runFfmpeg } from '../helpers/ffmpeg.ts';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('ffmpeg is not installed: skipping the RTP interoperability test');

/** A minimal PCMU packet. */
const SIMPLE = new Uint8Array([
  0x80, //       V=2, P=0, X=0, CC=0
  0x80, //       M=1, PT=0 (PCMU)
  0x12, 0x34, // sequence number 0x1234
  0x00, 0x00, 0x03, 0x20, // timestamp 800
  0xde, 0xad, 0xbe, 0xef, // SSRC
  0xff, 0xfe, 0xfd, 0xfc, // payload (4 bytes)
]);

/** Every optional part: padding, extension (one-byte form), two CSRCs. */
const FULL = new Uint8Array([
  0xb2, //       V=2, P=1, X=1, CC=2
  0x6f, //       M=0, PT=111 (Opus)
  0xff, 0xff, // sequence number 65535
  0xff, 0xff, 0xff, 0xff, // timestamp 2^32-1
  0x01, 0x02, 0x03, 0x04, // SSRC
  0x00, 0x00, 0x00, 0x0a, // CSRC 10
  0x00, 0x00, 0x00, 0x0b, // CSRC 11
  0xbe, 0xde, 0x00, 0x02, // extension profile 0xBEDE, length 2 words
  0x10, 0x7f, //             element id 1, len 0+1: audio level 0x7f
  0x21, 0xaa, 0xbb, //       element id 2, len 1+1
  0x00, 0x00, 0x00, //       padding to the word
  0x01, 0x02, 0x03, //       payload (3 bytes)
  0x00, 0x00, 0x03, //       padding: 3 octets, count last
]);

describe('RTP parse (RFC 3550 §5.1)', () => {
  it('reads the fixed header and payload in place', () => {
    const v = new RtpPacketView();
    expect(parseRtpInto(SIMPLE, SIMPLE.length, v)).toBe(RtpParse.OK);
    expect(v).toMatchObject({
      padding: false,
      extension: false,
      marker: true,
      payloadType: 0,
      sequenceNumber: 0x1234,
      timestamp: 800,
      ssrc: 0xdeadbeef,
      csrcCount: 0,
      payloadOffset: 12,
      payloadLength: 4,
      paddingLength: 0,
    });
  });

  it('reads CSRCs, the extension and padding', () => {
    const v = new RtpPacketView();
    expect(parseRtpInto(FULL, FULL.length, v)).toBe(RtpParse.OK);
    expect(v.sequenceNumber).toBe(65535);
    expect(v.timestamp).toBe(0xffffffff);
    expect(v.payloadType).toBe(111);
    expect([...v.csrc.subarray(0, v.csrcCount)]).toEqual([10, 11]);
    expect(v.extensionProfile).toBe(EXT_ONE_BYTE_PROFILE);
    expect([v.extensionOffset, v.extensionLength]).toEqual([24, 8]);
    expect([v.payloadOffset, v.payloadLength, v.paddingLength]).toEqual([32, 3, 3]);
    const el = new RtpExtensionElement();
    expect(findRtpExtension(FULL, v, 2, el)).toBe(true);
    expect([el.offset, el.length]).toEqual([27, 2]);
    expect(findRtpExtension(FULL, v, 3, el)).toBe(false);
    expect(rtpExtensionElements(FULL, v)).toEqual([
      { id: 1, data: new Uint8Array([0x7f]) },
      { id: 2, data: new Uint8Array([0xaa, 0xbb]) },
    ]);
  });

  it('rejects malformed packets with the byte counts', () => {
    const cases: Array<[number[], number, RegExp]> = [
      [[0x80, 0, 0, 1, 0, 0, 0], RtpParse.TOO_SHORT, /too short \[length:7, minimum:12\]/],
      [[0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], RtpParse.BAD_VERSION, /version is not 2 \[version:1/],
      // CC=15 needs 72 bytes; 40 given.
      [[0x8f, 0, 0, 1, ...new Array<number>(36).fill(0)], RtpParse.CSRC_PAST_END, /csrcCount:15, needed:72, length:40/],
      // X=1 with no room for the extension header.
      [[0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], RtpParse.EXTENSION_PAST_END, /needed:16, length:12/],
      // X=1, length 5 words (needs 36) in 20 bytes.
      [[0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 5, 0, 0, 0, 0], RtpParse.EXTENSION_PAST_END, /needed:36, length:20/],
      // P=1 with a zero count.
      [[0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0], RtpParse.BAD_PADDING, /padding:0, available:2/],
      // P=1 claiming 200 octets of a 2-byte body.
      [[0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 200], RtpParse.BAD_PADDING, /padding:200, available:2/],
    ];
    const v = new RtpPacketView();
    for (const [bytes, code, message] of cases) {
      const buf = new Uint8Array(bytes);
      expect(parseRtpInto(buf, buf.length, v), rtpParseCodeName(code)).toBe(code);
      expect(() => parseRtp(buf)).toThrow(RangeError);
      expect(() => parseRtp(buf)).toThrow(message);
      expect(describeRtpError(buf, code)).toMatch(message);
    }
  });

  it('accepts padding that fills the whole body, and a length shorter than the buffer', () => {
    const v = new RtpPacketView();
    const buf = new Uint8Array([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0xee, 0xee]);
    expect(parseRtpInto(buf, 14, v)).toBe(RtpParse.OK);
    expect([v.payloadLength, v.paddingLength]).toEqual([0, 2]);
    expect(parseRtpInto(buf, 17, v)).toBe(RtpParse.TOO_SHORT); // len beyond the buffer
  });
});

describe('RTP serialize', () => {
  it('round-trips parse → serialize → parse, byte for byte', () => {
    for (const pkt of [SIMPLE, FULL]) {
      const parsed = parseRtp(pkt);
      const bytes = serializeRtp(parsed);
      expect(bytes).toEqual(pkt);
      expect(parseRtp(bytes)).toEqual(parsed);
    }
  });

  it('relays a view into a caller buffer without copies of its own', () => {
    const v = new RtpPacketView();
    parseRtpInto(FULL, FULL.length, v);
    v.sequenceNumber = 7;
    v.marker = true;
    const out = new Uint8Array(1500);
    const n = serializeRtpInto(v, FULL, out);
    expect(n).toBe(FULL.length);
    const again = parseRtp(out.subarray(0, n));
    expect(again.sequenceNumber).toBe(7);
    expect(again.marker).toBe(true);
    expect(again.payload).toEqual(new Uint8Array([1, 2, 3]));
    expect(serializeRtpInto(v, FULL, new Uint8Array(10))).toBe(-1);
    v.paddingLength = 0; // P set with no padding: not serializable
    expect(serializeRtpInto(v, FULL, out)).toBe(-1);
  });

  it('round-trips random packets', () => {
    const rnd = mulberry32(3550);
    const v = new RtpPacketView();
    for (let i = 0; i < 500; i++) {
      const ext = rnd() < 0.5 ? buildRtpExtension([{ id: 1 + Math.floor(rnd() * 14), data: new Uint8Array(1 + Math.floor(rnd() * 16)) }]) : undefined;
      const pkt = {
        marker: rnd() < 0.5,
        payloadType: Math.floor(rnd() * 128),
        sequenceNumber: Math.floor(rnd() * 65536),
        timestamp: Math.floor(rnd() * 2 ** 32),
        ssrc: Math.floor(rnd() * 2 ** 32),
        csrc: Array.from({ length: Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 2 ** 32)),
        ...(ext && { headerExtension: ext }),
        payload: Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)),
        paddingLength: rnd() < 0.3 ? 1 + Math.floor(rnd() * 255) : 0,
      };
      const bytes = serializeRtp(pkt);
      expect(parseRtpInto(bytes, bytes.length, v)).toBe(RtpParse.OK);
      expect(parseRtp(bytes)).toEqual(pkt);
    }
  });

  it('builds RFC 8285 extensions in the one-byte form, else two-byte', () => {
    const one = buildRtpExtension([{ id: 3, data: new Uint8Array([1, 2]) }]);
    expect(one.profile).toBe(EXT_ONE_BYTE_PROFILE);
    expect([...one.data]).toEqual([0x31, 1, 2, 0]);
    const two = buildRtpExtension([{ id: 20, data: new Uint8Array(0) }, { id: 1, data: new Uint8Array(17) }]);
    expect(two.profile).toBe(EXT_TWO_BYTE_PROFILE);
    expect([...two.data.subarray(0, 4)]).toEqual([20, 0, 1, 17]);
    const pkt = serializeRtp({
      marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrc: [],
      headerExtension: two, payload: new Uint8Array(0), paddingLength: 0,
    });
    const v = new RtpPacketView();
    parseRtpInto(pkt, pkt.length, v);
    expect(rtpExtensionElements(pkt, v).map((e) => [e.id, e.data.length])).toEqual([[1, 17], [20, 0]]);
    expect(() => buildRtpExtension([{ id: 0, data: new Uint8Array(1) }])).toThrow(RangeError);
  });

  it('stops at a truncated extension element instead of reading past it', () => {
    // X=1, 0xBEDE, 1 word: element id 1 claims 16 bytes in a 4-byte block.
    const buf = new Uint8Array([0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x1f, 0, 0, 0]);
    const v = new RtpPacketView();
    expect(parseRtpInto(buf, buf.length, v)).toBe(RtpParse.OK);
    expect(findRtpExtension(buf, v, 1, new RtpExtensionElement())).toBe(false);
  });
});

describe('initial values (RFC 3550 §5.1)', () => {
  it('draws SSRC, sequence and timestamp at random, in range', () => {
    const starts = Array.from({ length: 50 }, randomRtpStart);
    expect(new Set(starts.map((s) => s.ssrc)).size).toBeGreaterThan(45);
    for (const s of starts) {
      expect(s.sequenceNumber).toBeGreaterThanOrEqual(0);
      expect(s.sequenceNumber).toBeLessThan(65536);
      expect(s.timestamp).toBeLessThan(2 ** 32);
    }
  });
});

describe('RTP/RTCP demultiplexing (RFC 5761 §4)', () => {
  it('tells RTCP packet types apart from RTP payload types', () => {
    for (const pt of [200, 201, 202, 203, 204, 205, 206, 207]) expect(isRtcp(new Uint8Array([0x80, pt]))).toBe(true);
    expect(isRtcp(SIMPLE)).toBe(false); // M=1, PT 0: 0x80
    expect(isRtcp(new Uint8Array([0x80, 0x80 | 111]))).toBe(false); // Opus with the marker
    expect(isRtcp(new Uint8Array([0x80, 0x7f]))).toBe(false);
    expect(isRtcp(new Uint8Array([0x80]))).toBe(false);
  });
});

describe('payload types (RFC 3551, RFC 7587, RFC 4733)', () => {
  it('has the static numbers and RTP clocks, G.722 at 8000 Hz', () => {
    expect([PCMU.payloadType, PCMA.payloadType, G722.payloadType]).toEqual([0, 8, 9]);
    expect(G722.clockRateHz).toBe(8000);
    expect(G722.sampleRateHz).toBe(16000);
    expect(OPUS.clockRateHz).toBe(48000);
    expect(staticPayloadFormat(9)).toBe(G722);
    expect(staticPayloadFormat(111)).toBeUndefined();
    expect(timestampUnits(G722, 20)).toBe(160);
    expect(timestampUnits(OPUS, 20)).toBe(960);
    expect(TELEPHONE_EVENT.clockRateHz).toBe(8000);
  });

  it('renumbers dynamic types within 96–127 only', () => {
    expect(payloadFormat('opus', 96).payloadType).toBe(96);
    expect(payloadFormat('PCMU')).toBe(PCMU);
    expect(() => payloadFormat('opus', 50)).toThrow(/range:96-127/);
    expect(() => payloadFormat('PCMA', 100)).toThrow(RangeError);
  });
});

describe.skipIf(!hasFfmpeg)('interoperability: ffmpeg RTP sender', () => {
  it('parses every packet ffmpeg sends for a second of PCMU', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = (sock.address() as AddressInfo).port;
    const packets: Uint8Array[] = [];
    sock.on('message', (m) => packets.push(new Uint8Array(m)));
    // Rejects with ffmpeg's stderr unless it exits 0.
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1',
      '-ar', '8000', '-ac', '1', '-c:a', 'pcm_mulaw', '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${port}`,
    ]);
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    const rtp = packets.filter((p) => !isRtcp(p));
    expect(rtp.length).toBeGreaterThan(5);
    const v = new RtpPacketView();
    let bytes = 0;
    for (const [i, p] of rtp.entries()) {
      expect(parseRtpInto(p, p.length, v)).toBe(RtpParse.OK);
      expect(v.payloadType).toBe(0);
      if (i > 0) expect(v.sequenceNumber).toBe((parseRtp(rtp[i - 1]!).sequenceNumber + 1) & 0xffff);
      bytes += v.payloadLength;
    }
    expect(bytes).toBe(8000); // one second of µ-law
  });
});
