import { describe, expect, it } from 'vitest';
import { RTP_STATS } from '../../../src/actors/rtp/kind.ts';
import { RtpSender } from '../../../src/actors/rtp/RtpSender.ts';
import { RtcpSession } from '../../../src/actors/rtp/RtcpSession.ts';
import { STAT } from '../../../src/actors/rtp/RtpReceiver.ts';
import { parseRtpLegConfig } from '../../../src/actors/rtp/RtpLegConfig.ts';
import { ulawDecode } from '../../../src/dsp/g711.ts';
import { G722, OPUS, PCMU, payloadFormat } from '../../../src/wire/rtpPayloadTypes.ts';
import { parseRtp } from '../../../src/wire/rtp.ts';
import { parseRtcpCompound, serializeRtcpCompound } from '../../../src/wire/rtcp.ts';
import { ntpFromUnixMs, ntpMiddle32FromUnixMs, RtpSourceStats } from '../../../src/wire/rtpStats.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const out = new Uint8Array(1600);

describe('RtpSender', () => {
  it('stamps a steady clock from random starts, marks talkspurt starts, and keeps the pace through silence', () => {
    const s = new RtpSender('PCMU', PCMU, 8000, 20);
    const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
    const seen = [];
    const plan: Array<[Int16Array | null, boolean]> = [[null, false], [tone, true], [tone, true], [tone, false], [null, false], [tone, true]];
    for (const [frame, speech] of plan) {
      const n = s.packetize(frame, speech, out, 0);
      expect(n).toBe(172);
      seen.push(parseRtp(out.slice(0, n)));
    }
    expect(seen.map((p) => p.marker)).toEqual([true, true, false, false, false, true]);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.sequenceNumber).toBe((seen[0]!.sequenceNumber + i) & 0xffff);
      expect(seen[i]!.timestamp).toBe((seen[0]!.timestamp + 160 * i) >>> 0);
      expect(seen[i]!.ssrc).toBe(s.ssrc);
    }
    expect(seen[0]!.payload.every((b) => b === 0xff)).toBe(true); // µ-law silence
    const decoded = new Int16Array(160);
    ulawDecode(seen[1]!.payload, decoded);
    for (let i = 0; i < 160; i++) expect(Math.abs(decoded[i]! - tone[i]!)).toBeLessThan(300);
    expect([s.packetCount, s.octetCount]).toEqual([6, 960]);
    // Two senders start apart (RFC 3550 §5.1: random initial values).
    const t = new RtpSender('PCMU', PCMU, 8000, 20);
    expect([t.ssrc, t.timestamp]).not.toEqual([s.ssrc, seen[0]!.timestamp]);
  });

  it('sends G.722 at an 8000 Hz RTP clock (RFC 3551) and Opus at 48000 (RFC 7587), and adapts Opus', () => {
    const g = new RtpSender('G722', G722, 16000, 20);
    const a = parseRtp(out.slice(0, g.packetize(new Int16Array(320), true, out, 0)));
    const b = parseRtp(out.slice(0, g.packetize(new Int16Array(320), true, out, 20)));
    expect([a.payloadType, a.payload.length, (b.timestamp - a.timestamp) >>> 0]).toEqual([9, 160, 160]);
    g.destroy();
    const o = new RtpSender('opus', payloadFormat('opus', 120), 48000, 20, 24_000);
    const p = parseRtp(out.slice(0, o.packetize(new Int16Array(960), true, out, 0)));
    const q = parseRtp(out.slice(0, o.packetize(new Int16Array(960), true, out, 20)));
    expect([p.payloadType, (q.timestamp - p.timestamp) >>> 0]).toEqual([120, 960]);
    expect(o.opusBitrateBps).toBe(24_000);
    o.setOpus(16_000, true, 5);
    expect(o.opusBitrateBps).toBe(16_000);
    o.destroy();
    expect(OPUS.clockRateHz).toBe(48000);
  });

  it('skip: a frame of silence sends nothing and encodes nothing; the clock runs on, the sequence does not, and the next packet is marked (RFC 3551 §4.1)', () => {
    const s = new RtpSender('opus', OPUS, 48000, 20);
    const voice = new Int16Array(960).map((_, i) => Math.round(6000 * Math.sin(i / 7)));
    const a = parseRtp(out.slice(0, s.packetize(voice, true, out, 0)));
    const b = parseRtp(out.slice(0, s.packetize(voice, true, out, 20)));
    for (let k = 0; k < 25; k++) s.skip();
    const c = parseRtp(out.slice(0, s.packetize(voice, true, out, 540)));
    expect([a.marker, b.marker, c.marker]).toEqual([true, false, true]);
    expect([(b.sequenceNumber - a.sequenceNumber) & 0xffff, (c.sequenceNumber - b.sequenceNumber) & 0xffff]).toEqual([1, 1]);
    expect((c.timestamp - b.timestamp) >>> 0).toBe(960 * 26);
    expect([s.framesEncoded, s.packetCount]).toEqual([3, 3]);
    s.destroy();
  });

  it('Opus DTX (RFC 7587 §3.1.3): once libopus settles into DTX its 1–2 byte frames are not sent; speech resumes marked, on the running clock', () => {
    const s = new RtpSender('opus', OPUS, 48000, 20, 32_000, true);
    const voice = new Int16Array(960).map((_, i) => Math.round(6000 * Math.sin(i / 7)));
    const silence = new Int16Array(960);
    const sent: ReturnType<typeof parseRtp>[] = [];
    const results: number[] = [];
    const put = (pcm: Int16Array): void => {
      const n = s.packetize(pcm, true, out, 0);
      results.push(n);
      if (n > 0) sent.push(parseRtp(out.slice(0, n)));
    };
    for (let k = 0; k < 5; k++) put(voice);
    for (let k = 0; k < 50; k++) put(silence);
    put(voice);
    // Some frames of the silence went unsent (DTX), none failed; the encoder saw every frame.
    const unsent = results.filter((n) => n === 0).length;
    expect(unsent).toBeGreaterThan(20);
    expect(results.every((n) => n >= 0)).toBe(true);
    expect(s.framesEncoded).toBe(56);
    expect(s.packetCount).toBe(56 - unsent);
    const last = sent.at(-1)!;
    const before = sent.at(-2)!;
    expect(last.marker).toBe(true);
    expect(last.sequenceNumber).toBe((before.sequenceNumber + 1) & 0xffff);
    expect(((last.timestamp - before.timestamp) >>> 0) / 960).toBeGreaterThan(1);
    expect(sent.every((p) => p.payload.length > 2)).toBe(true);
    s.destroy();
  });
});

describe('RtcpSession', () => {
  function session(seed = 1) {
    const stats = new Float64Array(RTP_STATS.length);
    const sender = new RtpSender('PCMU', PCMU, 8000, 20);
    const rtcp = new RtcpSession({ sender, stats, cname: 'leg@test', sessionBandwidthBps: 80_000, minIntervalS: 1, nowMs: 1_000_000, random: mulberry32(seed) });
    return { stats, sender, rtcp };
  }

  it('schedules reports on the RFC 3550 §6.3 interval, halved before the first', () => {
    const { rtcp } = session();
    // Initial: min 1 s halved, × [0.5, 1.5), ÷ (e − 1.5).
    expect(rtcp.due(1_000_000 + 0.5 * 0.5 * 1000 / 1.2183 - 1)).toBe(false);
    expect(rtcp.due(1_000_000 + 1.5 * 0.5 * 1000 / 1.2182)).toBe(true);
  });

  it('writes SR + report block + SDES, and BYE when asked', () => {
    const { rtcp, sender, stats } = session();
    for (let i = 0; i < 10; i++) sender.packetize(null, false, out, 1_000_000 + 20 * i);
    const src = new RtpSourceStats(0x77, 1, 8000, 1);
    for (let i = 1; i <= 10; i++) if (i !== 5) src.update(i, i * 160, 1_000_000 + 20 * i);
    const n = rtcp.writeReport(out, 1_000_300, src, true);
    const packets = parseRtcpCompound(out.slice(0, n));
    expect(packets.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    const sr = packets[0]!;
    if (sr.type !== 'sr') throw new Error('not an SR');
    expect([sr.ssrc, sr.packetCount, sr.octetCount]).toEqual([sender.ssrc, 10, 1600]);
    expect(sr.reports[0]!.ssrc).toBe(0x77);
    expect(sr.reports[0]!.cumulativeLost).toBe(1);
    expect(stats[STAT.lossFraction]).toBeCloseTo(25 / 256, 5);
    expect(stats[STAT.rtcpOut]).toBe(1);
  });

  it('reads the peer view of our stream: loss, jitter, and RTT from LSR/DLSR (§6.4.1)', () => {
    const { rtcp, sender, stats } = session();
    const now = 1_700_000_000_000;
    const lsr = ntpMiddle32FromUnixMs(now - 300);
    const ntp = ntpFromUnixMs(now);
    const peerSr = serializeRtcpCompound([
      {
        type: 'sr',
        ssrc: 0x77,
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        rtpTimestamp: 1234,
        packetCount: 5,
        octetCount: 800,
        // The peer held our SR for 200 ms: RTT = 300 − 200 = 100 ms.
        reports: [{ ssrc: sender.ssrc, fractionLost: 64, cumulativeLost: 9, extendedHighestSeq: 100, jitter: 80, lsr, dlsr: 0.2 * 65536 }],
      },
    ]);
    expect(rtcp.onCompound(peerSr, peerSr.length, now, undefined)).toBe(true);
    expect(rtcp.peer.lossFraction).toBe(0.25);
    expect(rtcp.peer.cumulativeLost).toBe(9);
    expect(rtcp.peer.jitterMs).toBe(10);
    expect(rtcp.peer.rttMs).toBeGreaterThan(98);
    expect(rtcp.peer.rttMs).toBeLessThan(102);
    expect(stats[STAT.rtcpIn]).toBe(1);
  });

  it('counts garbage compounds and never throws on 20 000 seeded mutations', () => {
    const { rtcp, stats, sender } = session();
    const good = serializeRtcpCompound([
      { type: 'rr', ssrc: 1, reports: [{ ssrc: sender.ssrc, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 1, jitter: 0, lsr: 0, dlsr: 0 }] },
      { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'peer' }] }] },
      { type: 'bye', ssrcs: [1] },
    ]);
    const rng = mulberry32(7);
    const buf = new Uint8Array(good.length);
    for (let i = 0; i < 20_000; i++) {
      buf.set(good);
      let len = good.length;
      for (let f = 0; f < 3; f++) {
        if (rng() < 0.7) buf[Math.floor(rng() * len)] = Math.floor(rng() * 256);
        else len = Math.floor(rng() * (len + 1));
      }
      rtcp.onCompound(buf, len, 1_000_000, undefined);
    }
    expect(stats[STAT.rtcpIn]! + stats[STAT.droppedBadRtcp]!).toBe(20_000);
    expect(stats[STAT.droppedBadRtcp]).toBeGreaterThan(1000);
  });
});

describe('parseRtpLegConfig', () => {
  it('takes a valid configuration and refuses bad ones with a message', () => {
    const c = parseRtpLegConfig({ codec: 'opus', remote: '[::1]:5004', localPort: 10000, payloadType: 100 });
    expect([c.rateHz, c.format.payloadType, c.remote?.address, c.remote?.port, c.rtcpMinIntervalS]).toEqual([48000, 100, '::1', 5004, 5]);
    expect(parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000 }).remote).toBeUndefined();
    expect(() => parseRtpLegConfig({ codec: 'GSM', remote: 'latch', localPort: 10000 })).toThrow(/codec/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10001 })).toThrow(/even/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch' })).toThrow(/localPort/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'host', localPort: 10000 })).toThrow(/remote/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, payloadType: 96 })).toThrow(/fixed/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, srtp: { localKey: 'inline:AAAA' } })).toThrow(/srtp.localKey/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, srtp: { suite: 'NULL' } })).toThrow(/srtp.suite/);
    expect(parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, latchCidr: ['10.0.0.0/8', ' 2001:db8::/32'] }).latchCidr).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '2001:db8::', prefix: 32, family: 'ipv6' },
    ]);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, latchCidr: '10.0.0.0/33' })).toThrow(/latchCidr.*10\.0\.0\.0\/33/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, latchCidr: 'example.com/8' })).toThrow(/latchCidr/);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, latchCidr: [] })).toThrow(/1–64 CIDR blocks/);
    expect(parseRtpLegConfig({ codec: 'opus', remote: 'latch', localPort: 10000, opusDtx: true }).opusDtx).toBe(true);
    expect(() => parseRtpLegConfig({ codec: 'PCMU', remote: 'latch', localPort: 10000, opusDtx: true })).toThrow(/opus only/);
    expect(() => parseRtpLegConfig({ codec: 'opus', remote: 'latch', localPort: 10000, opusDtx: 'yes' })).toThrow(/opusDtx/);
  });
});
