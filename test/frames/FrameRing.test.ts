import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FrameFlags, FrameMeta, FrameRing } from '../../src/frames/FrameRing.ts';
import {
  CACHE_LINE_BYTES,
  CONTROL_BYTES,
  Ctl,
  DEFAULT_MAX_SAMPLES,
  RING_MAGIC,
  RING_VERSION,
  SLOT_HEADER_BYTES,
  Slot,
  ringByteLength,
  slotByteOffset,
  slotBytes,
  slotPcmByteOffset,
} from '../../src/frames/layout.ts';
import { startWorker } from '../../src/supervisor/workerEntry.ts';
import { mulberry32 } from '../helpers/prng.ts';
import type { RingPeerData, RingPeerResult } from '../fixtures/ringPeer.worker.ts';

/** A frame of `n` seeded samples. */
function frameOf(n: number, seed: number): Int16Array {
  const rnd = mulberry32(seed);
  return Int16Array.from({ length: n }, () => Math.floor(rnd() * 65536) - 32768);
}

/** A buffer formatted by create() whose control words a test then edits. */
function formatted(slots: number, maxSamples: number): { sab: SharedArrayBuffer; u32: Uint32Array } {
  const sab = FrameRing.create(slots, maxSamples).buffer;
  return { sab, u32: new Uint32Array(sab) };
}

describe('layout', () => {
  it('puts producer, consumer and waiting words on separate cache lines', () => {
    const line = (word: number): number => Math.floor((word * 4) / CACHE_LINE_BYTES);
    expect(line(Ctl.WRITE_INDEX)).toBe(line(Ctl.OVERFLOWS));
    expect(line(Ctl.WRITE_INDEX)).toBe(line(Ctl.OVERSIZE));
    expect(line(Ctl.READ_INDEX)).toBe(line(Ctl.UNDERFLOWS));
    const lines = new Set([line(Ctl.MAGIC), line(Ctl.WRITE_INDEX), line(Ctl.READ_INDEX), line(Ctl.CONSUMER_WAITING)]);
    expect(lines.size).toBe(4);
    expect(line(Ctl.CONSUMER_WAITING)).toBe(line(Ctl.PRODUCER_WAITING));
  });

  it('gives every control word its own place inside the control block', () => {
    const words = Object.values(Ctl);
    expect(new Set(words).size).toBe(words.length);
    for (const w of words) expect(w * 4 + 4).toBeLessThanOrEqual(CONTROL_BYTES);
    expect(CONTROL_BYTES % CACHE_LINE_BYTES).toBe(0);
  });

  it('keeps header fields inside the header and the PCM after it', () => {
    const fields = Object.values(Slot);
    expect(new Set(fields).size).toBe(fields.length);
    for (const f of fields) expect(f * 4 + 4).toBeLessThanOrEqual(SLOT_HEADER_BYTES);
    expect(SLOT_HEADER_BYTES % 4).toBe(0);
  });

  it('aligns slots to cache lines without overlap, for any frame size', () => {
    for (const maxSamples of [1, 80, 160, 320, 480, 960, 1000, 5760]) {
      const stride = slotBytes(maxSamples);
      expect(stride % CACHE_LINE_BYTES).toBe(0);
      expect(stride).toBeGreaterThanOrEqual(SLOT_HEADER_BYTES + 2 * maxSamples);
      expect(stride - CACHE_LINE_BYTES).toBeLessThan(SLOT_HEADER_BYTES + 2 * maxSamples);
      for (const slot of [0, 1, 7]) {
        expect(slotByteOffset(slot, maxSamples) % CACHE_LINE_BYTES).toBe(0);
        expect(slotPcmByteOffset(slot, maxSamples) % 32).toBe(0);
        // The last PCM byte of a slot comes before the next slot's header.
        expect(slotPcmByteOffset(slot, maxSamples) + 2 * maxSamples).toBeLessThanOrEqual(slotByteOffset(slot + 1, maxSamples));
      }
      expect(slotByteOffset(0, maxSamples)).toBe(CONTROL_BYTES);
      expect(ringByteLength(8, maxSamples)).toBe(slotByteOffset(8, maxSamples));
    }
  });
});

describe('FrameRing set-up', () => {
  it('creates a formatted buffer that another FrameRing attaches to', () => {
    const ring = FrameRing.create(16, 320);
    expect(ring.buffer.byteLength).toBe(FrameRing.byteLength(16, 320));
    expect(ring.slots).toBe(16);
    expect(ring.maxSamples).toBe(320);
    const u32 = new Uint32Array(ring.buffer);
    expect(u32[Ctl.MAGIC]).toBe(RING_MAGIC);
    expect(u32[Ctl.VERSION]).toBe(RING_VERSION);
    const other = FrameRing.attach(ring.buffer);
    expect([other.slots, other.maxSamples]).toEqual([16, 320]);
    expect(FrameRing.create(4).maxSamples).toBe(DEFAULT_MAX_SAMPLES);
  });

  it('refuses geometries it cannot index', () => {
    expect(() => FrameRing.create(12)).toThrow(/power of two.*slots:12/);
    expect(() => FrameRing.create(1)).toThrow(RangeError);
    expect(() => FrameRing.create(1 << 17)).toThrow(RangeError);
    expect(() => FrameRing.create(8, 0)).toThrow(/maxSamples:0/);
    expect(() => FrameRing.create(8, 1.5)).toThrow(RangeError);
    expect(() => FrameRing.byteLength(8, 100_000)).toThrow(RangeError);
  });

  it('names the mismatch when attaching to a buffer that is not a ring of this build', () => {
    expect(() => FrameRing.attach(new ArrayBuffer(1024) as unknown as SharedArrayBuffer)).toThrow(TypeError);
    expect(() => FrameRing.attach(new SharedArrayBuffer(64))).toThrow(/shorter than the control block \[bytes:64/);
    expect(() => FrameRing.attach(new SharedArrayBuffer(4096))).toThrow(/bad magic \[expected:0x52464253, got:0x00000000\]/);

    const cases: Array<[string, (u32: Uint32Array) => void, RegExp]> = [
      ['version', (u) => (u[Ctl.VERSION] = RING_VERSION + 1), new RegExp(`unsupported version \\[expected:${RING_VERSION}, got:${RING_VERSION + 1}\\]`)],
      ['slots', (u) => (u[Ctl.SLOT_COUNT] = 6), /power of two .*slots:6/],
      ['maxSamples', (u) => (u[Ctl.MAX_SAMPLES] = 0), /maxSamples:0/],
      ['stride', (u) => (u[Ctl.SLOT_BYTES] = 64), /slot size mismatch \[expected:384, got:64\]/],
      ['size', (u) => (u[Ctl.SLOT_COUNT] = 4), /does not match its geometry \[bytes:3328, expected:1792/],
      ['indices', (u) => (u[Ctl.WRITE_INDEX] = 9), /more frames than slots \[frames:9, slots:8\]/],
    ];
    for (const [, edit, message] of cases) {
      const { sab, u32 } = formatted(8, 160);
      edit(u32);
      expect(() => FrameRing.attach(sab)).toThrow(RangeError);
      expect(() => FrameRing.attach(sab)).toThrow(message);
    }
  });
});

describe('FrameRing on one thread', () => {
  it('carries header and samples intact, filling a reused FrameMeta', () => {
    const ring = FrameRing.create(4, 960);
    const meta = new FrameMeta();
    const out = new Int16Array(960);
    for (const [n, seed] of [[960, 1], [160, 2], [320, 3], [160, 4], [0, 5], [960, 6]] as const) {
      const frame = frameOf(n, seed);
      const flags = FrameFlags.SPEECH | FrameFlags.CONCEALED;
      expect(ring.write(frame, n, 0xfffffff0 + seed, 0xffffffff, 48000, flags)).toBe(true);
      expect(ring.read(out, meta)).toBe(true);
      expect(meta).toEqual({ sequence: 0xfffffff0 + seed, timestamp: 0xffffffff, rateHz: 48000, sampleCount: n, flags, arrivalMs: 0, byteLength: 0, source: 0 });
      expect(out.subarray(0, n)).toEqual(frame);
    }
  });

  it('stores header numbers modulo 2^32 like the u32 fields they are', () => {
    const ring = FrameRing.create(2, 8);
    const meta = new FrameMeta();
    ring.write(new Int16Array(8), 8, -1, 2 ** 32 + 5, 16000, FrameFlags.SILENCE);
    ring.read(new Int16Array(8), meta);
    expect([meta.sequence, meta.timestamp]).toEqual([0xffffffff, 5]);
  });

  it('writes only sampleCount samples and leaves the rest of the caller\'s array alone', () => {
    const ring = FrameRing.create(2, 960);
    const meta = new FrameMeta();
    // Canaries after the frame in the output array must survive the read.
    const out = new Int16Array(960).fill(0x5a5a);
    const source = frameOf(480, 9);
    expect(ring.write(source, 160, 1, 0, 8000, 0)).toBe(true);
    expect(ring.read(out, meta)).toBe(true);
    expect(meta.sampleCount).toBe(160);
    expect(out.subarray(0, 160)).toEqual(source.subarray(0, 160));
    expect(out.subarray(160).every((v) => v === 0x5a5a)).toBe(true);
  });

  it('takes a source longer than a slot when the count fits', () => {
    const ring = FrameRing.create(2, 160);
    const source = frameOf(2000, 10);
    const out = new Int16Array(160);
    expect(ring.write(source, 160, 1, 0, 8000, 0)).toBe(true);
    expect(ring.read(out, new FrameMeta())).toBe(true);
    expect(out).toEqual(source.subarray(0, 160));
  });

  it('copies what fits into a short output and still reports the frame\'s length', () => {
    const ring = FrameRing.create(2, 320);
    const source = frameOf(320, 11);
    const meta = new FrameMeta();
    const out = new Int16Array(100);
    ring.write(source, 320, 1, 0, 16000, 0);
    expect(ring.read(out, meta)).toBe(true);
    expect(meta.sampleCount).toBe(320);
    expect(out).toEqual(source.subarray(0, 100));
    expect(ring.available()).toBe(0);
  });

  it('carries frames whose length changes every time (packets), and steady ones after a change, intact', () => {
    const ring = FrameRing.create(8, 400);
    const meta = new FrameMeta();
    const out = new Int16Array(400);
    const lengths = [...Array.from({ length: 60 }, (_, i) => 1 + ((i * 37) % 400)), ...Array.from({ length: 40 }, () => 80), ...Array.from({ length: 40 }, () => 160)];
    lengths.forEach((n, k) => {
      const frame = Int16Array.from({ length: n }, (_, i) => (k * 1000 + i) % 32768);
      expect(ring.write(frame, n, k, 0, 8000, 0)).toBe(true);
      out.fill(-1);
      expect(ring.read(out, meta)).toBe(true);
      expect(meta.sampleCount).toBe(n);
      expect(out.subarray(0, n)).toEqual(frame);
      if (n < 400) expect(out[n]).toBe(-1);
    });
  });

  it('counts overflows when full and never overwrites an unread frame', () => {
    const ring = FrameRing.create(4, 16);
    for (let s = 0; s < 4; s++) expect(ring.write(new Int16Array(16).fill(s), 16, s, 0, 8000, 0)).toBe(true);
    expect(ring.space()).toBe(0);
    for (let s = 4; s < 7; s++) expect(ring.write(new Int16Array(16).fill(s), 16, s, 0, 8000, 0)).toBe(false);
    expect(ring.overflows).toBe(3);
    const out = new Int16Array(16);
    const meta = new FrameMeta();
    for (let s = 0; s < 4; s++) {
      expect(ring.read(out, meta)).toBe(true);
      expect([meta.sequence, out[0], out[15]]).toEqual([s, s, s]);
    }
  });

  it('counts underflows when empty, without throwing', () => {
    const ring = FrameRing.create(4, 16);
    const out = new Int16Array(16).fill(7);
    const meta = new FrameMeta();
    meta.sequence = 42;
    expect(ring.read(out, meta)).toBe(false);
    expect(ring.read(out, meta)).toBe(false);
    expect(ring.underflows).toBe(2);
    expect(meta.sequence).toBe(42);
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('rejects and counts frames whose sample count does not fit, never clipping them', () => {
    const ring = FrameRing.create(4, 160);
    const big = new Int16Array(400);
    expect(ring.write(big, 161, 1, 0, 8000, 0)).toBe(false); // longer than a slot
    expect(ring.write(big.subarray(0, 100), 120, 2, 0, 8000, 0)).toBe(false); // longer than the source
    expect(ring.write(big, -1, 3, 0, 8000, 0)).toBe(false);
    expect(ring.write(big, Number.NaN, 4, 0, 8000, 0)).toBe(false);
    expect(ring.write(big, 10.5, 5, 0, 8000, 0)).toBe(false);
    expect(ring.oversize).toBe(5);
    expect(ring.overflows).toBe(0);
    expect(ring.available()).toBe(0);
    expect(ring.write(big, 160, 6, 0, 8000, 0)).toBe(true);
  });

  it('peeks at the next header without consuming it or counting an empty peek', () => {
    const ring = FrameRing.create(2, 8);
    const meta = new FrameMeta();
    expect(ring.peek(meta)).toBe(false);
    expect(ring.underflows).toBe(0);
    ring.write(new Int16Array(8), 4, 77, 1, 8000, FrameFlags.DISCONTINUITY);
    expect(ring.peek(meta)).toBe(true);
    expect([meta.sequence, meta.sampleCount, meta.flags]).toEqual([77, 4, FrameFlags.DISCONTINUITY]);
    expect(ring.available()).toBe(1);
  });

  it('zeroes its counters on request', () => {
    const ring = FrameRing.create(2, 8);
    const f = new Int16Array(8);
    ring.write(f, 8, 0, 0, 0, 0);
    ring.write(f, 8, 0, 0, 0, 0);
    ring.write(f, 8, 0, 0, 0, 0);
    ring.write(f, 9, 0, 0, 0, 0);
    ring.read(f, new FrameMeta());
    ring.read(f, new FrameMeta());
    ring.read(f, new FrameMeta());
    expect([ring.overflows, ring.oversize, ring.underflows]).toEqual([1, 1, 1]);
    ring.resetCounters();
    expect([ring.overflows, ring.oversize, ring.underflows]).toEqual([0, 0, 0]);
  });

  it('keeps order, fullness and emptiness across the 2^32 wrap of its indices', () => {
    const { sab, u32 } = formatted(8, 4);
    u32[Ctl.WRITE_INDEX] = 0xfffffffa;
    u32[Ctl.READ_INDEX] = 0xfffffffa;
    const producer = FrameRing.attach(sab);
    const consumer = FrameRing.attach(sab);
    const out = new Int16Array(4);
    const meta = new FrameMeta();
    const rnd = mulberry32(12);
    let written = 0;
    let read = 0;
    for (let step = 0; step < 200; step++) {
      const burst = Math.floor(rnd() * 10);
      for (let i = 0; i < burst; i++) {
        const ok = producer.write(new Int16Array(4).fill(written), 4, written, 0, 8000, 0);
        expect(ok).toBe(written - read < 8);
        if (ok) written++;
      }
      expect(consumer.available()).toBe(written - read);
      const take = Math.floor(rnd() * 10);
      for (let i = 0; i < take; i++) {
        const ok = consumer.read(out, meta);
        expect(ok).toBe(read < written);
        if (!ok) continue;
        expect([meta.sequence, out[3]]).toEqual([read, read]);
        read++;
      }
    }
    expect(written).toBeGreaterThan(20);
    expect(u32[Ctl.WRITE_INDEX]).toBe((0xfffffffa + written) >>> 0);
    expect(u32[Ctl.WRITE_INDEX]).toBeLessThan(0xfffffffa); // it did wrap
  });

  it('returns from its waits at once when there is something to do, and times out otherwise', async () => {
    const ring = FrameRing.create(2, 8);
    const f = new Int16Array(8);
    expect(ring.waitSync(5)).toBe('timed-out');
    expect(await ring.waitForData(5)).toBe('timed-out');
    expect(ring.waitSpaceSync(0)).toBe('ok');
    ring.write(f, 8, 0, 0, 0, 0);
    ring.write(f, 8, 0, 0, 0, 0);
    expect(ring.waitSync(1000)).toBe('ok');
    expect(await ring.waitForData(1000)).toBe('ok');
    expect(ring.waitSpaceSync(5)).toBe('timed-out');
    // Waits leave no flag behind that would make the other side notify forever.
    const ctl = new Int32Array(ring.buffer);
    expect([ctl[Ctl.CONSUMER_WAITING], ctl[Ctl.PRODUCER_WAITING]]).toEqual([0, 0]);
  });
});

function run(worker: Worker): Promise<RingPeerResult> {
  return new Promise((resolve, reject) => {
    worker.once('message', (m: RingPeerResult) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`ring peer exited before reporting [code:${code}]`)));
  });
}

async function across(
  ring: FrameRing,
  common: Omit<RingPeerData, 'role' | 'sab' | 'pauseEvery' | 'pauseMs' | 'wait'>,
  producer: Pick<RingPeerData, 'pauseEvery' | 'pauseMs'>,
  consumer: Pick<RingPeerData, 'pauseEvery' | 'pauseMs' | 'wait'>,
): Promise<{ producer: RingPeerResult; consumer: RingPeerResult }> {
  const base = { ...common, sab: ring.buffer, wait: 'sync' as const };
  const c = startWorker(import.meta.url, '../fixtures/ringPeer.worker', {
    workerData: { ...base, ...consumer, role: 'consumer' } satisfies RingPeerData,
  });
  const p = startWorker(import.meta.url, '../fixtures/ringPeer.worker', {
    workerData: { ...base, ...producer, role: 'producer' } satisfies RingPeerData,
  });
  try {
    const [pr, cr] = await Promise.all([run(p), run(c)]);
    return { producer: pr, consumer: cr };
  } finally {
    await Promise.all([p.terminate(), c.terminate()]);
  }
}

describe('FrameRing across real worker threads', () => {
  it('moves two million frames from a faster producer with no loss, reorder or tear', async () => {
    const frames = 2_000_000;
    const { sab, u32 } = formatted(32, 160);
    // Start the indices 1M frames short of 2^32 so the run crosses the wrap.
    u32[Ctl.WRITE_INDEX] = u32[Ctl.READ_INDEX] = 2 ** 32 - 1_000_000;
    const ring = FrameRing.attach(sab);
    const t0 = performance.now();
    // The consumer naps 1 ms every 100k frames: the ring fills, the producer
    // is refused, sleeps for space and retries the same frame.
    const r = await across(
      ring,
      { frames, seed: 0x5eed, firstSequence: 0xffff0000 },
      { pauseEvery: 0, pauseMs: 0 },
      { pauseEvery: 100_000, pauseMs: 1, wait: 'sync' },
    );
    const ms = performance.now() - t0;
    console.log(`2M frames, producer faster: ${ms.toFixed(0)} ms, producer refused ${r.producer.misses}×, consumer missed ${r.consumer.misses}×`);
    expect(r.consumer.error).toBeUndefined();
    expect(r.producer.error).toBeUndefined();
    expect(r.consumer.frames).toBe(frames);
    expect(r.producer.misses).toBeGreaterThan(0);
    expect(ring.overflows).toBe(r.producer.misses);
    expect(ring.underflows).toBe(r.consumer.misses);
    expect(ring.oversize).toBe(0);
    expect(ring.available()).toBe(0);
    expect(u32[Ctl.WRITE_INDEX]).toBe(1_000_000);
  });

  it('moves frames to a faster consumer that sleeps on an empty ring, with no loss', async () => {
    const frames = 2_000_000;
    const ring = FrameRing.create(64, 160);
    const t0 = performance.now();
    // The producer naps 0.2 ms every 500 frames; the consumer drains the ring,
    // is refused, and blocks in waitSync until the producer's next write.
    const r = await across(
      ring,
      { frames, seed: 0xc0ffee, firstSequence: 0 },
      { pauseEvery: 500, pauseMs: 0.2 },
      { pauseEvery: 0, pauseMs: 0, wait: 'sync' },
    );
    const ms = performance.now() - t0;
    console.log(`2M frames, consumer faster: ${ms.toFixed(0)} ms, consumer missed ${r.consumer.misses}×, producer refused ${r.producer.misses}×`);
    expect(r.consumer.error).toBeUndefined();
    expect(r.consumer.frames).toBe(frames);
    expect(r.consumer.misses).toBeGreaterThan(0);
    expect(ring.underflows).toBe(r.consumer.misses);
    expect(ring.overflows).toBe(r.producer.misses);
  });

  it('wakes an event-loop consumer through waitForData', async () => {
    const frames = 200_000;
    const ring = FrameRing.create(16, 160);
    const r = await across(
      ring,
      { frames, seed: 77, firstSequence: 123 },
      { pauseEvery: 1000, pauseMs: 0.5 },
      { pauseEvery: 0, pauseMs: 0, wait: 'async' },
    );
    expect(r.consumer.error).toBeUndefined();
    expect(r.consumer.frames).toBe(frames);
    expect(r.consumer.waits).toBeGreaterThan(0);
  });
});

describe('FrameRing stamp words', () => {
  it('carries arrival, byte length and source on stamped rings, each in its own word', () => {
    const ring = FrameRing.create(4, 8);
    const meta = new FrameMeta();
    const out = new Int16Array(8);
    for (let k = 0; k < 10; k++) {
      const frame = frameOf(4, 20 + k);
      expect(ring.writeStamped(frame, 4, 100 + k, 0xfffffff0 + k, 0, FrameFlags.DISCONTINUITY, 0xffffff00 + k, 7, 0xdeadbe00 + k)).toBe(true);
      expect(ring.readStamped(out, meta)).toBe(true);
      expect(meta).toEqual({
        sequence: 100 + k,
        timestamp: (0xfffffff0 + k) >>> 0,
        rateHz: 0,
        sampleCount: 4,
        flags: FrameFlags.DISCONTINUITY,
        arrivalMs: 0xffffff00 + k,
        byteLength: 7,
        source: 0xdeadbe00 + k,
      });
      expect(out.subarray(0, 4)).toEqual(frame);
    }
    // In the slot, where the other thread looks: each word where layout.ts puts it.
    const u32 = new Uint32Array(ring.buffer);
    const base = slotByteOffset(9 & 3, 8) / 4;
    expect([u32[base + Slot.RATE_HZ], u32[base + Slot.ARRIVAL_MS], u32[base + Slot.BYTE_LENGTH], u32[base + Slot.SOURCE]]).toEqual([
      0,
      0xffffff09,
      7,
      0xdeadbe09,
    ]);
  });

  it('leaves the stamp words to the stamped calls: PCM rings never write them', () => {
    const ring = FrameRing.create(2, 8);
    const meta = new FrameMeta();
    for (let k = 0; k < 4; k++) {
      expect(ring.write(new Int16Array(8), 8, k, 0, 8000, 0)).toBe(true);
      expect(ring.readStamped(new Int16Array(8), meta)).toBe(true);
      expect([meta.arrivalMs, meta.byteLength, meta.source]).toEqual([0, 0, 0]);
    }
    // `read` does not touch them in `meta` either.
    meta.arrivalMs = 5;
    ring.writeStamped(new Int16Array(8), 8, 9, 0, 0, 0, 1, 2, 3);
    expect(ring.read(new Int16Array(8), meta)).toBe(true);
    expect([meta.sequence, meta.arrivalMs]).toEqual([9, 5]);
  });

  it('counts a stamped write to a full ring and leaves the unread slots alone', () => {
    const ring = FrameRing.create(2, 4);
    const f = new Int16Array(4);
    expect(ring.writeStamped(f, 4, 1, 0, 0, 0, 11, 8, 111)).toBe(true);
    expect(ring.writeStamped(f, 4, 2, 0, 0, 0, 22, 8, 222)).toBe(true);
    expect(ring.writeStamped(f, 4, 3, 0, 0, 0, 33, 8, 333)).toBe(false);
    expect(ring.writeStamped(f, 5, 4, 0, 0, 0, 44, 8, 444)).toBe(false);
    expect([ring.overflows, ring.oversize]).toEqual([1, 1]);
    const meta = new FrameMeta();
    expect(ring.readStamped(f, meta)).toBe(true);
    expect([meta.sequence, meta.arrivalMs, meta.source]).toEqual([1, 11, 111]);
    expect(ring.readStamped(f, meta)).toBe(true);
    expect([meta.sequence, meta.arrivalMs, meta.source]).toEqual([2, 22, 222]);
    // Empty: counted as `read` counts it, `meta` untouched.
    expect(ring.readStamped(f, meta)).toBe(false);
    expect(ring.underflows).toBe(1);
    expect([meta.sequence, meta.arrivalMs, meta.source]).toEqual([2, 22, 222]);
  });
});
