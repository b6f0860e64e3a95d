import { describe, expect, it } from 'vitest';
import {
  BASE64_INVALID,
  BASE64_TOO_LARGE,
  base64Decode,
  base64Encode,
  buildTwilioClear,
  buildTwilioMark,
  buildTwilioMedia,
  parseTwilioInbound,
  parseTwilioOutbound,
} from '../../src/wire/twilio.ts';
import { mulberry32 } from '../helpers/prng.ts';

// Message shapes as Twilio's "Media Streams - WebSocket Messages" page shows them.
const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const CONNECTED = { event: 'connected', protocol: 'Call', version: '1.0.0' };
const START = {
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    streamSid: SID,
    callSid: 'CA0123456789abcdef0123456789abcdef',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    customParameters: { FirstName: 'Jane', agent: 'echo' },
  },
  streamSid: SID,
};
// 160 µ-law bytes of 0xFF (silence) in base64.
const SILENT_PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');
const MEDIA = {
  event: 'media',
  sequenceNumber: '3',
  media: { track: 'inbound', chunk: '1', timestamp: '5', payload: SILENT_PAYLOAD },
  streamSid: SID,
};
const DTMF = { event: 'dtmf', streamSid: SID, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } };
const MARK = { event: 'mark', sequenceNumber: '4', streamSid: SID, mark: { name: 'my label' } };
const STOP = {
  event: 'stop',
  sequenceNumber: '5',
  streamSid: SID,
  stop: { accountSid: 'AC0123456789abcdef0123456789abcdef', callSid: 'CA0123456789abcdef0123456789abcdef' },
};

const payload = new Uint8Array(400);
const parse = (m: unknown) => parseTwilioInbound(typeof m === 'string' ? m : JSON.stringify(m), payload);

describe('base64', () => {
  it('round-trips random bytes of every length against Node', () => {
    const rnd = mulberry32(7);
    const out = new Uint8Array(300);
    for (let len = 0; len <= 300; len++) {
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = Math.floor(rnd() * 256);
      const text = base64Encode(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(base64Decode(text, out)).toBe(len);
      expect(Buffer.from(out.subarray(0, len)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('encodes a prefix when given a count', () => {
    expect(base64Encode(new Uint8Array([1, 2, 3, 4]), 2)).toBe('AQI=');
  });

  it.each([
    ['abc', 'length not a multiple of 4'],
    ['ab!d', 'character outside the alphabet'],
    ['ab-_', 'the URL-safe alphabet'],
    ['=abc', 'padding at the start'],
    ['ab=c', 'padding in the middle'],
    ['a===', 'three pad characters'],
    ['QR==', 'non-zero bits under the padding'],
    ['QUJ=', 'non-zero bits under one pad'],
    ['éééé', 'non-ASCII'],
    ['AAAA AAA', 'whitespace'],
  ])('refuses %j (%s) without writing', (text) => {
    const out = new Uint8Array(8).fill(0xaa);
    expect(base64Decode(text, out)).toBe(BASE64_INVALID);
  });

  it('reports a payload larger than the buffer and leaves it untouched', () => {
    const out = new Uint8Array(2).fill(7);
    expect(base64Decode('AAAA', out)).toBe(BASE64_TOO_LARGE);
    expect([...out]).toEqual([7, 7]);
  });
});

describe('parseTwilioInbound', () => {
  it('parses connected, start, media, dtmf, mark and stop with numbers from strings', () => {
    expect(parse(CONNECTED)).toEqual({ ok: true, msg: { event: 'connected', protocol: 'Call', version: '1.0.0' } });
    const start = parse(START);
    expect(start).toEqual({
      ok: true,
      msg: {
        event: 'start',
        sequenceNumber: 1,
        streamSid: SID,
        accountSid: START.start.accountSid,
        callSid: START.start.callSid,
        tracks: ['inbound'],
        customParameters: { FirstName: 'Jane', agent: 'echo' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    payload.fill(0);
    expect(parse(MEDIA)).toEqual({
      ok: true,
      msg: { event: 'media', sequenceNumber: 3, streamSid: SID, track: 'inbound', chunk: 1, timestampMs: 5, payloadBytes: 160 },
    });
    expect(payload.subarray(0, 160).every((b) => b === 0xff)).toBe(true);
    expect(payload[160]).toBe(0);
    expect(parse(DTMF)).toEqual({
      ok: true,
      msg: { event: 'dtmf', sequenceNumber: 5, streamSid: SID, track: 'inbound_track', digit: '1' },
    });
    expect(parse(MARK)).toEqual({ ok: true, msg: { event: 'mark', sequenceNumber: 4, streamSid: SID, name: 'my label' } });
    expect(parse(STOP)).toEqual({
      ok: true,
      msg: { event: 'stop', sequenceNumber: 5, streamSid: SID, accountSid: STOP.stop.accountSid, callSid: STOP.stop.callSid },
    });
  });

  it('treats absent customParameters as none', () => {
    const { customParameters: _, ...start } = START.start;
    const r = parse({ ...START, start });
    expect(r.ok && r.msg.event === 'start' && r.msg.customParameters).toEqual({});
  });

  const failures: Array<[string, unknown, string, RegExp]> = [
    ['bad JSON', '{"event":"media",', 'bad-json', /JSON|Unexpected|Expected/],
    ['an array', '[1,2]', 'not-object', /not a JSON object/],
    ['null', 'null', 'not-object', /not a JSON object/],
    ['no event', { streamSid: SID }, 'missing-field', /event/],
    ['a numeric event', { event: 7 }, 'bad-field', /event/],
    ['an unknown event', { event: 'hello' }, 'unknown-event', /hello/],
    ['an outbound-only event', { event: 'clear', streamSid: SID }, 'unknown-event', /clear/],
    ['media without payload', { ...MEDIA, media: { ...MEDIA.media, payload: undefined } }, 'missing-field', /media\.payload/],
    ['media without media', { ...MEDIA, media: undefined }, 'missing-field', /missing media/],
    ['media as a string', { ...MEDIA, media: 'x' }, 'bad-field', /media is not an object/],
    ['a non-numeric sequenceNumber', { ...MEDIA, sequenceNumber: 'abc' }, 'bad-field', /sequenceNumber/],
    ['a negative chunk', { ...MEDIA, media: { ...MEDIA.media, chunk: -1 } }, 'bad-field', /media\.chunk/],
    ['bad base64', { ...MEDIA, media: { ...MEDIA.media, payload: '!!!!' } }, 'bad-base64', /base64/],
    ['a payload over the buffer', { ...MEDIA, media: { ...MEDIA.media, payload: Buffer.alloc(401).toString('base64') } }, 'oversized', /more than 400/],
    ['A-law media', { ...START, start: { ...START.start, mediaFormat: { encoding: 'audio/x-alaw', sampleRate: 8000, channels: 1 } } }, 'bad-field', /mediaFormat/],
    ['tracks not an array', { ...START, start: { ...START.start, tracks: 'inbound' } }, 'bad-field', /tracks/],
    ['non-string parameters', { ...START, start: { ...START.start, customParameters: { a: 1 } } }, 'bad-field', /customParameters/],
    ['a DTMF that is no key', { ...DTMF, dtmf: { track: 'inbound_track', digit: '12' } }, 'bad-field', /digit/],
    ['a mark without name', { ...MARK, mark: {} }, 'missing-field', /mark\.name/],
  ];
  it.each(failures)('refuses %s with a reason', (_what, message, reason, detail) => {
    const r = parse(message);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail).toMatch(detail);
    }
  });

  it('refuses an oversized message before parsing it', () => {
    const text = JSON.stringify({ ...MEDIA, media: { ...MEDIA.media, payload: 'A'.repeat(70_000) } });
    const r = parseTwilioInbound(text, payload);
    expect(r).toMatchObject({ ok: false, reason: 'oversized' });
    expect(parseTwilioInbound(JSON.stringify(CONNECTED), payload, 10)).toMatchObject({ ok: false, reason: 'oversized' });
  });

  it('never throws on random garbage', () => {
    const rnd = mulberry32(99);
    const seeds = [JSON.stringify(MEDIA), JSON.stringify(START), JSON.stringify(DTMF)];
    for (let i = 0; i < 2000; i++) {
      const chars = [...seeds[i % seeds.length]!];
      const edits = 1 + Math.floor(rnd() * 4);
      for (let e = 0; e < edits; e++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(32 + Math.floor(rnd() * 95));
      const r = parse(chars.join(''));
      expect(typeof r.ok).toBe('boolean');
    }
  });
});

describe('outbound messages', () => {
  it('builds media, mark and clear in the documented shapes', () => {
    const codes = new Uint8Array(200).map((_, i) => i);
    expect(JSON.parse(buildTwilioMedia(SID, codes, 160))).toEqual({
      event: 'media',
      streamSid: SID,
      media: { payload: Buffer.from(codes.subarray(0, 160)).toString('base64') },
    });
    expect(JSON.parse(buildTwilioMark(SID, 'reply "1"'))).toEqual({ event: 'mark', streamSid: SID, mark: { name: 'reply "1"' } });
    expect(JSON.parse(buildTwilioClear(SID))).toEqual({ event: 'clear', streamSid: SID });
  });

  it('round-trips through the parser of what Twilio accepts', () => {
    const codes = new Uint8Array(160).map((_, i) => (i * 7) & 0xff);
    const out = new Uint8Array(160);
    expect(parseTwilioOutbound(buildTwilioMedia(SID, codes, 160), out)).toEqual({
      ok: true,
      msg: { event: 'media', streamSid: SID, payloadBytes: 160 },
    });
    expect([...out]).toEqual([...codes]);
    expect(parseTwilioOutbound(buildTwilioMark(SID, 'm1'), out)).toEqual({ ok: true, msg: { event: 'mark', streamSid: SID, name: 'm1' } });
    expect(parseTwilioOutbound(buildTwilioClear(SID), out)).toEqual({ ok: true, msg: { event: 'clear', streamSid: SID } });
    expect(parseTwilioOutbound(JSON.stringify(MEDIA), out)).toMatchObject({ ok: false, reason: 'bad-field' });
    expect(parseTwilioOutbound(JSON.stringify(STOP), out)).toMatchObject({ ok: false, reason: 'unknown-event' });
  });
});
