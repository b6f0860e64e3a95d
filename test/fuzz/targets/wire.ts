import fc from 'fast-check';
import { DtmfEvent, DtmfReceive, DtmfReceiver, parseDtmfInto } from '../../../src/wire/dtmf.ts';
import { type RtcpPacket, RtcpParse, readRtcpCompound } from '../../../src/wire/rtcp.ts';
import { RtpPacketView, RtpParse, describeRtpError, isRtcp, parseRtpInto } from '../../../src/wire/rtp.ts';
import { RtpExtensionElement, findRtpExtension, rtpExtensionElements } from '../../../src/wire/rtpHeaderExtension.ts';
import { SrtpContext, SrtpError } from '../../../src/wire/srtp.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedBytes } from '../mutations.ts';
import { wireCorpus } from '../wireCorpus.ts';

/**
 * The binary wire formats an RTP leg reads from its UDP socket, each through
 * the same entry points the leg calls: a code from the format's error enum,
 * or a parse whose fields add up to the datagram.
 */

const corpus = wireCorpus();
const all = [...corpus.rtp, ...corpus.rtcp, ...corpus.srtp, ...corpus.dtmf];
const packets = mutatedBytes(all);
const codes = (o: Record<string, number>): ReadonlySet<number> => new Set(Object.values(o));
const RTP_CODES = codes(RtpParse);
const RTCP_CODES = codes(RtcpParse);
const SRTP_CODES = codes(SrtpError);

const view = new RtpPacketView();
const element = new RtpExtensionElement();
const rtcpOut: RtcpPacket[] = [];

export const rtpTarget = fuzzTarget({
  name: 'rtp',
  entry: 'parseRtpInto, findRtpExtension, describeRtpError (src/wire/rtp.ts)',
  inputs: packets,
  ciRuns: 3000,
  check(buf) {
    const code = parseRtpInto(buf, buf.length, view);
    if (!RTP_CODES.has(code)) return `unknown RTP code ${code}`;
    if (code !== RtpParse.OK) {
      describeRtpError(buf, code, buf.length);
      return undefined;
    }
    if (view.payloadOffset + view.payloadLength + view.paddingLength !== buf.length || view.payloadLength < 0) {
      return `RTP view does not add up [offset:${view.payloadOffset}, payload:${view.payloadLength}, padding:${view.paddingLength}, length:${buf.length}]`;
    }
    for (const e of rtpExtensionElements(buf, view)) if (e.data.length > buf.length) return 'extension element longer than the packet';
    findRtpExtension(buf, view, 1, element);
    return undefined;
  },
});

export const rtcpTarget = fuzzTarget({
  name: 'rtcp',
  entry: 'readRtcpCompound (src/wire/rtcp.ts), full and reduced-size (RFC 5506)',
  inputs: fc.tuple(packets, fc.boolean()),
  ciRuns: 3000,
  check([buf, reducedSize]) {
    rtcpOut.length = 0;
    const code = readRtcpCompound(buf, buf.length, rtcpOut, { reducedSize });
    if (!RTCP_CODES.has(code)) return `unknown RTCP code ${code}`;
    return undefined;
  },
});

/** One receiving context for the whole run: its replay window sees every input, as a leg's does. */
const rx = new SrtpContext(corpus.keys);
const genuine = new Set(corpus.srtp.map((p) => Buffer.from(p).toString('hex')));
const srtpOut = new Uint8Array(4096);

export const srtpTarget = fuzzTarget({
  name: 'srtp',
  entry: 'SrtpContext.unprotectRtp / unprotectRtcp (src/wire/srtp.ts)',
  inputs: packets,
  ciRuns: 2000,
  check(buf) {
    const n = isRtcp(buf, buf.length) ? rx.unprotectRtcp(buf, buf.length, srtpOut) : rx.unprotectRtp(buf, buf.length, srtpOut);
    if (n < 0) return SRTP_CODES.has(n) ? undefined : `unknown SRTP code ${n}`;
    // Authentication (RFC 3711 §3.4): only the packets the sender protected may pass.
    if (!genuine.has(Buffer.from(buf).toString('hex'))) return 'SRTP accepted a packet its sender never protected';
    return undefined;
  },
});

const dtmfEvent = new DtmfEvent();
const receiver = new DtmfReceiver();

export const dtmfTarget = fuzzTarget({
  name: 'dtmf',
  entry: 'parseDtmfInto, DtmfReceiver.receive (src/wire/dtmf.ts, RFC 4733)',
  inputs: fc.tuple(packets, fc.nat({ max: 3 }), fc.nat({ max: 0xffffffff })),
  ciRuns: 3000,
  check([buf, offset, timestamp]) {
    const len = Math.max(0, buf.length - offset);
    if (parseDtmfInto(buf, offset, len, dtmfEvent) && (dtmfEvent.event < 0 || dtmfEvent.event > 255)) return `DTMF event ${dtmfEvent.event}`;
    const code = receiver.receive(buf, offset, len, timestamp);
    if (code < DtmfReceive.NONE || code > DtmfReceive.INVALID) return `DTMF code ${code}`;
    return undefined;
  },
});
