import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { header, parseSipMessage, serializeSip, SipParse, sipParseCodeName, type SipParseCode } from '../../src/wire/sipMessage.ts';
import { headerValues, parseNameAddr, parseSipUri, parseVia } from '../../src/wire/sipHeaders.ts';

/** An RFC 4475 torture message, as the RFC prints it (test/fixtures/sip/rfc4475/NAME.sip). */
const torture = (name: string): Buffer => readFileSync(new URL(`../fixtures/sip/rfc4475/${name}.sip`, import.meta.url));

type Expect = { ok: 'request' | 'response' } | { code: SipParseCode; answerable: boolean };
const ok = (kind: 'request' | 'response' = 'request'): Expect => ({ ok: kind });
const bad = (code: SipParseCode, answerable = true): Expect => ({ code, answerable });

/**
 * Every message of RFC 4475 §3 and what the parser makes of it: the valid
 * ones (§3.1.1) parse; the invalid ones (§3.1.2) get a code, and a 400 when
 * the fields of a response can be read. §3.3's messages are syntactically
 * valid (their semantics are the stack's: 415, 420, 405…) except insuf,
 * multi01 and mcl01.
 */
const TORTURE: Record<string, Expect> = {
  // §3.1.1 valid messages
  wsinv: ok(), intmeth: ok(), esc01: ok(), escnull: ok(), esc02: ok(), lwsdisp: ok(), longreq: ok(), dblreq: ok(),
  semiuri: ok(), transports: ok(), mpart01: ok(), unreason: ok('response'), noreason: ok('response'),
  // §3.1.2 invalid messages
  badinv01: bad(SipParse.BAD_VIA), clerr: bad(SipParse.BODY_TRUNCATED), scalar02: bad(SipParse.BAD_CSEQ),
  scalarlg: bad(SipParse.BAD_CSEQ, false), quotbal: bad(SipParse.BAD_ADDRESS), ltgtruri: bad(SipParse.BAD_URI),
  lwsruri: bad(SipParse.BAD_START_LINE), lwsstart: bad(SipParse.BAD_START_LINE), trws: bad(SipParse.BAD_START_LINE),
  // §3.1.2.10–11: an element may take these (escaped headers in the Request-URI, a non-GMT Date); this one does.
  escruri: ok(), baddate: ok(),
  regbadct: bad(SipParse.BAD_ADDRESS), badaspec: bad(SipParse.BAD_ADDRESS), baddn: bad(SipParse.BAD_ADDRESS),
  badvers: bad(SipParse.BAD_VERSION), mismatch01: bad(SipParse.CSEQ_METHOD_MISMATCH), mismatch02: bad(SipParse.CSEQ_METHOD_MISMATCH),
  bigcode: bad(SipParse.BAD_STATUS, false), ncl: bad(SipParse.BAD_CONTENT_LENGTH),
  // §3.2 transaction layer
  badbranch: ok(),
  // §3.3 application layer
  insuf: bad(SipParse.MISSING_HEADER, false), unkscm: ok(), novelsc: ok(), unksm2: ok(), bext01: ok(), invut: ok(),
  regaut01: ok(), multi01: bad(SipParse.BAD_HEADER_LINE), mcl01: bad(SipParse.BAD_CONTENT_LENGTH), bcast: ok('response'),
  zeromf: ok(), cparam01: ok(), cparam02: ok(), regescrt: ok(), sdp01: ok(), inv2543: ok(),
};

describe('parseSipMessage: RFC 4475 torture messages', () => {
  it('has a fixture for each of the RFC’s 49 messages', () => {
    expect(Object.keys(TORTURE)).toHaveLength(49);
  });

  for (const [name, want] of Object.entries(TORTURE)) {
    it(name, () => {
      const r = parseSipMessage(torture(name));
      if ('ok' in want) {
        expect(r.code, r.code === 0 ? '' : `${sipParseCodeName(r.code)}: ${(r as { detail: string }).detail}`).toBe(0);
        if (r.code === 0) expect(r.message.kind).toBe(want.ok);
      } else {
        expect(sipParseCodeName(r.code)).toBe(sipParseCodeName(want.code));
        expect(r.code !== 0 && r.answerable !== undefined).toBe(want.answerable);
      }
    });
  }

  it('reads wsinv’s folded, spaced and compact headers (§3.1.1.1)', () => {
    const r = parseSipMessage(torture('wsinv'));
    if (r.code !== 0) throw new Error(sipParseCodeName(r.code));
    const m = r.message;
    expect(m.kind === 'request' && m.method).toBe('INVITE');
    expect(m.callId).toBe('wsinv.ndaksdj@192.0.2.1');
    expect(m.cseq).toBe(9);
    expect(header(m.headers, 'max-forwards')).toBe('0068');
    expect(parseNameAddr(header(m.headers, 'to')!)?.params.get('tag')).toBe('1918181833n');
    expect(parseNameAddr(header(m.headers, 'from')!)?.params.get('tag')).toBe('98asjd8');
    expect(parseNameAddr(header(m.headers, 'contact')!)?.display).toBe('Quoted string ""');
    expect(headerValues(m.headers, 'via').map((v) => parseVia(v)?.host)).toEqual(['192.0.2.2', 'spindle.example.com', '192.168.255.111']);
    expect(headerValues(m.headers, 'via').map((v) => parseVia(v)?.params.get('branch'))).toEqual(['390skdjuw', 'z9hG4bK9ikj8', 'z9hG4bK30239']);
    expect(m.body.toString()).toMatch(/^v=0\r\n/);
  });

  it('takes a datagram’s Content-Length bytes and drops the rest (dblreq, §3.1.1.8)', () => {
    const r = parseSipMessage(torture('dblreq'));
    expect(r.code === 0 && r.message.body.length).toBe(0);
  });

  it('unescapes the Request-URI user (esc01, §3.1.1.3)', () => {
    const r = parseSipMessage(torture('esc01'));
    if (r.code !== 0 || r.message.kind !== 'request') throw new Error('esc01 did not parse');
    expect(parseSipUri(r.message.uri)?.user).toBe('sips:user@example.com');
  });
});

describe('parseSipMessage: our own messages', () => {
  const invite = serializeSip(
    'INVITE sip:echo@127.0.0.1 SIP/2.0',
    [
      ['via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport'],
      ['max-forwards', '70'],
      ['from', '"Ann Caller" <sip:ann@example.com>;tag=1'],
      ['to', '<sip:echo@127.0.0.1>'],
      ['call-id', 'c1@example.com'],
      ['cseq', '1 INVITE'],
      ['x-customer', 'Zoë'],
    ],
    'v=0\r\n',
  );

  it('round-trips: serialize → parse → serialize gives the same bytes', () => {
    const r = parseSipMessage(invite);
    if (r.code !== 0 || r.message.kind !== 'request') throw new Error('did not parse');
    const again = serializeSip(`INVITE ${r.message.uri} SIP/2.0`, r.message.headers, r.message.body);
    expect(again.equals(invite)).toBe(true);
    expect(header(r.message.headers, 'x-customer')).toBe('Zoë');
  });

  it('expands compact names and unfolds continuation lines (§7.3.1, §7.3.3)', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\nf: <sip:x@y>\r\n ;tag=9\r\nt: sip:a@b\r\ni: id\r\nCSeq: 2 OPTIONS\r\nl: 0\r\n\r\n';
    const r = parseSipMessage(Buffer.from(text));
    if (r.code !== 0) throw new Error(sipParseCodeName(r.code));
    expect(header(r.message.headers, 'from')).toBe('<sip:x@y> ;tag=9');
    expect(parseNameAddr(header(r.message.headers, 'from')!)?.params.get('tag')).toBe('9');
  });

  it('gives a code, never a throw, for empty, oversized, binary and non-UTF-8 input', () => {
    expect(parseSipMessage(Buffer.alloc(0)).code).toBe(SipParse.EMPTY);
    expect(parseSipMessage(Buffer.alloc(70_000, 0x41)).code).toBe(SipParse.TOO_LARGE);
    expect(parseSipMessage(Buffer.from([0x80, 0x00, 0x12, 0x34])).code).toBe(SipParse.NO_HEADER_END);
    const latin1 = Buffer.concat([invite.subarray(0, 30), Buffer.from([0xff, 0xfe]), invite.subarray(30)]);
    expect(parseSipMessage(latin1).code).toBe(SipParse.NOT_UTF8);
    expect(parseSipMessage(Buffer.from('SIP/2.0 99 Low\r\n\r\n')).code).toBe(SipParse.BAD_STATUS);
    expect(parseSipMessage(Buffer.from(invite.toString().replace('Max-Forwards: 70', 'Max-Forwards: 256'))).code).toBe(SipParse.BAD_MAX_FORWARDS);
    // Found by the fuzz target: an empty Via line beside a good one left the 400 nowhere to go.
    expect(parseSipMessage(Buffer.from(invite.toString().replace('Max-Forwards', 'Via: \r\nMax-Forwards'))).code).toBe(SipParse.BAD_VIA);
  });
});
