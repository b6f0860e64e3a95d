import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildResponse } from '../../../src/legs/sip/sipBuild.ts';
import { readSdp, SdpError } from '../../../src/legs/sip/sdpNegotiation.ts';
import { readCredentials } from '../../../src/wire/sipDigest.ts';
import { header, headerLines, parseSipMessage, SipParse, sipParseCodeName } from '../../../src/wire/sipMessage.ts';
import { headerValues, parseNameAddr, parseSipUri, parseVia } from '../../../src/wire/sipHeaders.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedBytes } from '../mutations.ts';

/**
 * A SIP datagram as the stack reads it (SipStack `#receive`): the message
 * parser, the header parsers run on what it accepted (Via, From/To/Contact,
 * the Request-URI, Authorization), the SDP offer of an INVITE, and the
 * response the stack would send to a request, which must parse again.
 * Inputs: RFC 4475's torture messages, edited, or anything.
 */

const DIR = fileURLToPath(new URL('../../fixtures/sip/rfc4475/', import.meta.url));
const CORPUS = readdirSync(DIR)
  .filter((f) => f.endsWith('.sip'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(DIR + f)));
const CODES = new Set<number>(Object.values(SipParse));
const PEER = { proto: 'UDP' as const, address: '192.0.2.9', port: 5062 };

export const sipTarget = fuzzTarget({
  name: 'sip',
  entry: 'parseSipMessage (src/wire/sipMessage.ts), sipHeaders, readSdp, buildResponse',
  inputs: mutatedBytes(CORPUS, 2000),
  ciRuns: 2000,
  check(bytes) {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r = parseSipMessage(buf);
    if (!CODES.has(r.code)) return `unknown SIP parse code ${r.code}`;
    if (r.code !== 0) return sipParseCodeName(r.code) === 'unknown' ? `no name for code ${r.code}` : undefined;
    const m = r.message;
    for (const v of headerValues(m.headers, 'via')) parseVia(v);
    for (const name of ['from', 'to', 'contact', 'record-route', 'route']) for (const v of headerValues(m.headers, name)) parseNameAddr(v);
    for (const v of headerLines(m.headers, 'authorization')) readCredentials(v);
    if (m.kind === 'response') return undefined;
    parseSipUri(m.uri);
    if (m.method === 'INVITE') {
      try {
        readSdp(m.body.toString('utf8'));
      } catch (err) {
        if (!(err instanceof SdpError)) throw err;
      }
    }
    const answer = parseSipMessage(buildResponse(m, PEER, 400, { toTag: 'ab12' }));
    if (answer.code !== 0) return `our 400 to it does not parse: ${sipParseCodeName(answer.code)}`;
    if (answer.message.callId !== m.callId || header(answer.message.headers, 'cseq') !== `${m.cseq} ${m.cseqMethod}`) return 'our 400 lost its Call-ID or CSeq';
    return undefined;
  },
});
