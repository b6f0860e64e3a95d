import { describe, expect, it } from 'vitest';
import type { RtcpSenderReport } from '../../src/wire/rtcp.ts';
import {
  MAX_DROPOUT,
  NTP_UNIX_OFFSET_S,
  NtpTime,
  RtpSourceStats,
  SeqUpdate,
  ntpFromUnixMs,
  ntpMiddle32,
  ntpMiddle32FromUnixMs,
  rttMsFromReportBlock,
  srRtpTimestamp,
  unixMsFromNtp,
} from '../../src/wire/rtpStats.ts';
import { mulberry32 } from '../helpers/prng.ts';

const CLOCK = 8000;
const FRAME = 160; // 20 ms at 8 kHz

/** Feeds packets seq0.., stamped 20 ms apart and arriving on time plus `delayMs(i)`. */
function run(stats: RtpSourceStats, seq0: number, count: number, keep: (i: number) => boolean = () => true, delayMs = (_i: number) => 0): void {
  for (let i = 0; i < count; i++) {
    if (!keep(i)) continue;
    stats.update((seq0 + i) & 0xffff, (1000 + i * FRAME) >>> 0, 10_000 + i * 20 + delayMs(i));
  }
}

describe('sequence validation (RFC 3550 A.1)', () => {
  it('puts a new source on probation for MIN_SEQUENTIAL packets', () => {
    const s = new RtpSourceStats(1, 100, CLOCK);
    expect(s.update(100, 0, 0)).toBe(SeqUpdate.PROBATION);
    expect(s.valid).toBe(false);
    expect(s.update(101, 160, 20)).toBe(SeqUpdate.OK);
    expect(s.valid).toBe(true);
    expect([s.received, s.expected, s.cumulativeLost]).toEqual([1, 1, 0]);
  });

  it('restarts probation when the first packets are not in order', () => {
    const s = new RtpSourceStats(1, 100, CLOCK);
    expect(s.update(100, 0, 0)).toBe(SeqUpdate.PROBATION);
    expect(s.update(500, 0, 0)).toBe(SeqUpdate.PROBATION);
    expect(s.update(501, 0, 0)).toBe(SeqUpdate.OK);
  });

  it('takes a known peer at once with minSequential 1', () => {
    const s = new RtpSourceStats(1, 7, CLOCK, 1);
    expect(s.update(7, 0, 0)).toBe(SeqUpdate.OK);
    expect([s.received, s.expected]).toEqual([1, 1]);
  });

  it('counts cycles across the 16-bit wrap', () => {
    const s = new RtpSourceStats(1, 65000, CLOCK, 1);
    run(s, 65000, 2000);
    expect(s.extendedHighestSeq).toBe(65536 + ((65000 + 1999) & 0xffff));
    expect([s.received, s.expected, s.cumulativeLost]).toEqual([2000, 2000, 0]);
  });

  it('drops a jump of ±32768 until the next packet confirms it, then resynchronizes', () => {
    for (const jump of [32768, -32768, MAX_DROPOUT + 1]) {
      const s = new RtpSourceStats(1, 1000, CLOCK, 1);
      run(s, 1000, 50);
      const far = (1049 + jump) & 0xffff;
      expect(s.update(far, 0, 2000)).toBe(SeqUpdate.BAD_JUMP);
      expect(s.received).toBe(50);
      expect(s.update(1050, 0, 2020)).toBe(SeqUpdate.OK); // the old stream goes on: the jump was noise
      expect(s.update(far, 0, 2040)).toBe(SeqUpdate.BAD_JUMP);
      expect(s.update((far + 1) & 0xffff, 0, 2060)).toBe(SeqUpdate.RESTARTED);
      expect([s.received, s.expected]).toEqual([1, 1]);
    }
  });

  it('counts reordered and duplicated packets as A.1 does', () => {
    const s = new RtpSourceStats(1, 0, CLOCK, 1);
    for (const seq of [0, 1, 3, 2, 4, 4, 5]) s.update(seq, seq * FRAME, seq * 20);
    expect(s.update(5, 5 * FRAME, 200)).toBe(SeqUpdate.LATE);
    expect(s.update(1, FRAME, 210)).toBe(SeqUpdate.LATE);
    // 9 received for 6 expected: duplicates make the loss negative (A.3).
    expect([s.received, s.expected, s.cumulativeLost]).toEqual([9, 6, -3]);
  });
});

describe('loss (RFC 3550 A.3)', () => {
  it('reports fraction lost per interval and cumulative loss', () => {
    const s = new RtpSourceStats(9, 500, CLOCK, 1);
    run(s, 500, 1000, (i) => i % 10 !== 5); // 10% lost
    expect(s.cumulativeLost).toBe(100);
    expect(s.takeFractionLost()).toBe(Math.floor((100 * 256) / 1000));
    run(s, 1500, 100); // a clean interval
    expect(s.takeFractionLost()).toBe(0);
    expect(s.takeFractionLost()).toBe(0); // nothing new: no division by zero
    run(s, 1600, 100, (i) => i >= 50);
    expect(s.takeFractionLost()).toBe(128);
  });
});

describe('interarrival jitter (RFC 3550 A.8)', () => {
  it('is zero for a steady stream and tracks the floating-point form', () => {
    const steady = new RtpSourceStats(1, 0, CLOCK, 1);
    run(steady, 0, 500);
    expect(steady.jitter).toBe(0);

    const rnd = mulberry32(8);
    const delays = Array.from({ length: 2000 }, () => rnd() * 40);
    const s = new RtpSourceStats(1, 0, CLOCK, 1);
    run(s, 0, delays.length, undefined, (i) => delays[i]!);
    // The same estimate in floating point, as §6.4.1 writes it: J += (|D| − J)/16.
    let j = 0;
    for (let i = 1; i < delays.length; i++) {
      const d = Math.abs(Math.round(((10_000 + i * 20 + delays[i]!) * CLOCK) / 1000) - Math.round(((10_000 + (i - 1) * 20 + delays[i - 1]!) * CLOCK) / 1000) - FRAME);
      j += (d - j) / 16;
    }
    expect(Math.abs(s.jitter - j)).toBeLessThanOrEqual(1.5);
    // Uniform delay on [0, 40) ms: E|D| = 40/3 ms = 107 units.
    expect(s.jitter).toBeGreaterThan(80);
    expect(s.jitter).toBeLessThan(135);
    expect(s.jitterMs).toBeCloseTo(s.jitter / 8, 0);
  });

  it('survives the RTP timestamp wrapping', () => {
    const s = new RtpSourceStats(1, 0, CLOCK, 1);
    for (let i = 0; i < 100; i++) s.update(i, (0xffffff00 + i * FRAME) >>> 0, 5000 + i * 20);
    expect(s.jitter).toBe(0);
  });
});

describe('NTP time and round trips (RFC 3550 §4, §6.4.1)', () => {
  it('converts Unix ms to NTP and back', () => {
    const t = new NtpTime();
    ntpFromUnixMs(0, t);
    expect([t.seconds, t.fraction]).toEqual([NTP_UNIX_OFFSET_S, 0]);
    ntpFromUnixMs(1500, t);
    expect([t.seconds, t.fraction]).toEqual([NTP_UNIX_OFFSET_S + 1, 0x80000000]);
    for (const ms of [1_700_000_000_123.25, Date.UTC(2040, 0, 1)]) {
      ntpFromUnixMs(ms, t);
      expect(unixMsFromNtp(t.seconds, t.fraction)).toBeCloseTo(ms, 3);
    }
    expect(ntpMiddle32(0x12345678, 0x9abcdef0)).toBe(0x56789abc);
    ntpFromUnixMs(1_700_000_000_000, t);
    expect(ntpMiddle32FromUnixMs(1_700_000_000_000)).toBe(ntpMiddle32(t.seconds, t.fraction));
  });

  it('fills LSR and DLSR from the last SR, and the sender gets the RTT back', () => {
    const t0 = 1_700_000_000_000;
    const ntp = ntpFromUnixMs(t0);
    const sr: RtcpSenderReport = {
      type: 'sr', ssrc: 5, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction,
      rtpTimestamp: 8000, packetCount: 1, octetCount: 160, reports: [],
    };
    // The receiver's clock differs from the sender's: LSR/DLSR need no shared clock.
    const recv = new RtpSourceStats(5, 0, CLOCK, 1);
    run(recv, 0, 10);
    expect(recv.reportBlock(123).lsr).toBe(0);
    recv.onSenderReport(sr, 50_000 + 20); // arrived 20 ms after it was sent (one-way delay)
    const block = recv.reportBlock(50_000 + 20 + 1500); // our RR goes out 1.5 s later
    expect(block.lsr).toBe(ntpMiddle32(ntp.seconds, ntp.fraction));
    expect(block.dlsr).toBe(1.5 * 65536);
    // It reaches the sender 20 ms later: A = t0 + 20 + 1500 + 20.
    expect(rttMsFromReportBlock(block, t0 + 1540)).toBeCloseTo(40, 1);
    expect(rttMsFromReportBlock({ ...block, lsr: 0 }, t0)).toBe(-1);
    expect(rttMsFromReportBlock(block, t0 + 1500)).toBe(0); // clock rounding below zero
  });

  it("maps the sender's RTP timestamps to its wallclock through the SR", () => {
    const s = new RtpSourceStats(5, 0, CLOCK, 1);
    expect(s.wallclockMsOf(0)).toBeNaN();
    const t0 = 1_700_000_000_000;
    const ntp = ntpFromUnixMs(t0);
    // Two SRs that agree make the mapping (wire/senderClock.ts): the first alone is on probation.
    const before = ntpFromUnixMs(t0 - 1000);
    s.onSenderReport(
      { type: 'sr', ssrc: 5, ntpSeconds: before.seconds, ntpFraction: before.fraction, rtpTimestamp: 0xffffff00 - 8000, packetCount: 0, octetCount: 0, reports: [] },
      0,
    );
    s.onSenderReport(
      { type: 'sr', ssrc: 5, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 0xffffff00, packetCount: 0, octetCount: 0, reports: [] },
      1000,
    );
    expect(s.wallclockMsOf(0xffffff00 + 8000 - 2 ** 32)).toBeCloseTo(t0 + 1000, 3); // across the wrap
    expect(s.wallclockMsOf(0xffffff00 - 800)).toBeCloseTo(t0 - 100, 3);
    expect(srRtpTimestamp(0xffffffff, 1000, 1020, CLOCK)).toBe(159);
  });
});
