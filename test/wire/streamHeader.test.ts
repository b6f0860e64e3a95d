import { describe, expect, it } from 'vitest';
import { parseStreamControl, STREAM_MAX_MARK_CHARS } from '../../src/wire/streamControl.ts';
import {
  STREAM_HEADER_CLOSE,
  StreamHeaderError,
  StreamHeaderView,
  parseStreamHeader,
  writeStreamHeader,
} from '../../src/wire/streamHeader.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('the raw stream header', () => {
  it('reads the fields big-endian, byte by byte', () => {
    const bytes = Uint8Array.from([
      0x01, 0x02, 0x03, 0x04, // timestamp 0x01020304 ms
      0xbe, 0xef, //             sequence 0xbeef
      0x04, //                   codec 4: G.722
      0x01, //                   flags: speech
      0xaa, 0xbb, //             the frame
    ]);
    const v = new StreamHeaderView();
    expect(parseStreamHeader(bytes, bytes.length, v)).toBe(StreamHeaderError.OK);
    expect(v).toMatchObject({ timestampMs: 0x01020304, sequence: 0xbeef, codec: 4, flags: 1, payloadOffset: 8, payloadLength: 2 });
    expect(v.speech).toBe(true);
  });

  it('write → parse → write round-trips, wrapping the timestamp at 2^32 and the sequence at 2^16', () => {
    const v = new StreamHeaderView();
    const a = new Uint8Array(9);
    const b = new Uint8Array(9);
    for (const [ts, seq, codec, flags] of [
      [0, 0, 1, 0],
      [0xffffffff, 0xffff, 5, 1],
      [2 ** 32 + 20, 0x10001, 2, 0],
    ] as const) {
      writeStreamHeader(a, ts, seq, codec, flags);
      expect(parseStreamHeader(a, a.length, v)).toBe(StreamHeaderError.OK);
      expect(v.timestampMs).toBe(ts >>> 0);
      expect(v.sequence).toBe(seq & 0xffff);
      writeStreamHeader(b, v.timestampMs, v.sequence, v.codec, v.flags);
      expect(b).toEqual(a);
    }
  });

  it('random bytes reach every error code, never throw, and each has a close code', () => {
    const rand = mulberry32(14);
    const seen = new Set<number>();
    const v = new StreamHeaderView();
    const buf = new Uint8Array(1600);
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rand() * 1600);
      for (let k = 0; k < Math.min(len, 8); k++) buf[k] = Math.floor(rand() * 256);
      // Mostly small codec bytes, so valid codecs come up as often as bad ones.
      if (len > 6 && rand() < 0.7) buf[6] = Math.floor(rand() * 7);
      seen.add(parseStreamHeader(buf, len, v));
    }
    expect([...seen].sort()).toEqual(Object.values(StreamHeaderError).sort());
    for (const e of Object.values(StreamHeaderError)) if (e !== 0) expect([1003, 1007, 1009]).toContain(STREAM_HEADER_CLOSE[e]);
  });
});

describe('the raw stream control messages', () => {
  it('takes start, mark and stop, and refuses each bad field with its reason', () => {
    expect(parseStreamControl('{"event":"start","codec":"g722","rateHz":16000,"agent":"echo","record":true,"custom":{"a":1}}')).toEqual({
      ok: true,
      msg: { event: 'start', codec: 'g722', rateHz: 16000, agent: 'echo', record: true, custom: { a: 1 } },
    });
    expect(parseStreamControl('{"event":"mark","name":"ünï ☎"}')).toEqual({ ok: true, msg: { event: 'mark', name: 'ünï ☎' } });
    expect(parseStreamControl('{"event":"stop"}')).toEqual({ ok: true, msg: { event: 'stop' } });
    const reasons: Array<[string, string]> = [
      ['{', 'bad-json'],
      ['[1]', 'not-an-object'],
      ['{"event":"hello"}', 'unknown-event'],
      ['{"event":"start","codec":"PCMU","rateHz":8000}', 'bad-start'],
      ['{"event":"start","codec":"g722","rateHz":8000}', 'bad-start'],
      ['{"event":"start","codec":"opus","rateHz":44100}', 'bad-start'],
      ['{"event":"start","codec":"opus","rateHz":48000.5}', 'bad-start'],
      ['{"event":"start","codec":"opus","rateHz":48000,"agent":""}', 'bad-start'],
      ['{"event":"start","codec":"opus","rateHz":48000,"custom":"x"}', 'bad-start'],
      ['{"event":"start","codec":"__proto__","rateHz":48000}', 'bad-start'],
      [`{"event":"mark","name":"${'m'.repeat(STREAM_MAX_MARK_CHARS + 1)}"}`, 'bad-mark'],
      ['x'.repeat(20_000), 'oversized'],
    ];
    for (const [text, reason] of reasons) expect(parseStreamControl(text), text.slice(0, 60)).toMatchObject({ ok: false, reason });
  });
});
