import { describe, expect, it } from 'vitest';
import { FrameKind, InsertResult } from '../../../src/actors/jitter/JitterBuffer.ts';
import { STORE_CAPACITY } from '../../../src/actors/jitter/PacketStore.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { type Arrival, l16Buffer, l16Packet, playedValues, run, SPF, valueOf } from '../../helpers/jitter.ts';

/** `n` packets sent every 20 ms from `t0`, arriving after `transit(i)` ms. */
function stream(n: number, transit: (i: number) => number, opts: { seq0?: number; ts0?: number; t0?: number; ssrc?: number } = {}): Arrival[] {
  const { seq0 = 0, ts0 = 0, t0 = 1000, ssrc = 0x1234 } = opts;
  const out: Arrival[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ seq: (seq0 + i) & 0xffff, ts: (ts0 + i * SPF) >>> 0, atMs: t0 + 20 * i + transit(i), payload: l16Packet(valueOf(i)), ssrc });
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => valueOf(i));

describe('JitterBuffer', () => {
  it('plays an in-order stream in order, one frame per pull, after the start delay', () => {
    const jb = l16Buffer();
    const { kinds, firsts } = run(jb, stream(100, () => 30), 4000);
    expect(kinds).toHaveLength(Math.ceil((4000 - 10) / 20));
    expect(playedValues(firsts)).toEqual(range(100));
    const firstAudio = firsts.findIndex((v) => v >= 1000);
    // First packet arrives at 1030; playout starts once it has waited the 60 ms start delay.
    expect(10 + 20 * firstAudio - 1030).toBeGreaterThanOrEqual(50);
    expect(10 + 20 * firstAudio - 1030).toBeLessThanOrEqual(80);
    expect(jb.stats.packetsReceived).toBe(100);
    expect(jb.stats.packetsLost).toBe(0);
    expect(jb.stats.concealmentEvents).toBe(1); // the end of the stream
  });

  it('puts reordered packets back in order', () => {
    const rng = mulberry32(7);
    const jb = l16Buffer();
    const { firsts } = run(jb, stream(300, () => 30 + rng() * 35), 8000);
    expect(playedValues(firsts)).toEqual(range(300));
    expect(jb.stats.packetsLate).toBe(0);
  });

  it('counts duplicates and plays each packet once', () => {
    const jb = l16Buffer();
    const s = stream(50, () => 30);
    const dups = s.filter((_, i) => i % 5 === 0).map((a) => ({ ...a, atMs: a.atMs + 7 }));
    const { firsts } = run(jb, [...s, ...dups], 2500);
    expect(playedValues(firsts)).toEqual(range(50));
    expect(jb.stats.packetsDuplicated).toBe(10);
    expect(jb.stats.packetsReceived).toBe(50);
    expect(jb.stats.packetsLost).toBe(0);
  });

  it('discards a packet that arrives after its playout and counts it late', () => {
    const jb = l16Buffer({ minDelayMs: 40, maxDelayMs: 40, startDelayMs: 40 });
    const s = stream(60, (i) => (i === 30 ? 400 : 30));
    const { firsts } = run(jb, s, 3000);
    expect(jb.stats.packetsLate).toBe(1);
    expect(jb.stats.packetsDiscarded).toBe(1);
    expect(playedValues(firsts)).toEqual(range(60).filter((v) => v !== valueOf(30)));
  });

  it('unwraps 16-bit sequence numbers and 32-bit timestamps across their wrap', () => {
    const jb = l16Buffer();
    const rng = mulberry32(3);
    const s = stream(200, () => 30 + rng() * 20, { seq0: 65500, ts0: 2 ** 32 - 100 * SPF - 17 });
    const { firsts } = run(jb, s, 6000);
    expect(playedValues(firsts)).toEqual(range(200));
    expect(jb.stats.packetsLost).toBe(0);
    expect(jb.stats.packetsLate).toBe(0);
    expect(jb.stats.packetsTooEarly).toBe(0);
  });

  it('starts a new stream on an SSRC change', () => {
    const jb = l16Buffer();
    const a = stream(50, () => 30);
    const b = stream(50, () => 30, { seq0: 40000, ts0: 123456789, t0: 2000, ssrc: 0x9999 }).map((x, i) => ({
      ...x,
      payload: l16Packet(valueOf(100 + i)),
    }));
    const { firsts } = run(jb, [...a, ...b], 4000);
    // The change flushes what the old stream still had buffered (at most the delay's worth).
    const played = playedValues(firsts);
    expect(played.slice(0, 45)).toEqual(range(45));
    expect(played.slice(-50)).toEqual(range(150).slice(100));
    expect(jb.stats.ssrcChanges).toBe(1);
    expect(jb.stats.packetsReceived).toBe(100);
    expect(jb.stats.packetsLost).toBe(0);
  });

  it('survives a long outage: frames keep coming, concealment then recovery, the loss counted', () => {
    const jb = l16Buffer();
    const s = stream(400, () => 30).filter((_, i) => i < 100 || i >= 250);
    const { kinds, firsts } = run(jb, s, 10000);
    expect(kinds.length).toBe(500);
    expect(jb.stats.packetsLost).toBe(150);
    expect(jb.stats.interruptionCount).toBe(2); // the 3 s outage and the end of the stream
    const played = playedValues(firsts);
    expect(played.slice(0, 100)).toEqual(range(100));
    expect(played.slice(-100)).toEqual(range(400).slice(-100));
  });

  it('plays comfort noise through a DTX pause without counting loss or concealment', () => {
    const jb = l16Buffer();
    // Talk, 40 quiet frames, then the sender stops sending for 2 s (sequence numbers continue), then talks again.
    const arrivals: Arrival[] = [];
    let seq = 0;
    for (let i = 0; i < 100; i++) {
      const quiet = i >= 60;
      arrivals.push({ seq: seq++, ts: i * SPF, atMs: 1000 + 20 * i + 30, payload: l16Packet(quiet ? 3 : valueOf(i)) });
    }
    for (let i = 200; i < 300; i++) {
      arrivals.push({ seq: seq++, ts: i * SPF, atMs: 1000 + 20 * i + 30, payload: l16Packet(valueOf(i)), marker: i === 200 });
    }
    const { kinds, firsts } = run(jb, arrivals, 7500);
    expect(jb.stats.packetsLost).toBe(0);
    expect(jb.stats.concealmentEvents).toBe(1); // only the end of the stream
    expect(kinds.filter((k) => k === FrameKind.SILENCE || k === FrameKind.COMFORT_NOISE).length).toBeGreaterThan(90);
    const played = playedValues(firsts);
    expect(played.slice(-100)).toEqual(range(300).slice(-100));
  });

  it('under jitter, a DTX pause still plays comfort noise and the talkspurt after it is not lost or late', () => {
    const jb = l16Buffer();
    const rng = mulberry32(9);
    const arrivals: Arrival[] = [];
    let seq = 0;
    for (let i = 0; i < 300; i++) {
      // Talk, quiet frames, a 2 s pause with nothing sent (sequence numbers continue), talk again.
      if (i >= 100 && i < 200) continue;
      const quiet = i >= 60 && i < 100;
      arrivals.push({ seq: seq++, ts: i * SPF, atMs: 1000 + 20 * i + 30 + rng() * 40, payload: l16Packet(quiet ? 3 : valueOf(i)), marker: i === 200 });
    }
    const { kinds, firsts } = run(jb, arrivals, 8000);
    expect(jb.stats.packetsLost).toBe(0);
    expect(jb.stats.packetsLate).toBe(0);
    expect(kinds.filter((k) => k === FrameKind.SILENCE || k === FrameKind.COMFORT_NOISE).length).toBeGreaterThan(90);
    expect(playedValues(firsts).slice(-100)).toEqual(range(300).slice(-100));
  });

  it('drops zero-length and oversized payloads and counts them', () => {
    const jb = l16Buffer();
    const big = new Uint8Array(2000);
    expect(jb.insert(1, 320, 0, new Uint8Array(0), 0, false, 1)).toBe(InsertResult.INVALID);
    expect(jb.insert(1, 320, 0, big, 2000, false, 1)).toBe(InsertResult.INVALID);
    expect(jb.insert(1, 320, 0, big, 10, false, 1)).toBe(InsertResult.NEW_STREAM);
    expect(jb.insert(2, 640, 0, big, 30000, false, 1)).toBe(InsertResult.INVALID);
    expect(jb.insert(2, 640, NaN, big, 10, false, 1)).toBe(InsertResult.INVALID);
    expect(jb.stats.packetsInvalid).toBe(4);
    expect(jb.stats.packetsReceived).toBe(1);
  });

  it('drops a flood of packets far in the future without growing or stopping', () => {
    const jb = l16Buffer();
    const rng = mulberry32(11);
    const junk: Arrival[] = [];
    for (let i = 0; i < 20000; i++) {
      const seq = (100 + STORE_CAPACITY + Math.floor(rng() * 30000)) & 0xffff;
      junk.push({ seq, ts: Math.floor(rng() * 2 ** 32), atMs: 1500 + i * 0.1, payload: l16Packet(7) });
    }
    const { kinds, firsts } = run(jb, [...stream(200, () => 30), ...junk], 5500);
    expect(kinds.length).toBe(275);
    expect(jb.bufferedPackets).toBeLessThanOrEqual(STORE_CAPACITY);
    expect(jb.stats.packetsTooEarly).toBeGreaterThan(19000);
    // A random pair can look like a sequence restart (RFC 3550 A.1) at worst a few times; the stream plays on.
    expect(playedValues(firsts).length).toBeGreaterThan(190);
  });

  it('restarts the sequence when the sender jumps and stays there (RFC 3550 A.1 probation)', () => {
    const jb = l16Buffer();
    const a = stream(50, () => 30);
    const b = stream(50, () => 30, { seq0: 30000, ts0: 50 * SPF, t0: 2000 }).map((x, i) => ({ ...x, payload: l16Packet(valueOf(50 + i)) }));
    const { firsts } = run(jb, [...a, ...b], 3500);
    expect(playedValues(firsts).slice(-48)).toEqual(range(100).slice(-48));
    expect(jb.stats.packetsTooEarly).toBe(1);
  });

  it('reports RFC 3550 interarrival jitter and the mean buffering delay', () => {
    const jb = l16Buffer({ minDelayMs: 60, maxDelayMs: 60, startDelayMs: 60 });
    // Transit alternating 30 and 40 ms: |D| = 10 ms = 160 units of the 16 kHz clock every packet,
    // so J (J += (|D| − J)/16, RFC 3550 A.8) converges to 160.
    run(jb, stream(500, (i) => (i % 2 === 0 ? 30 : 40)), 11_500);
    expect(jb.stats.jitterTimestampUnits).toBeCloseTo(160, 1);
    expect(jb.stats.jitterMs).toBeCloseTo(10, 2);
    expect(jb.stats.jitter).toBeCloseTo(0.01, 4);
    const meanDelayMs = (1000 * jb.stats.jitterBufferDelay) / jb.stats.jitterBufferEmittedCount;
    // A fixed 60 ms target over the fastest packets: 50–60 ms from arrival to playout on average.
    expect(meanDelayMs).toBeGreaterThan(45);
    expect(meanDelayMs).toBeLessThan(75);
    expect(jb.stats.targetDelayMs).toBe(60);
    expect(jb.stats.jitterBufferEmittedCount).toBe(500 * SPF);
  });
});
