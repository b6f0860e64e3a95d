import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clip, quote, truncateUtf8, WS_CLOSE_REASON_MAX_BYTES } from '../../src/wire/text.ts';

describe('truncateUtf8', () => {
  it('cuts 70 × "é" (140 bytes) to a close frame reason, at a character boundary', () => {
    const cut = truncateUtf8('é'.repeat(70), WS_CLOSE_REASON_MAX_BYTES);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut).toBe('é'.repeat(60) + '…');
  });

  it('never splits a 4-byte character or a surrogate pair', () => {
    const cut = truncateUtf8('😀'.repeat(40), 123);
    expect(cut).toBe('😀'.repeat(30) + '…');
    expect(Buffer.byteLength(cut)).toBe(123);
  });

  it('leaves a string that fits as it is', () => {
    expect(truncateUtf8('call ended', 123)).toBe('call ended');
    expect(truncateUtf8('é'.repeat(61), 123)).toBe('é'.repeat(61));
  });

  it('property: the result fits, is a prefix of the input (before "…"), and is the input when the input fits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 0, max: 200 }), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
        const body = cut.endsWith('…') && !text.startsWith(cut) ? cut.slice(0, -1) : cut;
        expect(text.startsWith(body)).toBe(true);
        if (Buffer.byteLength(text) <= max) expect(cut).toBe(text);
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});

describe('quote and clip', () => {
  it('quotes as JSON, so a newline or a quote cannot forge a log line', () => {
    expect(quote('a"\nb')).toBe('"a\\"\\nb"');
    expect(quote(undefined)).toBe('undefined');
    expect(quote(10n)).toBe('10');
  });

  it('shortens long values to the given code points plus "…"', () => {
    expect(quote('é'.repeat(500), 20)).toBe('"' + 'é'.repeat(19) + '…');
    expect(clip('😀'.repeat(100), 10)).toBe('😀'.repeat(10) + '…');
    expect(clip('short')).toBe('short');
  });
});
