import { describe, expect, it } from 'vitest';
import {
  type RtcpPacket,
  RtcpParse,
  parseRtcpCompound,
  readRtcpCompound,
  rtcpParseCodeName,
  serializeRtcpCompound,
} from '../../src/wire/rtcp.ts';
import { rtcpReportCompound } from '../../src/wire/rtcpWrite.ts';
import { isRtcp } from '../../src/wire/rtp.ts';
import {
  RTCP_COMPENSATION,
  rtcpIntervalSeconds,
  updateAvgRtcpSize,
} from '../../src/wire/rtcpSchedule.ts';
import { mulberry32 } from '../helpers/prng.ts';

/** SR with one report block, then SDES with a CNAME, then BYE with a reason. */
const COMPOUND = new Uint8Array([
  // SR
  0x81, 0xc8, 0x00, 0x0c, //   V=2, P=0, RC=1, PT=200, length 12 words (52 bytes)
  0x11, 0x22, 0x33, 0x44, //   sender SSRC
  0xe8, 0x00, 0x00, 0x00, //   NTP seconds
  0x80, 0x00, 0x00, 0x00, //   NTP fraction (0.5 s)
  0x00, 0x00, 0x1f, 0x40, //   RTP timestamp 8000
  0x00, 0x00, 0x00, 0x32, //   packet count 50
  0x00, 0x00, 0x1f, 0x40, //   octet count 8000
  0x55, 0x66, 0x77, 0x88, //   report block: SSRC
  0x19, 0xff, 0xff, 0xfe, //     fraction lost 25/256, cumulative lost -2
  0x00, 0x01, 0x00, 0x05, //     extended highest seq: 1 cycle, seq 5
  0x00, 0x00, 0x00, 0x2a, //     jitter 42
  0xe8, 0x00, 0x40, 0x00, //     LSR
  0x00, 0x01, 0x00, 0x00, //     DLSR 1 s
  // SDES
  0x81, 0xca, 0x00, 0x04, //   SC=1, PT=202, length 4 words (20 bytes)
  0x11, 0x22, 0x33, 0x44, //   chunk SSRC
  0x01, 0x08, //                CNAME, 8 octets
  0x61, 0x40, 0x68, 0x6f, 0x73, 0x74, 0x2e, 0x78, // "a@host.x"
  0x00, 0x00, //                null item, pad to the word
  // BYE
  0x81, 0xcb, 0x00, 0x03, //   SC=1, PT=203, length 3 words (16 bytes)
  0x11, 0x22, 0x33, 0x44, //   SSRC
  0x07, 0x68, 0x75, 0x6e, 0x67, 0x20, 0x75, 0x70, // reason: 7 octets, "hung up"
]);

describe('RTCP parse (RFC 3550 §6)', () => {
  it('reads an SR + SDES + BYE compound field by field', () => {
    const [sr, sdes, bye] = parseRtcpCompound(COMPOUND);
    expect(sr).toEqual({
      type: 'sr',
      ssrc: 0x11223344,
      ntpSeconds: 0xe8000000,
      ntpFraction: 0x80000000,
      rtpTimestamp: 8000,
      packetCount: 50,
      octetCount: 8000,
      reports: [
        {
          ssrc: 0x55667788,
          fractionLost: 25,
          cumulativeLost: -2,
          extendedHighestSeq: 0x10005,
          jitter: 42,
          lsr: 0xe8004000,
          dlsr: 65536,
        },
      ],
    });
    expect(sdes).toEqual({ type: 'sdes', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, text: 'a@host.x' }] }] });
    expect(bye).toEqual({ type: 'bye', ssrcs: [0x11223344], reason: 'hung up' });
    expect(isRtcp(COMPOUND)).toBe(true);
  });

  it('round-trips parse → serialize → parse', () => {
    const packets = parseRtcpCompound(COMPOUND);
    const bytes = serializeRtcpCompound(packets);
    expect(parseRtcpCompound(bytes)).toEqual(packets);
    expect(bytes).toEqual(COMPOUND);
  });

  it('round-trips every packet type, APP and unknown types passed through', () => {
    const packets: RtcpPacket[] = [
      { type: 'rr', ssrc: 1, reports: [] },
      {
        type: 'sdes',
        chunks: [
          { ssrc: 1, items: [{ type: 1, text: 'x' }, { type: 6, text: 'switchboard' }] },
          { ssrc: 2, items: [] },
          { ssrc: 3, items: [{ type: 1, text: 'abc' }] }, // 2+3 = 5 octets: pads to 8
        ],
      },
      { type: 'app', subtype: 3, ssrc: 9, name: 'SWBD', data: new Uint8Array([1, 2, 3, 4]) },
      { type: 'other', packetType: 206, count: 1, body: new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]) },
      { type: 'bye', ssrcs: [1, 2] },
      { type: 'bye', ssrcs: [], reason: 'bye' }, // 1+3 octets exactly
    ];
    const bytes = serializeRtcpCompound(packets);
    expect(bytes.length % 4).toBe(0);
    expect(parseRtcpCompound(bytes)).toEqual(packets);
  });

  it('accepts padding in the last packet only (A.2)', () => {
    const rr = [0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1]; //           RR, no blocks
    const byePadded = [0xa1, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4]; // P=1, BYE, 4 padding octets
    expect(parseRtcpCompound(new Uint8Array([...rr, ...byePadded]))).toEqual([
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'bye', ssrcs: [1] },
    ]);
    const rrPadded = [0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4];
    expect(() => parseRtcpCompound(new Uint8Array([...rrPadded]))).toThrow(/first packet not SR or RR/);
    const byePaddedMiddle = [...rr, ...byePadded, ...rr];
    const out: RtcpPacket[] = [];
    expect(readRtcpCompound(new Uint8Array(byePaddedMiddle), byePaddedMiddle.length, out)).toBe(RtcpParse.PADDING_NOT_LAST);
  });

  it('rejects invalid compounds with the byte counts', () => {
    const rr = [0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1];
    const cases: Array<[number[], number, RegExp?]> = [
      [[0x80, 0xc9], RtcpParse.TOO_SHORT, /needed:4, length:2/],
      [[0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 1], RtcpParse.BAD_VERSION],
      [[0x81, 0xca, 0x00, 0x01, 0, 0, 0, 1], RtcpParse.FIRST_NOT_REPORT],
      [[0x80, 0xc9, 0x00, 0x05, 0, 0, 0, 1], RtcpParse.LENGTH_PAST_END, /offset:0, needed:24, length:8/],
      // Lengths do not add up: 3 stray bytes after the RR.
      [[...rr, 0x80, 0xcb, 0x00], RtcpParse.TOO_SHORT, /offset:8, needed:12, length:11/],
      // RC=2 needs 56 bytes in an 8-byte packet.
      [[0x82, 0xc9, 0x00, 0x01, 0, 0, 0, 1], RtcpParse.BODY_PAST_END, /needed:56/],
      // SR with no room for its sender info.
      [[0x80, 0xc8, 0x00, 0x01, 0, 0, 0, 1], RtcpParse.BODY_PAST_END],
      // SDES item running past the packet.
      [[...rr, 0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 0x61, 0x62], RtcpParse.BAD_SDES],
      // SDES chunk with no null item.
      [[...rr, 0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 0x61, 0x62], RtcpParse.BAD_SDES],
      // BYE reason longer than the packet.
      [[...rr, 0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 0x09, 0x61, 0x62, 0x63], RtcpParse.BODY_PAST_END],
      // APP without its name.
      [[...rr, 0x80, 0xcc, 0x00, 0x01, 0, 0, 0, 1], RtcpParse.BODY_PAST_END],
      // Padding count larger than the packet body.
      [[...rr, 0xa0, 0xcb, 0x00, 0x01, 0, 0, 0, 9], RtcpParse.BAD_PADDING],
      [[...rr, 0xa0, 0xcb, 0x00, 0x01, 0, 0, 0, 0], RtcpParse.BAD_PADDING],
    ];
    for (const [bytes, code, message] of cases) {
      const buf = new Uint8Array(bytes);
      const out: RtcpPacket[] = [];
      expect(readRtcpCompound(buf, buf.length, out), rtcpParseCodeName(code)).toBe(code);
      expect(() => parseRtcpCompound(buf)).toThrow(RangeError);
      if (message) expect(() => parseRtcpCompound(buf)).toThrow(message);
    }
  });

  it('accepts reduced-size RTCP only when asked (RFC 5506)', () => {
    const bye = new Uint8Array([0x81, 0xcb, 0x00, 0x01, 0, 0, 0, 7]);
    expect(() => parseRtcpCompound(bye)).toThrow(RangeError);
    expect(parseRtcpCompound(bye, { reducedSize: true })).toEqual([{ type: 'bye', ssrcs: [7] }]);
  });

  it('clamps cumulative loss to 24 signed bits on write', () => {
    const block = { ssrc: 1, fractionLost: 0, extendedHighestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 };
    const bytes = serializeRtcpCompound([
      { type: 'rr', ssrc: 1, reports: [{ ...block, cumulativeLost: 1e9 }, { ...block, cumulativeLost: -1e9 }] },
    ]);
    const [rr] = parseRtcpCompound(bytes);
    expect(rr?.type === 'rr' && rr.reports.map((r) => r.cumulativeLost)).toEqual([0x7fffff, -0x800000]);
  });
});

describe('report compounds (RFC 3550 §6.1)', () => {
  const block = { ssrc: 9, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 1, jitter: 0, lsr: 0, dlsr: 0 };

  it('leads with an SR for a sender, an RR otherwise, then SDES CNAME, BYE last', () => {
    const sender = { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 };
    const sr = parseRtcpCompound(serializeRtcpCompound(rtcpReportCompound({ ssrc: 7, cname: 'me@host', sender, reports: [block] })));
    expect(sr.map((p) => p.type)).toEqual(['sr', 'sdes']);
    expect(sr[0]).toMatchObject({ ssrc: 7, packetCount: 4, reports: [block] });
    expect(sr[1]).toEqual({ type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: 1, text: 'me@host' }] }] });
    const bye = parseRtcpCompound(serializeRtcpCompound(rtcpReportCompound({ ssrc: 7, cname: 'me', reports: [], bye: { reason: 'hang-up' } })));
    expect(bye.map((p) => p.type)).toEqual(['rr', 'sdes', 'bye']);
    expect(bye[2]).toEqual({ type: 'bye', ssrcs: [7], reason: 'hang-up' });
  });

  it('spills report blocks beyond 31 into further RRs', () => {
    const reports = Array.from({ length: 40 }, (_, i) => ({ ...block, ssrc: i }));
    const packets = parseRtcpCompound(serializeRtcpCompound(rtcpReportCompound({ ssrc: 7, cname: 'me', reports })));
    expect(packets.map((p) => (p.type === 'rr' ? p.reports.length : p.type))).toEqual([31, 9, 'sdes']);
  });
});

describe('RTCP interval (RFC 3550 §6.3.1, A.7)', () => {
  const call = { members: 2, senders: 2, sessionBandwidthBps: 80_000, weSent: true, avgRtcpSizeBytes: 100, initial: false };

  it('floors at 5 s (2.5 s initially), spread over [0.5, 1.5] and compensated', () => {
    expect(rtcpIntervalSeconds(call, () => 0.5)).toBeCloseTo(5 / RTCP_COMPENSATION, 9);
    expect(rtcpIntervalSeconds(call, () => 0)).toBeCloseTo(2.5 / RTCP_COMPENSATION, 9);
    expect(rtcpIntervalSeconds({ ...call, initial: true }, () => 0.5)).toBeCloseTo(2.5 / RTCP_COMPENSATION, 9);
    const rnd = mulberry32(1);
    for (let i = 0; i < 1000; i++) {
      const t = rtcpIntervalSeconds(call, rnd);
      expect(t).toBeGreaterThanOrEqual(2.5 / RTCP_COMPENSATION);
      expect(t).toBeLessThan(7.5 / RTCP_COMPENSATION);
    }
  });

  it('uses 5% of the session bandwidth once above the floor', () => {
    // 1000 members, 600 of them senders (above a quarter, so no split), 200-byte reports on
    // 80 kbit/s: 500 B/s for RTCP.
    const big = { ...call, members: 1000, senders: 600, avgRtcpSizeBytes: 200 };
    expect(rtcpIntervalSeconds(big, () => 0.5)).toBeCloseTo((200 * 1000) / 500 / RTCP_COMPENSATION, 6);
    // With no senders at all, A.7 still gives receivers their 75%.
    const quiet = { ...big, senders: 0, weSent: false };
    expect(rtcpIntervalSeconds(quiet, () => 0.5)).toBeCloseTo((200 * 1000) / 375 / RTCP_COMPENSATION, 6);
  });

  it('gives senders a quarter when they are at most a quarter of the members', () => {
    const conf = { ...call, members: 100, senders: 2, avgRtcpSizeBytes: 1000 };
    // A sender: 2 senders share 25% of 500 B/s.
    expect(rtcpIntervalSeconds(conf, () => 0.5)).toBeCloseTo((1000 * 2) / 125 / RTCP_COMPENSATION, 6);
    // A receiver: 98 receivers share 75%.
    expect(rtcpIntervalSeconds({ ...conf, weSent: false }, () => 0.5)).toBeCloseTo((1000 * 98) / 375 / RTCP_COMPENSATION, 6);
  });

  it('keeps the §6.3.3 running average of packet sizes', () => {
    let avg = 100;
    for (let i = 0; i < 200; i++) avg = updateAvgRtcpSize(avg, 72);
    expect(avg).toBeCloseTo(100, 6); // 72 + 28 octets of UDP/IPv4
    expect(updateAvgRtcpSize(0, 132)).toBeCloseTo(10, 9);
  });
});
