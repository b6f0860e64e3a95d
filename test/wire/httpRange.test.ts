import { describe, expect, it } from 'vitest';
import { parseByteRange } from '../../src/wire/httpRange.ts';

/** RFC 9110 §14.1.2 byte ranges against a 1000-byte file. */
describe('parseByteRange', () => {
  const SIZE = 1000;
  it.each([
    ['bytes=0-99', { kind: 'range', start: 0, end: 99 }],
    ['bytes=900-', { kind: 'range', start: 900, end: 999 }],
    ['bytes=990-5000', { kind: 'range', start: 990, end: 999 }],
    ['bytes=-10', { kind: 'range', start: 990, end: 999 }],
    ['bytes=-5000', { kind: 'range', start: 0, end: 999 }],
    ['bytes = 5 - 9', { kind: 'range', start: 5, end: 9 }],
  ])('%s is one range', (header, want) => expect(parseByteRange(header, SIZE)).toEqual(want));

  it.each([['bytes=1000-'], ['bytes=5000-6000'], ['bytes=-0']])('%s cannot be satisfied (416)', (header) =>
    expect(parseByteRange(header, SIZE)).toEqual({ kind: 'unsatisfiable' }),
  );

  it.each([[undefined], [''], ['items=0-9'], ['bits=0-1,5-9']])('%s is no bytes Range: the whole file', (header) =>
    expect(parseByteRange(header, SIZE)).toEqual({ kind: 'none' }),
  );

  it.each([
    ['bytes=', 'expected bytes=first-last'],
    ['bytes=-', 'a first byte or a suffix'],
    ['bytes=abc-def', 'expected bytes=first-last'],
    ['bytes=9-5', 'the last byte (5) is before the first (9)'],
    ['bytes=0-1,5-9', 'several ranges'],
    ['bytes=0-1, 2000-3000', 'several ranges'],
    ['bytes=99999999999999999999-', 'too large'],
    ['bytes=-99999999999999999999', 'too large'],
    ['bytes=0x10-0x20', 'expected bytes=first-last'],
    ['bytes=٣-٩', 'expected bytes=first-last'],
    ['bytes=0-1\u0000', 'expected bytes=first-last'],
    [`bytes=0-${'9'.repeat(200)}`, 'at most 100'],
  ])('%s is refused (416): %s', (header, why) => {
    const r = parseByteRange(header, SIZE);
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.reason).toContain(why);
  });

  it('finds nothing to serve in an empty file but the whole (empty) file', () => {
    expect(parseByteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});
