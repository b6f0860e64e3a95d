import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../../src/frames/PacketRing.ts';
import { InsertResult, JitterBuffer } from '../../../src/actors/jitter/JitterBuffer.ts';
import { maxPacketSamples, maxPayloadBytesPerSecond, PacketDecoder, type JitterCodec } from '../../../src/actors/jitter/PacketDecoder.ts';
import { arenaBytesFor, MIN_ARENA_BYTES, PacketStore, PutResult, STORE_CAPACITY } from '../../../src/actors/jitter/PacketStore.ts';

/** Packet `seq`'s payload of `length` bytes, distinct per (seq, length, salt). */
function payload(seq: number, length: number, salt = 0): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seq * 31 + i * 7 + salt * 13 + (i >> 8)) & 0xff;
  return b;
}

/** The bytes the store holds for `seq` (or null when it holds none). */
function read(store: PacketStore, seq: number): Uint8Array | null {
  const slot = store.find(seq);
  if (slot < 0) return null;
  return store.payloadOf(slot).slice(0, store.lengthOf(slot));
}

/** Whether `got` holds exactly `want`'s bytes (a plain loop: toEqual on thousands of arrays is slow). */
function same(got: Uint8Array | null, want: Uint8Array): boolean {
  if (got === null || got.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return false;
  return true;
}

const put = (store: PacketStore, seq: number, bytes: Uint8Array) => store.put(seq, seq * 160, seq * 20, false, bytes, bytes.length);

describe('PacketStore', () => {
  it('wraps round: a packet that does not fit before the end starts at 0, and the packets before it stay intact', () => {
    const store = new PacketStore(4000);
    const p = [0, 1, 2, 3, 4].map((s) => payload(s, 1000));
    for (let s = 0; s < 4; s++) expect(put(store, s, p[s]!)).toBe(PutResult.STORED);
    // Packet 0 played: its bytes are free, so packet 4 (at 0, the end being full) evicts nothing.
    expect(read(store, 0)).toEqual(p[0]);
    store.release(store.find(0));
    expect(put(store, 4, p[4]!)).toBe(PutResult.STORED);
    expect(store.evicted).toBe(0);
    expect(store.count).toBe(4);
    for (let s = 1; s <= 4; s++) expect(read(store, s)).toEqual(p[s]);
  });

  it('evicts the oldest held packet when the arena comes round to its bytes, and counts it', () => {
    const store = new PacketStore(4000);
    for (let s = 0; s < 4; s++) put(store, s, payload(s, 1000));
    expect(put(store, 4, payload(4, 600))).toBe(PutResult.STORED);
    expect(store.evicted).toBe(1);
    expect(store.find(0)).toBe(-1);
    expect(store.count).toBe(4);
    // The next 600 bytes start at 600: packet 1 (1000–2000) is not reached yet.
    put(store, 5, payload(5, 300));
    expect(store.evicted).toBe(1);
    put(store, 6, payload(6, 200));
    expect(store.evicted).toBe(2);
    expect(store.find(1)).toBe(-1);
    for (const s of [2, 3, 4, 5, 6]) expect(read(store, s)).toEqual(payload(s, s === 4 ? 600 : s === 5 ? 300 : s < 4 ? 1000 : 200));
  });

  it('stores a 1500-byte packet among small ones and reads every one back intact, across the wrap', () => {
    const store = new PacketStore(16384);
    const sizes = new Map<number, number>();
    for (let s = 0; s < 200; s++) {
      const n = s % 9 === 4 ? MAX_PAYLOAD_BYTES : 160;
      sizes.set(s, n);
      put(store, s, payload(s, n));
      // Play what is more than 20 packets old, as a playout would.
      if (s >= 20) store.dropBelow(s - 20);
      for (let q = Math.max(0, s - 20); q <= s; q++) expect(same(read(store, q), payload(q, sizes.get(q)!)), `packet ${q} after ${s}`).toBe(true);
    }
    expect(store.evicted).toBe(0);
  });

  it('keeps sequence order when packets arrive reordered across the wrap', () => {
    const store = new PacketStore(MIN_ARENA_BYTES);
    // 700-byte packets, four to the arena: 3, 1, 2 land at 0, 700, 1400; then 0 at 2100 and 5 at 0 (wrapped).
    for (const s of [3, 1, 2, 0]) put(store, s, payload(s, 700));
    store.release(store.find(3));
    put(store, 5, payload(5, 700));
    expect(store.evicted).toBe(0);
    const order: number[] = [];
    for (let slot = store.firstFrom(0); slot >= 0; slot = store.firstFrom(store.seqOf(slot) + 1)) {
      order.push(store.seqOf(slot));
      expect(read(store, store.seqOf(slot))).toEqual(payload(store.seqOf(slot), 700));
    }
    expect(order).toEqual([0, 1, 2, 5]);
  });

  it('refuses an arena too small for two MTU-sized packets', () => {
    expect(() => new PacketStore(MIN_ARENA_BYTES - 1)).toThrow(/at least 3000 bytes \[arenaBytes:2999\]/);
  });

  it('agrees with a Map of the packets put, but for evictions, which only take packets with an arena’s worth of bytes after them', () => {
    type Op = { kind: 'put'; ahead: number; length: number } | { kind: 'take' } | { kind: 'drop'; ahead: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), ahead: fc.integer({ min: 0, max: STORE_CAPACITY - 1 }), length: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: MAX_PAYLOAD_BYTES })) }) },
      { weight: 3, arbitrary: fc.constant({ kind: 'take' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), ahead: fc.integer({ min: 0, max: 8 }) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: MIN_ARENA_BYTES, max: 12000 }), fc.array(op, { maxLength: 300 }), (arenaBytes, ops) => {
        const store = new PacketStore(arenaBytes);
        // seq → bytes, and the payload bytes put since (its own included).
        const model = new Map<number, { bytes: Uint8Array; since: number }>();
        let base = 1000;
        let evicted = 0;
        let salt = 0;
        for (const o of ops) {
          if (o.kind === 'put') {
            const seq = base + o.ahead;
            const bytes = payload(seq, o.length, ++salt);
            const held = model.has(seq);
            const displaced = [...model.keys()].find((q) => q !== seq && q % STORE_CAPACITY === seq % STORE_CAPACITY);
            const r = store.put(seq, seq * 160, 0, false, bytes, bytes.length);
            if (held) {
              expect(r).toBe(PutResult.DUPLICATE);
              continue;
            }
            expect(r).toBe(displaced === undefined ? PutResult.STORED : PutResult.REPLACED);
            if (displaced !== undefined) model.delete(displaced);
            for (const v of model.values()) v.since += bytes.length;
            model.set(seq, { bytes, since: bytes.length });
          } else if (o.kind === 'take') {
            const slot = store.firstFrom(base);
            const want = [...model.keys()].filter((q) => q >= base).sort((a, b) => a - b)[0];
            expect(slot < 0 ? undefined : store.seqOf(slot)).toBe(want);
            if (slot >= 0) {
              expect(same(store.payloadOf(slot).subarray(0, store.lengthOf(slot)), model.get(want!)!.bytes)).toBe(true);
              store.release(slot);
              model.delete(want!);
              base = want! + 1;
            }
          } else {
            base += o.ahead;
            store.dropBelow(base);
            for (const q of [...model.keys()]) if (q < base) model.delete(q);
          }
          // Whatever the store lost besides was evicted, and only with an arena's worth put after it.
          for (const [q, v] of model) {
            const got = read(store, q);
            if (got === null) {
              expect(v.since + MAX_PAYLOAD_BYTES).toBeGreaterThan(arenaBytes);
              model.delete(q);
              evicted++;
            } else {
              expect(same(got, v.bytes), `packet ${q}`).toBe(true);
            }
          }
          expect(store.evicted).toBe(evicted);
          expect(store.count).toBe(model.size);
        }
      }),
      { numRuns: 150, seed: 12 },
    );
  });
});

describe('sizing from the stream', () => {
  it('takes 16 KB for narrowband and Opus, one second of L16, more for a longer maximum delay', () => {
    const arena = (codec: JitterCodec, rateHz: number, maxDelayMs = 200) => arenaBytesFor(maxPayloadBytesPerSecond(codec, rateHz), maxDelayMs);
    expect(arena('PCMU', 8000)).toBe(16384);
    expect(arena('G722', 16000)).toBe(16384);
    expect(arena('opus', 48000)).toBe(16384);
    expect(arena('L16', 16000)).toBe(32000);
    expect(arena('L16', 48000)).toBe(96000);
    expect(arena('PCMU', 8000, 2000)).toBe(32000);
  });

  it('decodes the largest payload of each codec whole into a buffer of the stream’s maxPacketSamples', () => {
    for (const [codec, rateHz, want] of [['PCMU', 8000, 1500], ['PCMA', 8000, 1500], ['G722', 16000, 3000], ['L16', 48000, 750]] as const) {
      const dec = new PacketDecoder(codec, rateHz);
      expect(dec.maxPacketSamples).toBe(maxPacketSamples(codec, rateHz));
      const out = new Int16Array(dec.maxPacketSamples);
      expect(dec.decode(payload(1, MAX_PAYLOAD_BYTES), MAX_PAYLOAD_BYTES, out)).toBe(want);
      dec.destroy();
    }
    expect(maxPacketSamples('opus', 16000)).toBe(1920); // 120 ms, RFC 6716 §3.2.1
  });

  it('counts packets evicted from a PCMU buffer as evicted and discarded, and plays the rest', () => {
    // 1500-byte PCMU packets (187.5 ms each) in a burst: the 16 KB arena holds ten of them.
    const jb = new JitterBuffer({ codec: 'PCMU', rateHz: 8000, minDelayMs: 20, maxDelayMs: 200, startDelayMs: 60 });
    for (let s = 0; s < 14; s++) expect(jb.insert(s, s * 1500, 1000, payload(s, 1500), 1500, false, 7)).not.toBe(InsertResult.INVALID);
    expect(jb.stats.packetsEvicted).toBe(4);
    expect(jb.stats.packetsDiscarded).toBe(4);
    expect(jb.bufferedPackets).toBe(10);
    jb.destroy();
  });
});
