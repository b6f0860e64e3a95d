import { describe, expect, it } from 'vitest';
import { ClientMarks, MAX_CLIENT_MARKS } from '../../../src/legs/stream/ClientMarks.ts';

/** Takes every mark due at `nowMs`. */
function dueAt(marks: ClientMarks, nowMs: number): string[] {
  const out: string[] = [];
  for (let n = marks.due(nowMs); n !== undefined; n = marks.due(nowMs)) out.push(n);
  return out;
}

describe('ClientMarks: a client mark is due when the audio before it has played', () => {
  it('frames sent at real-time pace: due one buffer delay after the last frame ends', () => {
    const m = new ClientMarks();
    for (let f = 0; f < 10; f++) m.frame(1000 + f * 20, f * 20, 20, 40);
    m.mark('a', 1180);
    // The first frame plays from 1040 (arrival + 40 ms delay); the tenth ends at 1240.
    expect(dueAt(m, 1239)).toEqual([]);
    expect(dueAt(m, 1240)).toEqual(['a']);
  });

  it('a burst plays at real-time pace, not on receipt', () => {
    const m = new ClientMarks();
    for (let f = 0; f < 50; f++) m.frame(0, f * 20, 20, 20);
    m.mark('burst', 1);
    expect(dueAt(m, 500)).toEqual([]);
    expect(dueAt(m, 1019)).toEqual([]);
    expect(dueAt(m, 1020)).toEqual(['burst']);
  });

  it('a mark with no audio before it is due at once; marks come back in order', () => {
    const m = new ClientMarks();
    m.mark('first', 5);
    m.frame(10, 0, 20, 0);
    m.mark('second', 10);
    expect(dueAt(m, 10)).toEqual(['first']);
    expect(dueAt(m, 30)).toEqual(['second']);
    expect(m.pending).toBe(0);
  });

  it('a sequence gap is concealed time; a long pause is not, nor a reordered frame', () => {
    const m = new ClientMarks();
    m.frame(0, 0, 20, 0);
    // Frames at 20 and 40 ms lost: the buffer conceals them, so the next frame ends at 80.
    m.frame(60, 60, 20, 0);
    m.mark('gap', 60);
    expect(dueAt(m, 79)).toEqual([]);
    expect(dueAt(m, 80)).toEqual(['gap']);
    // A 5 s pause on the client's clock: playout restarts from the arrival, not 5 s later.
    m.frame(200, 5060, 20, 10);
    // Reordered: 5040 comes after 5060, in the gap already counted; 5080 follows 5060 with no gap.
    m.frame(200, 5040, 20, 10);
    m.frame(200, 5080, 20, 10);
    m.mark('pause', 200);
    expect(dueAt(m, 249)).toEqual([]);
    expect(dueAt(m, 250)).toEqual(['pause']);
  });

  it('the header clock wrapping at 2^32 ms is no gap', () => {
    const m = new ClientMarks();
    m.frame(0, 2 ** 32 - 20, 20, 0);
    m.frame(20, 0, 20, 0);
    m.mark('wrap', 20);
    expect(dueAt(m, 40)).toEqual(['wrap']);
  });

  it('past MAX_CLIENT_MARKS waiting, the oldest is handed back at once and counted', () => {
    const m = new ClientMarks();
    m.frame(0, 0, 1000, 0);
    const evicted: string[] = [];
    for (let i = 0; i <= MAX_CLIENT_MARKS; i++) {
      const e = m.mark(`m${i}`, 0);
      if (e !== undefined) evicted.push(e);
    }
    expect(evicted).toEqual(['m0']);
    expect(m.overflows).toBe(1);
    expect(dueAt(m, 1000)).toHaveLength(MAX_CLIENT_MARKS);
  });
});
