/**
 * RTP wire throughput on one core: parse into a reused view, serialize into
 * a reused buffer, both (a relay), RTCP compound parse/serialize, and SRTP
 * protect/unprotect with both tag lengths. "calls" is how many calls' worth
 * of 50 packets/s one core could carry for that step alone.
 *
 * The RTP rows allocate nothing. RTCP builds objects (a few packets per
 * second per call). SRTP allocates in node:crypto per packet (an HMAC object,
 * its digest and the keystream buffer); the row below it shows the
 * alternative of a fresh AES-CTR cipher per packet, which the context avoids
 * by keeping one ECB cipher and encrypting counter blocks.
 */
import { createCipheriv } from 'node:crypto';
import { parseRtcpCompound, readRtcpCompound, serializeRtcpCompound, type RtcpPacket } from '../src/wire/rtcp.ts';
import { RtpPacketView, parseRtpInto, serializeRtp, serializeRtpInto } from '../src/wire/rtp.ts';
import { SrtpContext, type SrtpProfile } from '../src/wire/srtp.ts';
import { mulberry32 } from '../test/helpers/prng.ts';
import { printTable, rate } from './table.ts';

const PAYLOAD_BYTES = 160; // 20 ms of G.711
const PACKETS_PER_CALL_S = 50;
const BATCH = 64;
/** Packets in the unprotect run (crosses a ROC rollover). */
const UNPROTECT_RUN = 100_000;

export default function rtpWireBench(): void {
  const rnd = mulberry32(1);
  const packets = Array.from({ length: BATCH }, (_, i) =>
    serializeRtp({
      marker: i === 0, payloadType: 0, sequenceNumber: 1000 + i, timestamp: 160 * i, ssrc: 0x1234, csrc: [],
      payload: Uint8Array.from({ length: PAYLOAD_BYTES }, () => Math.floor(rnd() * 256)), paddingLength: 0,
    }),
  );
  const view = new RtpPacketView();
  const out = new Uint8Array(1500);
  const rows: Array<Record<string, string | number>> = [];
  const row = (op: string, perSecond: number, allocates: string): void => {
    rows.push({
      operation: op,
      'packets/s': Math.round(perSecond),
      'µs/packet': 1e6 / perSecond,
      'calls (50 pkt/s)': Math.floor(perSecond / PACKETS_PER_CALL_S),
      allocates,
    });
  };
  let sink = 0;
  let k = 0;

  row('RTP parse (parseRtpInto)', BATCH * rate(() => {
    for (let i = 0; i < BATCH; i++) sink += parseRtpInto(packets[i]!, packets[i]!.length, view);
  }), 'no');

  parseRtpInto(packets[0]!, packets[0]!.length, view);
  row('RTP serialize (serializeRtpInto)', BATCH * rate(() => {
    for (let i = 0; i < BATCH; i++) {
      view.sequenceNumber = (view.sequenceNumber + 1) & 0xffff;
      sink += serializeRtpInto(view, packets[0]!, out);
    }
  }), 'no');

  row('RTP parse + serialize', BATCH * rate(() => {
    for (let i = 0; i < BATCH; i++) {
      const p = packets[i]!;
      parseRtpInto(p, p.length, view);
      view.ssrc = 0x5678;
      sink += serializeRtpInto(view, p, out);
    }
  }), 'no');

  const block = { ssrc: 5, fractionLost: 3, cumulativeLost: 1, extendedHighestSeq: 70000, jitter: 12, lsr: 99, dlsr: 77 };
  const compound: RtcpPacket[] = [
    { type: 'sr', ssrc: 1, ntpSeconds: 2, ntpFraction: 3, rtpTimestamp: 4, packetCount: 5, octetCount: 6, reports: [block] },
    { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'switchboard@127.0.0.1' }] }] },
  ];
  const rtcpBytes = serializeRtcpCompound(compound);
  const parsed: RtcpPacket[] = [];
  row(`RTCP SR+SDES parse (${rtcpBytes.length} B)`, rate(() => {
    parsed.length = 0;
    sink += readRtcpCompound(rtcpBytes, rtcpBytes.length, parsed);
  }), 'objects');
  row('RTCP SR+SDES serialize', rate(() => {
    sink += serializeRtcpCompound(compound).length;
  }), 'buffer');
  sink += parseRtcpCompound(rtcpBytes).length;

  for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as SrtpProfile[]) {
    const keys = { masterKey: new Uint8Array(16).fill(1), masterSalt: new Uint8Array(14).fill(2) };
    const tx = new SrtpContext(keys, profile);
    const tag = profile.slice(-2);
    row(`SRTP protect _${tag}`, BATCH * rate(() => {
      for (let i = 0; i < BATCH; i++) sink += tx.protectRtp(packets[i]!, packets[i]!.length, out);
    }), 'node:crypto');
    // Unprotect needs fresh sequence numbers (the replay window refuses repeats):
    // protect a long run once, then time one pass over it.
    const sender = new SrtpContext(keys, profile);
    const run: Uint8Array[] = [];
    const plain = packets[0]!.slice();
    for (let i = 0; i < UNPROTECT_RUN; i++) {
      plain[2] = (i >>> 8) & 0xff;
      plain[3] = i & 0xff;
      const o = new Uint8Array(plain.length + 10);
      run.push(o.subarray(0, sender.protectRtp(plain, plain.length, o)));
    }
    const warm = new SrtpContext(keys, profile);
    for (let i = 0; i < run.length; i += 4) sink += warm.unprotectRtp(run[i]!, run[i]!.length, out);
    const rx = new SrtpContext(keys, profile);
    const t0 = performance.now();
    for (let i = 0; i < run.length; i++) sink += rx.unprotectRtp(run[i]!, run[i]!.length, out);
    row(`SRTP unprotect _${tag}`, (run.length * 1000) / (performance.now() - t0), 'node:crypto');
    const rtcpOut = new Uint8Array(rtcpBytes.length + 14);
    row(`SRTCP protect _${tag}`, rate(() => {
      sink += tx.protectRtcp(rtcpBytes, rtcpBytes.length, rtcpOut);
    }), 'node:crypto');
  }

  // The alternative keystream: createCipheriv('aes-128-ctr') per packet.
  const key = new Uint8Array(16).fill(3);
  const iv = new Uint8Array(16);
  row('(alternative) AES-CTR cipher per packet, 160 B', rate(() => {
    iv[15] = k++ & 0xff;
    sink += createCipheriv('aes-128-ctr', key, iv).update(packets[0]!.subarray(12)).length;
  }), 'node:crypto');

  printTable(`RTP wire, one core (${PAYLOAD_BYTES}-byte payloads)`, rows);
  if (sink === 42) console.log(''); // keep the work observable
}
