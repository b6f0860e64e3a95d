import { describe, expect, it } from 'vitest';
import { PortAllocator } from '../../../src/legs/rtp/PortAllocator.ts';

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

  it('sets a pair held elsewhere aside, counts it, and puts it back in line once its recheck time comes', () => {
    let now = 1000;
    const a = new PortAllocator(30000, 30006, { recheckMs: 5000, now: () => now });
    expect(a.counts()).toEqual({ free: 4, inUse: 0, heldElsewhere: 0 });
    const held = a.allocate()!;
    a.setAside(held);
    a.setAside(held); // twice is harmless
    expect(a.release(held)).toBe(false);
    expect(a.counts()).toEqual({ free: 3, inUse: 0, heldElsewhere: 1 });
    expect(a.nextRecheckInMs()).toBe(5000);
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual([30002, 30004, 30006, undefined]);
    expect(a.counts()).toEqual({ free: 0, inUse: 3, heldElsewhere: 1 });
    now += 4999;
    expect(a.allocate()).toBeUndefined();
    now += 1;
    expect(a.counts()).toEqual({ free: 1, inUse: 3, heldElsewhere: 0 });
    expect(a.nextRecheckInMs()).toBeUndefined();
    expect(a.allocate()).toBe(held);
  });

  it('knows how long ago a pair was released', () => {
    let now = 0;
    const a = new PortAllocator(30000, 30002, { now: () => now });
    const p = a.allocate()!;
    expect(a.releasedAgoMs(p)).toBe(Infinity);
    a.release(p);
    now = 250;
    expect(a.releasedAgoMs(p)).toBe(250);
  });

  it('rejects odd, reversed or out-of-range ranges, naming them', () => {
    expect(() => new PortAllocator(10001, 10010)).toThrow(/even integers \[min:10001, max:10010\]/);
    expect(() => new PortAllocator(20000, 10000)).toThrow(/min ≤ max/);
    expect(() => new PortAllocator(80, 10000)).toThrow(/1024–65534/);
  });
});
