import { describe, expect, it } from 'vitest';
import { CONSISTENT_MS, SenderClock, SrVerdict } from '../../src/wire/senderClock.ts';
import { RtpSourceStats, ntpFromUnixMs } from '../../src/wire/rtpStats.ts';
import { mulberry32 } from '../helpers/prng.ts';

const CLOCK = 8000;
const T0 = 1_750_000_000_000;
/** Our clock reads the sender's less this (its clock is ahead), plus 15 ms of one-way delay per SR. */
const AHEAD_MS = 250;

/** A sender whose wallclock and RTP clock run `ppm` fast; an SR every 5 s from a random RTP base. */
function honestSrs(n: number, ppm: number, base: number): Array<{ ntpMs: number; rtp: number; atMs: number }> {
  const out = [];
  for (let k = 0; k < n; k++) {
    const trueMs = k * 5000;
    const senderMs = trueMs * (1 + ppm / 1e6);
    out.push({ ntpMs: T0 + AHEAD_MS + senderMs, rtp: (base + Math.round((senderMs * CLOCK) / 1000)) >>> 0, atMs: T0 + trueMs + 15 });
  }
  return out;
}

describe('SenderClock (RFC 3550 §6.4.1 mapping)', () => {
  it('maps RTP timestamps to the sender wallclock, across the 32-bit wrap, and measures its offset', () => {
    const c = new SenderClock(CLOCK);
    expect(c.wallclockMsOf(0)).toBeNaN();
    expect(c.offsetMs).toBeNaN();
    const srs = honestSrs(4, 100, 0xffff0000);
    // The first SR waits for a second to confirm it (one alone may be anything).
    expect(c.offer(srs[0]!.ntpMs, srs[0]!.rtp, srs[0]!.atMs)).toBe(SrVerdict.PROBATION);
    expect(c.valid).toBe(false);
    for (const sr of srs.slice(1)) expect(c.offer(sr.ntpMs, sr.rtp, sr.atMs)).toBe(SrVerdict.ACCEPTED);
    const last = honestSrs(4, 100, 0xffff0000)[3]!;
    expect(c.valid).toBe(true);
    expect(c.wallclockMsOf((last.rtp + 8000) >>> 0)).toBeCloseTo(last.ntpMs + 1000, 6);
    expect(c.wallclockMsOf((last.rtp - 800) >>> 0)).toBeCloseTo(last.ntpMs - 100, 6);
    // The sender's clock less ours: its 250 ms lead, less the 15 ms of delay, plus its drift over 15 s (1.5 ms).
    expect(c.offsetMs).toBeCloseTo(AHEAD_MS - 15 + 1.5, 1);
  });

  it('makes no mapping from a first SR that nothing confirms', () => {
    const c = new SenderClock(CLOCK);
    expect(c.offer(T0, 0, T0)).toBe(SrVerdict.PROBATION);
    expect(c.offer(T0 + 9e9, 8000, T0 + 1000)).toBe(SrVerdict.PROBATION); // absurd: does not confirm
    expect(c.valid).toBe(false);
    expect(c.offer(T0 + 9e9 + 1000, 16000, T0 + 2000)).toBe(SrVerdict.ACCEPTED); // …unless the next agrees with it
  });

  it('never lets a hostile SR move the mapping: absurd NTP, timestamp jump, NTP jump, replay', () => {
    const c = new SenderClock(CLOCK);
    const srs = honestSrs(3, -100, 1234);
    for (const sr of srs.slice(0, 2)) c.offer(sr.ntpMs, sr.rtp, sr.atMs);
    expect(c.valid).toBe(true);
    const probe = (srs[1]!.rtp + 16000) >>> 0;
    const before = c.wallclockMsOf(probe);
    const at = srs[1]!.atMs + 2500;
    const ntp = srs[1]!.ntpMs + 2500;
    const rtp = (srs[1]!.rtp + 20000) >>> 0;
    expect(c.offer(0, rtp, at)).toBe(SrVerdict.NO_WALLCLOCK); // NTP zero: a sender without wallclock
    expect(c.offer(Number.NaN, rtp, at)).toBe(SrVerdict.NO_WALLCLOCK);
    expect(c.offer(ntp + 86_400_000 * 365, rtp, at)).toBe(SrVerdict.INCONSISTENT); // a year ahead
    expect(c.offer(ntp, (rtp + 8_000_000) >>> 0, at)).toBe(SrVerdict.INCONSISTENT); // RTP jumped 1000 s
    expect(c.offer(ntp, rtp, at + 10 * CONSISTENT_MS)).toBe(SrVerdict.INCONSISTENT); // arrived far off its step
    expect(c.offer(srs[0]!.ntpMs, srs[0]!.rtp, at)).toBe(SrVerdict.STALE); // replayed old SR
    expect(c.wallclockMsOf(probe)).toBe(before);
    expect(c.rejected).toBe(6);
    // The genuine next SR still fits.
    expect(c.offer(srs[2]!.ntpMs, srs[2]!.rtp, srs[2]!.atMs)).toBe(SrVerdict.ACCEPTED);
  });

  it('follows a sender that really reset its clocks once a second SR confirms it', () => {
    const c = new SenderClock(CLOCK);
    for (const sr of honestSrs(2, 0, 0)) c.offer(sr.ntpMs, sr.rtp, sr.atMs);
    expect(c.valid).toBe(true);
    const at = T0 + 10_000;
    expect(c.offer(T0 + 3_600_000, 777, at)).toBe(SrVerdict.INCONSISTENT);
    expect(c.offer(T0 + 3_605_000, 777 + 40_000, at + 5000)).toBe(SrVerdict.RESTARTED);
    expect(c.wallclockMsOf(777 + 48_000)).toBeCloseTo(T0 + 3_606_000, 6);
  });

  it('takes a late (reordered) SR as stale, not as a reset', () => {
    const c = new SenderClock(CLOCK);
    const srs = honestSrs(3, 0, 99);
    c.offer(srs[0]!.ntpMs, srs[0]!.rtp, srs[0]!.atMs);
    c.offer(srs[2]!.ntpMs, srs[2]!.rtp, srs[2]!.atMs);
    expect(c.valid).toBe(true);
    expect(c.offer(srs[1]!.ntpMs, srs[1]!.rtp, srs[2]!.atMs + 20)).toBe(SrVerdict.STALE);
    expect(c.ntpMs).toBe(srs[2]!.ntpMs);
  });

  it('keeps its mapping through a flood of random SRs between honest ones (seeded)', () => {
    const rnd = mulberry32(13);
    const c = new SenderClock(CLOCK);
    const srs = honestSrs(22, 100, 42);
    for (const sr of srs.slice(0, 2)) c.offer(sr.ntpMs, sr.rtp, sr.atMs);
    for (const sr of srs.slice(2)) {
      for (let k = 0; k < 50; k++) {
        const r = rnd();
        c.offer(r < 0.3 ? rnd() * 2 ** 32 * 1000 : T0 + (rnd() - 0.5) * 1e9, (rnd() * 2 ** 32) >>> 0, sr.atMs - rnd() * 4000);
      }
      c.offer(sr.ntpMs, sr.rtp, sr.atMs);
      expect(c.wallclockMsOf((sr.rtp + 800) >>> 0)).toBeCloseTo(sr.ntpMs + 100, 6);
    }
  });

  it('is what an RTP source uses: an SR under its SSRC goes through the same checks', () => {
    const s = new RtpSourceStats(5, 0, CLOCK, 1);
    const ntp = ntpFromUnixMs(T0);
    const sr = { type: 'sr' as const, ssrc: 5, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 100, packetCount: 0, octetCount: 0, reports: [] };
    expect(s.onSenderReport(sr, T0)).toBe(SrVerdict.PROBATION);
    const ntp2 = ntpFromUnixMs(T0 + 5000);
    expect(s.onSenderReport({ ...sr, ntpSeconds: ntp2.seconds, ntpFraction: ntp2.fraction, rtpTimestamp: 40_100 }, T0 + 5000)).toBe(SrVerdict.ACCEPTED);
    expect(s.onSenderReport({ ...sr, ntpSeconds: 0, ntpFraction: 0 }, T0 + 10_000)).toBe(SrVerdict.NO_WALLCLOCK);
    expect(s.wallclockMsOf(40_900)).toBeCloseTo(T0 + 5100, 3);
  });
});
