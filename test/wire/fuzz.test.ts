/**
 * A seeded mutation fuzzer over valid RTP, RTCP compound, SRTP and DTMF
 * packets: bit flips, byte sets, truncation, extension and splicing. Every
 * mutant goes through every non-throwing entry point; each must return a
 * valid parse or one of its counted error codes, and never throw.
 */
import { describe, expect, it } from 'vitest';
import { DtmfEvent, DtmfReceive, DtmfReceiver, parseDtmfInto } from '../../src/wire/dtmf.ts';
import { type RtcpPacket, RtcpParse, readRtcpCompound } from '../../src/wire/rtcp.ts';
import { RtpPacketView, RtpParse, isRtcp, parseRtpInto } from '../../src/wire/rtp.ts';
import { RtpExtensionElement, findRtpExtension } from '../../src/wire/rtpHeaderExtension.ts';
import { SrtpContext, SrtpError } from '../../src/wire/srtp.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { wireCorpus } from '../fuzz/wireCorpus.ts';

const MUTANTS = 200_000;
const INTERESTING = [0x00, 0x01, 0x0f, 0x10, 0x20, 0x3f, 0x7f, 0x80, 0xbe, 0xc8, 0xca, 0xde, 0xfe, 0xff];

function mutate(src: Uint8Array, other: Uint8Array, rnd: () => number, out: Uint8Array): number {
  let len = src.length;
  out.set(src);
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const pos = Math.floor(rnd() * Math.max(1, len));
    switch (Math.floor(rnd() * 6)) {
      case 0: // bit flip
        if (len > 0) out[pos]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // interesting byte
        if (len > 0) out[pos] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
        break;
      case 2: // random byte, biased to the header
        if (len > 0) out[Math.floor(rnd() * Math.min(len, 16))] = Math.floor(rnd() * 256);
        break;
      case 3: // truncate
        len = Math.floor(rnd() * len);
        break;
      case 4: {
        // extend with random bytes
        const extra = Math.floor(rnd() * 40);
        for (let i = 0; i < extra && len < out.length; i++) out[len++] = Math.floor(rnd() * 256);
        break;
      }
      default: {
        // splice the tail of another packet in
        const from = Math.floor(rnd() * other.length);
        const n = Math.min(other.length - from, out.length - pos);
        out.set(other.subarray(from, from + n), pos);
        len = pos + n;
      }
    }
  }
  return len;
}

describe('wire fuzz (seeded mutator)', () => {
  it(`survives ${MUTANTS.toLocaleString('en-US')} mutated packets through every parser`, () => {
    const rnd = mulberry32(0x5eed);
    const c = wireCorpus();
    const all = [...c.rtp, ...c.rtcp, ...c.srtp, ...c.dtmf];
    const genuineSrtp = new Set(c.srtp.map((p) => Buffer.from(p).toString('hex')));
    const buf = new Uint8Array(4096);
    const out = new Uint8Array(4096);
    const view = new RtpPacketView();
    const el = new RtpExtensionElement();
    const rtcpOut: RtcpPacket[] = [];
    const rx = new SrtpContext(c.keys);
    const rxGenuine = new SrtpContext(c.keys);
    const ev = new DtmfEvent();
    const dtmf = new DtmfReceiver();
    const rtpCodes = new Map<number, number>();
    const rtcpCodes = new Map<number, number>();
    const srtpCodes = new Map<number, number>();
    let threw = 0;
    /** Results outside the contract: an unknown code, or a "valid" parse that does not add up. */
    const broken: string[] = [];
    const bump = (m: Map<number, number>, k: number): void => void m.set(k, (m.get(k) ?? 0) + 1);
    const rtpValid = new Set<number>(Object.values(RtpParse));
    const rtcpValid = new Set<number>(Object.values(RtcpParse));
    const srtpValid = new Set<number>(Object.values(SrtpError));

    const start = performance.now();
    for (let i = 0; i < MUTANTS; i++) {
      const src = all[Math.floor(rnd() * all.length)]!;
      const len = mutate(src, all[Math.floor(rnd() * all.length)]!, rnd, buf);
      // Sometimes claim more bytes than the buffer holds, or fewer than were written.
      const claimed = rnd() < 0.02 ? buf.length + 1 : len;
      try {
        const code = parseRtpInto(buf, claimed, view);
        bump(rtpCodes, code);
        if (!rtpValid.has(code)) broken.push(`RTP code ${code}`);
        if (code === RtpParse.OK) {
          if (view.payloadOffset + view.payloadLength + view.paddingLength !== claimed || view.payloadLength < 0) {
            broken.push(`RTP view does not add up at mutant ${i}`);
          }
          findRtpExtension(buf, view, 1 + (i % 14), el);
        }
        rtcpOut.length = 0;
        const rc = readRtcpCompound(buf, claimed, rtcpOut, { reducedSize: (i & 1) === 0 });
        bump(rtcpCodes, rc);
        if (!rtcpValid.has(rc)) broken.push(`RTCP code ${rc}`);
        const sc = isRtcp(buf, claimed) ? rx.unprotectRtcp(buf, claimed, out) : rx.unprotectRtp(buf, claimed, out);
        bump(srtpCodes, sc < 0 ? sc : 0);
        if (sc >= 0 && !genuineSrtp.has(Buffer.from(buf.subarray(0, claimed)).toString('hex'))) {
          broken.push(`SRTP accepted a forged packet at mutant ${i}`);
        }
        if (sc < 0 && !srtpValid.has(sc)) broken.push(`SRTP code ${sc}`);
        parseDtmfInto(buf, 0, claimed, ev);
        const dc = dtmf.receive(buf, i % 3, claimed - (i % 3), Math.floor(rnd() * 2 ** 32));
        if (dc < DtmfReceive.NONE || dc > DtmfReceive.INVALID) broken.push(`DTMF code ${dc}`);
      } catch (e) {
        threw++;
        if (threw < 3) console.error(e);
      }
    }
    const ms = performance.now() - start;
    // The genuine packets still pass: the fuzzing left no state that refuses them.
    for (const p of c.srtp) {
      const n = isRtcp(p) ? rxGenuine.unprotectRtcp(p, p.length, out) : rxGenuine.unprotectRtp(p, p.length, out);
      expect(n).toBeGreaterThan(0);
    }
    console.log(
      `fuzz: ${MUTANTS} mutants in ${ms.toFixed(0)} ms; RTP codes ${JSON.stringify([...rtpCodes])}, ` +
        `RTCP codes ${JSON.stringify([...rtcpCodes])}, SRTP codes ${JSON.stringify([...srtpCodes])}`,
    );
    expect(threw).toBe(0);
    expect(broken.slice(0, 5)).toEqual([]);
    // The mutator reaches every error path, and valid parses too.
    for (const code of Object.values(RtpParse)) expect(rtpCodes.get(code) ?? 0, `RTP code ${code}`).toBeGreaterThan(0);
    for (const code of Object.values(RtcpParse)) expect(rtcpCodes.get(code) ?? 0, `RTCP code ${code}`).toBeGreaterThan(0);
    expect(srtpCodes.get(SrtpError.AUTH_FAILED) ?? 0).toBeGreaterThan(MUTANTS / 10);
  });
});
