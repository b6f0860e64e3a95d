import { describe, expect, it } from 'vitest';
import { FrameKind } from '../../../src/actors/jitter/JitterBuffer.ts';
import { Concealer } from '../../../src/dsp/plc.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { type Arrival, l16Buffer, RATE_HZ, run, SPF } from '../../helpers/jitter.ts';

const AMPLITUDE = 8000;

/** Packet `i` of a continuous 220 Hz tone, as an L16 payload. */
function tonePacket(i: number, gain = 1): Uint8Array {
  const b = new Uint8Array(2 * SPF);
  for (let k = 0; k < SPF; k++) {
    const v = Math.round(gain * AMPLITUDE * Math.sin((2 * Math.PI * 220 * (i * SPF + k)) / RATE_HZ));
    b[2 * k] = (v >> 8) & 0xff;
    b[2 * k + 1] = v & 0xff;
  }
  return b;
}

describe('JitterBuffer properties (seeded random networks)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: every tick gives a frame, counters add up, samples stay in range`, () => {
      const rng = mulberry32(seed);
      const lossP = 0.02 + rng() * 0.2;
      const dupP = rng() * 0.1;
      const jitterMs = rng() * 120;
      const n = 1500;
      const arrivals: Arrival[] = [];
      const delivered = new Set<number>();
      for (let i = 0; i < n; i++) {
        // The first and last always arrive, so the expected count is the whole range.
        if (i > 0 && i < n - 1 && rng() < lossP) continue;
        const seq = (60000 + i) & 0xffff;
        const at = 1000 + 20 * i + 20 + rng() * jitterMs;
        arrivals.push({ seq, ts: (4294000000 + i * SPF) >>> 0, atMs: at, payload: tonePacket(i) });
        delivered.add(i);
        if (rng() < dupP) arrivals.push({ seq, ts: (4294000000 + i * SPF) >>> 0, atMs: at + rng() * 200, payload: tonePacket(i) });
      }
      const jb = l16Buffer({ concealer: new Concealer(RATE_HZ) });
      const untilMs = 1000 + 20 * n + 1000;
      const out = new Int16Array(SPF);
      const sorted = [...arrivals].sort((a, b) => a.atMs - b.atMs);
      let k = 0;
      let frames = 0;
      let maxAbs = 0;
      for (let t = 5; t < untilMs; t += 20) {
        while (k < sorted.length && sorted[k]!.atMs <= t) {
          const a = sorted[k++]!;
          jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, false, 77);
        }
        out.fill(-32768);
        const kind = jb.pull(out, t);
        expect(kind).toBeGreaterThanOrEqual(FrameKind.NORMAL);
        expect(kind).toBeLessThanOrEqual(FrameKind.SILENCE);
        for (let s = 0; s < SPF; s++) maxAbs = Math.max(maxAbs, Math.abs(out[s]!));
        frames++;
        expect(jb.bufferedPackets).toBeLessThanOrEqual(64);
      }
      const st = jb.stats;
      expect(frames).toBe(st.framesEmitted);
      expect(st.packetsReceived).toBe(delivered.size);
      expect(st.packetsReceived + st.packetsLost).toBe(n);
      expect(st.packetsDuplicated).toBe(arrivals.length - delivered.size);
      // Concealment continues the tone without blowing up. The bound is loose: a
      // late packet played after a waiting concealment meets it out of phase,
      // and the Concealer's closing blend then adds the two.
      expect(maxAbs).toBeLessThanOrEqual(AMPLITUDE * 3);
      expect(st.concealedSamples).toBeGreaterThan(0);
      jb.destroy();
    });
  }
});

describe('JitterBuffer under clock drift', () => {
  for (const ppm of [100, -100]) {
    it(`${ppm > 0 ? '+' : ''}${ppm} ppm over 10 minutes: the delay stays near target`, () => {
      // Talkspurts with pauses (1.2 s of tone, 0.6 s near-silence): the pauses are where frames are dropped or inserted.
      const rng = mulberry32(ppm + 1000);
      const n = 30000;
      const ratio = 1 + ppm * 1e-6;
      const arrivals: Arrival[] = [];
      for (let i = 0; i < n; i++) {
        const talking = i % 90 < 60;
        arrivals.push({
          seq: i & 0xffff,
          ts: (i * SPF) >>> 0,
          atMs: 1000 + 20 * i * ratio + 30 + rng() * 20,
          payload: tonePacket(i, talking ? 1 : 0.001),
        });
      }
      const jb = l16Buffer({ concealer: new Concealer(RATE_HZ) });
      const sorted = arrivals;
      const out = new Int16Array(SPF);
      let k = 0;
      let worst = 0;
      for (let t = 5, f = 0; t < 1000 + 20 * n - 200; t += 20, f++) {
        while (k < sorted.length && sorted[k]!.atMs <= t) {
          const a = sorted[k++]!;
          jb.insert(a.seq, a.ts, a.atMs, a.payload, a.payload.length, false, 5);
        }
        jb.pull(out, t);
        if (f > 500) worst = Math.max(worst, Math.abs(jb.stats.currentDelayMs - jb.targetDelayMs));
      }
      // Uncorrected, 100 ppm is 60 ms over 10 minutes; corrected, the delay stays within a frame and a half of target.
      expect(worst).toBeLessThan(35);
      expect(jb.stats.packetsLate).toBeLessThan(n * 0.01);
      expect(jb.bufferedPackets).toBeLessThan(10);
      jb.destroy();
    });
  }
});
