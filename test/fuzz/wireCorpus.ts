/**
 * Valid packets of every binary wire format the daemon reads: RTP (with
 * CSRCs, padding and both header-extension forms), RTCP compounds, SRTP and
 * SRTCP under one key, and RFC 4733 DTMF payloads. The seeds both fuzzers
 * mutate (test/wire/fuzz.test.ts and the registry's targets).
 */
import { dtmfPackets } from '../../src/wire/dtmf.ts';
import { type RtcpPacket, serializeRtcpCompound } from '../../src/wire/rtcp.ts';
import { serializeRtp } from '../../src/wire/rtp.ts';
import { buildRtpExtension } from '../../src/wire/rtpHeaderExtension.ts';
import { SrtpContext } from '../../src/wire/srtp.ts';
import { mulberry32 } from '../helpers/prng.ts';

export interface WireCorpus {
  rtp: Uint8Array[];
  rtcp: Uint8Array[];
  srtp: Uint8Array[];
  dtmf: Uint8Array[];
  keys: { masterKey: Uint8Array; masterSalt: Uint8Array };
}

export function wireCorpus(): WireCorpus {
  const rnd = mulberry32(77);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const rtp = [
    serializeRtp({ marker: true, payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 7, csrc: [], payload: bytes(160), paddingLength: 0 }),
    serializeRtp({ marker: false, payloadType: 111, sequenceNumber: 65535, timestamp: 1, ssrc: 9, csrc: [1, 2, 3], payload: bytes(60), paddingLength: 4 }),
    serializeRtp({
      marker: false, payloadType: 9, sequenceNumber: 300, timestamp: 2, ssrc: 9, csrc: [],
      headerExtension: buildRtpExtension([{ id: 1, data: bytes(1) }, { id: 3, data: bytes(5) }]), payload: bytes(20), paddingLength: 0,
    }),
    serializeRtp({
      marker: false, payloadType: 96, sequenceNumber: 301, timestamp: 3, ssrc: 9, csrc: [5],
      headerExtension: buildRtpExtension([{ id: 30, data: bytes(0) }, { id: 2, data: bytes(20) }]), payload: bytes(3), paddingLength: 1,
    }),
  ];
  const block = { ssrc: 5, fractionLost: 3, cumulativeLost: -1, extendedHighestSeq: 70000, jitter: 12, lsr: 99, dlsr: 77 };
  const compounds: RtcpPacket[][] = [
    [
      { type: 'sr', ssrc: 1, ntpSeconds: 2, ntpFraction: 3, rtpTimestamp: 4, packetCount: 5, octetCount: 6, reports: [block] },
      { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'caller@example.org' }] }] },
    ],
    [
      { type: 'rr', ssrc: 1, reports: [block, block] },
      { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'x' }, { type: 2, text: 'name' }] }, { ssrc: 2, items: [] }] },
      { type: 'bye', ssrcs: [1], reason: 'done' },
    ],
    [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'app', subtype: 1, ssrc: 1, name: 'TEST', data: bytes(8) },
      { type: 'other', packetType: 205, count: 1, body: bytes(12) },
    ],
  ];
  const rtcp = compounds.map(serializeRtcpCompound);
  const keys = { masterKey: bytes(16), masterSalt: bytes(14) };
  const tx = new SrtpContext(keys);
  const srtp: Uint8Array[] = [];
  for (const p of rtp) {
    const out = new Uint8Array(p.length + 10);
    srtp.push(out.subarray(0, tx.protectRtp(p, p.length, out)));
  }
  for (const p of rtcp) {
    const out = new Uint8Array(p.length + 14);
    srtp.push(out.subarray(0, tx.protectRtcp(p, p.length, out)));
  }
  const dtmf = dtmfPackets('7', 0).map((p) => p.payload);
  return { rtp, rtcp, srtp, dtmf, keys };
}
