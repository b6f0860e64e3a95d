import { describe, expect, it } from 'vitest';
import { FrameFlags, FrameRing } from '../../../src/frames/FrameRing.ts';
import { HEARD_FINAL_TIMEOUT_MS, Heard, HeardTracker } from '../../../src/actors/agent/HeardTracker.ts';

/** The agent's end of the heard ring, driven by hand: values, the CLEAR handshake, the time-out. */
function setup() {
  const ring = FrameRing.create(16, 1);
  const credited: Array<[number, number]> = [];
  const t = new HeardTracker(FrameRing.attach(ring.buffer), (from, to) => credited.push([from, to]));
  const heard = (value: number, flags = 0) => ring.write(new Int16Array(1), 0, value, 0, 8000, flags);
  return { t, heard, credited };
}

describe('HeardTracker', () => {
  it('follows the heard count and reports each advance once', () => {
    const { t, heard, credited } = setup();
    heard(3);
    heard(5);
    heard(4); // a stale value changes nothing
    expect(t.poll(0)).toBe(Heard.NONE);
    expect(t.heard).toBe(5);
    expect(credited).toEqual([[0, 3], [3, 5]]);
  });

  it('after a CLEAR: counts only frames before it, settles on the CLEAR-flagged value, skips the dropped frames', () => {
    const { t, heard, credited } = setup();
    heard(10);
    t.poll(0);
    t.clear(20, 0);
    expect(t.pending).toBe(true);
    heard(12);
    heard(25); // cannot count past the CLEAR while it is pending
    expect(t.poll(10)).toBe(Heard.NONE);
    expect(t.heard).toBe(20);
    heard(14, FrameFlags.CLEAR);
    expect(t.poll(20)).toBe(Heard.FINAL);
    expect(t.final).toBe(20);
    expect(t.pending).toBe(false);
    // Frames 20… are the new audio (the next frame reuses the CLEAR's number).
    heard(22);
    t.poll(30);
    expect(credited.at(-1)).toEqual([20, 22]);
  });

  it('settles on the latest value when the final one does not come in time; a late final changes nothing', () => {
    const { t, heard } = setup();
    t.clear(8, 0);
    heard(6);
    expect(t.poll(HEARD_FINAL_TIMEOUT_MS - 1)).toBe(Heard.NONE);
    expect(t.poll(HEARD_FINAL_TIMEOUT_MS)).toBe(Heard.TIMED_OUT);
    expect(t.final).toBe(6);
    expect(t.heard).toBe(8);
    heard(7, FrameFlags.CLEAR);
    expect(t.poll(HEARD_FINAL_TIMEOUT_MS + 20)).toBe(Heard.NONE);
    expect(t.heard).toBe(8);
  });

  it('a second CLEAR while one is pending settles the first with the count so far', () => {
    const { t, heard } = setup();
    t.clear(5, 0);
    heard(3);
    t.poll(1);
    expect(t.clear(9, 2)).toBe(true);
    expect(t.final).toBe(3);
    expect(t.heard).toBe(5);
    heard(7, FrameFlags.CLEAR);
    expect(t.poll(3)).toBe(Heard.FINAL);
    expect(t.final).toBe(7);
  });

  it('without a heard ring it times out', () => {
    const t = new HeardTracker(undefined);
    t.clear(4, 0);
    expect(t.poll(HEARD_FINAL_TIMEOUT_MS)).toBe(Heard.TIMED_OUT);
    expect(t.final).toBe(0);
  });
});
