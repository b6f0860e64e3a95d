import { describe, expect, it } from 'vitest';
import { PortAllocator } from '../../src/supervisor/PortAllocator.ts';

describe('PortAllocator', () => {
  it('hands out even RTP ports (RTCP = +1) from the range until it is exhausted', () => {
    const a = new PortAllocator(10000, 10006);
    expect(a.capacity).toBe(4);
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual([10000, 10002, 10004, 10006]);
    expect(a.allocate()).toBeUndefined();
    expect(a.inUse).toBe(4);
  });

  it('reuses a released pair only after the others', () => {
    const a = new PortAllocator(20000, 20004);
    const first = a.allocate()!;
    expect(a.release(first)).toBe(true);
    expect(a.release(first)).toBe(false);
    expect(a.release(12345)).toBe(false);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([20002, 20004, 20000]);
  });

  it('rejects odd, reversed or out-of-range ranges, naming them', () => {
    expect(() => new PortAllocator(10001, 10010)).toThrow(/even integers \[min:10001, max:10010\]/);
    expect(() => new PortAllocator(20000, 10000)).toThrow(/min ≤ max/);
    expect(() => new PortAllocator(80, 10000)).toThrow(/1024–65534/);
  });
});
