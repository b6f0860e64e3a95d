import { describe, expect, it } from 'vitest';
import { WasmBuffer } from '../../src/dsp/WasmBuffer.ts';
import { newDspInstance } from '../../src/dsp/wasm.ts';
import { mulberry32 } from '../helpers/prng.ts';

/** A private DSP instance and an int16 block of `length` in it, with canaries on both sides. */
function block(length: number): { core: ReturnType<typeof newDspInstance>; buf: WasmBuffer<Int16Array>; canaries: () => number[] } {
  const core = newDspInstance();
  const ptr = core.alloc(2 * (length + 2));
  const whole = WasmBuffer.i16(core.memory, ptr, length + 2);
  whole.array[0] = 0x7eef;
  whole.array[length + 1] = 0x7eef;
  const buf = WasmBuffer.i16(core.memory, ptr + 2, length);
  return { core, buf, canaries: () => [whole.array[0]!, whole.array[length + 1]!] };
}

describe('WasmBuffer', () => {
  it('copies a frame in and out in bulk and stays within its block', () => {
    const { buf, canaries } = block(160);
    const rnd = mulberry32(5);
    const frame = Int16Array.from({ length: 160 }, () => Math.floor(rnd() * 65536) - 32768);
    expect(buf.write(frame)).toBe(160);
    expect(Array.from(buf.array)).toEqual(Array.from(frame));
    const out = new Int16Array(200).fill(9);
    expect(buf.read(out)).toBe(160);
    expect(Array.from(out.subarray(0, 160))).toEqual(Array.from(frame));
    expect(out.subarray(160).every((v) => v === 9)).toBe(true);
    expect(canaries()).toEqual([0x7eef, 0x7eef]);
  });

  it('clamps every copy to the source, the destination and the block; non-positive and NaN counts copy nothing', () => {
    const { buf, canaries } = block(8);
    const long = Int16Array.from({ length: 12 }, (_, i) => 100 + i);
    // A source longer than the block: its first `length` elements, one by one.
    expect(buf.write(long)).toBe(8);
    expect(Array.from(buf.array)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(buf.write(long, 3)).toBe(3);
    expect(buf.write(Int16Array.of(1, 2), 5)).toBe(2);
    expect(Array.from(buf.array.subarray(0, 2))).toEqual([1, 2]);
    for (const bad of [0, -4, Number.NaN]) {
      expect(buf.write(long, bad)).toBe(0);
      expect(buf.read(new Int16Array(8), bad)).toBe(0);
    }
    const small = new Int16Array(5).fill(-1);
    expect(buf.read(small)).toBe(5);
    expect(Array.from(small)).toEqual([1, 2, 102, 103, 104]);
    const at = new Int16Array(6).fill(-1);
    expect(buf.read(at, 4, 3)).toBe(3);
    expect(Array.from(at)).toEqual([-1, -1, -1, 1, 2, 102]);
    expect(buf.read(at, 4, 6)).toBe(0);
    expect(canaries()).toEqual([0x7eef, 0x7eef]);
  });

  it('reads parts of every length, each the right prefix, again and again', () => {
    const { buf } = block(64);
    buf.write(Int16Array.from({ length: 64 }, (_, i) => i * 3));
    for (let round = 0; round < 3; round++) {
      for (const n of [64, 1, 17, 63, 17, 2]) {
        const out = new Int16Array(n);
        expect(buf.read(out, n)).toBe(n);
        expect(Array.from(out)).toEqual(Array.from({ length: n }, (_, i) => i * 3));
      }
    }
  });

  it('writes chunks of a long input from an offset', () => {
    const { buf } = block(16);
    const input = Int16Array.from({ length: 40 }, (_, i) => i - 20);
    expect(buf.writeChunk(input, 30, 16)).toBe(10);
    expect(Array.from(buf.array.subarray(0, 10))).toEqual(Array.from(input.subarray(30)));
    expect(buf.writeChunk(input, 0, 16)).toBe(16);
    expect(Array.from(buf.array)).toEqual(Array.from(input.subarray(0, 16)));
    expect(buf.writeChunk(input, 40, 16)).toBe(0);
    expect(buf.writeChunk(input, -1, 16)).toBe(0);
  });

  it('zeroes the tail of the block from an index', () => {
    const { buf, canaries } = block(10);
    buf.write(new Int16Array(10).fill(5));
    buf.clearFrom(7);
    expect(Array.from(buf.array)).toEqual([5, 5, 5, 5, 5, 5, 5, 0, 0, 0]);
    buf.clearFrom(10);
    buf.clearFrom(-3);
    expect(buf.array.every((v) => v === 0)).toBe(true);
    expect(canaries()).toEqual([0x7eef, 0x7eef]);
  });

  it('follows the memory when it grows: old views detach, new ones see the same bytes', () => {
    const { core, buf } = block(320);
    const frame = Int16Array.from({ length: 320 }, (_, i) => 7 * i - 1000);
    buf.write(frame);
    const before = buf.array;
    const partial = new Int16Array(100);
    buf.read(partial, 100); // a cached partial view, to be re-made after the growth
    const pages = core.memory.buffer.byteLength;
    core.alloc(4 * pages); // more than is free: the instance grows its memory
    expect(core.memory.buffer.byteLength).toBeGreaterThan(pages);
    expect(before.length).toBe(0); // detached
    expect(Array.from(buf.array)).toEqual(Array.from(frame));
    const out = new Int16Array(100);
    expect(buf.read(out, 100)).toBe(100);
    expect(Array.from(out)).toEqual(Array.from(frame.subarray(0, 100)));
    // A write straight after a growth lands in the new buffer.
    core.alloc(4 * core.memory.buffer.byteLength);
    expect(buf.write(frame.subarray(0, 50).map((v) => -v))).toBe(50);
    expect(buf.array[1]).toBe(-frame[1]!);
  });

  it('refuses an empty block or a misaligned or null address', () => {
    const core = newDspInstance();
    const ptr = core.alloc(64);
    expect(() => WasmBuffer.i16(core.memory, ptr, 0)).toThrow(/at least one element \[length:0\]/);
    expect(() => WasmBuffer.i16(core.memory, ptr + 1, 4)).toThrow(/bad WebAssembly address \[ptr:\d+, bytesPerElement:2\]/);
    expect(() => WasmBuffer.u8(core.memory, 0, 4)).toThrow(RangeError);
    expect(WasmBuffer.u8(core.memory, ptr + 1, 4).length).toBe(4);
  });
});
