import { describe, expect, it } from 'vitest';
import { RTP_STATS } from '../../../src/actors/rtp/kind.ts';
import { RtpReceiver, SSRC_SWITCH_QUIET_MS, STAT, type PacketSink } from '../../../src/actors/rtp/RtpReceiver.ts';
import { LATCH_PROBATION_PACKETS } from '../../../src/actors/rtp/LatchProbation.ts';
import { cidrMatcher, parseCidrList } from '../../../src/wire/cidr.ts';
import { dtmfPackets } from '../../../src/wire/dtmf.ts';
import { serializeRtp, type RtpPacket } from '../../../src/wire/rtp.ts';
import { SrtpContext } from '../../../src/wire/srtp.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const PEER = { address: '127.0.0.1', port: 4000 };

class CollectingSink implements PacketSink {
  readonly got: Array<{ seq: number; ts: number; bytes: number[]; marker: boolean; ssrc: number }> = [];
  full = false;
  write(seq: number, ts: number, payload: Uint8Array, length: number, marker: boolean, ssrc: number): boolean {
    if (this.full) return false;
    this.got.push({ seq, ts, bytes: Array.from(payload.subarray(0, length)), marker, ssrc });
    return true;
  }
}

function setup(opts: { srtp?: SrtpContext; remote?: typeof PEER | undefined } = {}) {
  const stats = new Float64Array(RTP_STATS.length);
  const sink = new CollectingSink();
  const rx = new RtpReceiver(
    { payloadType: 0, telephoneEventPt: 101, clockRateHz: 8000, remote: 'remote' in opts ? opts.remote : PEER, srtp: opts.srtp },
    stats,
    sink,
  );
  const at = (name: (typeof RTP_STATS)[number]) => stats[STAT[name]]!;
  return { stats, sink, rx, at };
}

function pkt(seq: number, p: Partial<RtpPacket> = {}): Uint8Array {
  return serializeRtp({
    marker: false,
    payloadType: 0,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * 160) >>> 0,
    ssrc: 0xabc,
    csrc: [],
    paddingLength: 0,
    payload: new Uint8Array(160).fill(seq & 0xff),
    ...p,
  });
}

const keys = { masterKey: new Uint8Array(16).fill(7), masterSalt: new Uint8Array(14).fill(9) };

describe('RtpReceiver', () => {
  it('passes good packets to the sink with their payload, marker and SSRC', () => {
    const { rx, sink, at } = setup();
    expect(rx.onPacket(pkt(1, { marker: true }), 172, PEER.address, PEER.port, 0)).toBe(true);
    expect(rx.onPacket(pkt(2), 172, PEER.address, PEER.port, 20)).toBe(true);
    expect(sink.got.map((g) => [g.seq, g.ts, g.marker, g.ssrc, g.bytes.length, g.bytes[0]])).toEqual([
      [1, 160, true, 0xabc, 160, 1],
      [2, 320, false, 0xabc, 160, 2],
    ]);
    expect(at('packetsIn')).toBe(2);
    expect(at('bytesIn')).toBe(344);
    expect(rx.source!.received).toBe(2);
  });

  it('drops packets from anyone but the peer', () => {
    const { rx, at } = setup();
    expect(rx.onPacket(pkt(1), 172, '127.0.0.1', 4002, 0)).toBe(false);
    expect(rx.onPacket(pkt(1), 172, '127.0.0.2', 4000, 0)).toBe(false);
    expect(at('droppedWrongSource')).toBe(2);
  });

  it('turns RFC 4733 events into digits, once per event despite the redundant end packets', () => {
    const { rx, sink, at } = setup();
    let seq = 10;
    for (const digit of ['5', '#']) {
      for (const d of dtmfPackets(digit, seq * 160)) {
        rx.onPacket(pkt(seq, { payloadType: 101, timestamp: d.timestamp, marker: d.marker, payload: d.payload }), 16, PEER.address, PEER.port, seq * 20);
        seq++;
      }
    }
    expect(at('dtmfDigits')).toBe(2);
    expect(at('dtmfLastEvent')).toBe(11);
    expect(sink.got.length).toBe(0);
  });

  it('refuses an interleaved second SSRC, but follows a new one after a quiet second', () => {
    const { rx, sink, at } = setup();
    rx.onPacket(pkt(1), 172, PEER.address, PEER.port, 0);
    expect(rx.onPacket(pkt(500, { ssrc: 0xdef }), 172, PEER.address, PEER.port, 20)).toBe(false);
    expect(at('droppedSsrcSwitch')).toBe(1);
    expect(rx.onPacket(pkt(501, { ssrc: 0xdef }), 172, PEER.address, PEER.port, SSRC_SWITCH_QUIET_MS + 1)).toBe(true);
    expect(sink.got.at(-1)!.ssrc).toBe(0xdef);
  });

  it('drops a sequence jump of 32768 until the next packet confirms it (RFC 3550 A.1)', () => {
    const { rx, sink, at } = setup();
    for (let i = 0; i < 5; i++) rx.onPacket(pkt(i), 172, PEER.address, PEER.port, i * 20);
    expect(rx.onPacket(pkt(32772), 172, PEER.address, PEER.port, 100)).toBe(false);
    expect(at('droppedSequenceJump')).toBe(1);
    expect(rx.onPacket(pkt(5), 172, PEER.address, PEER.port, 120)).toBe(true);
    // Two in a row after a jump: the peer restarted its sequence.
    rx.onPacket(pkt(40000), 172, PEER.address, PEER.port, 140);
    expect(rx.onPacket(pkt(40001), 172, PEER.address, PEER.port, 160)).toBe(true);
    expect(sink.got.at(-1)!.seq).toBe(40001);
  });

  it('counts a full packet ring', () => {
    const { rx, sink, at } = setup();
    sink.full = true;
    expect(rx.onPacket(pkt(1), 172, PEER.address, PEER.port, 0)).toBe(false);
    expect(at('droppedRingFull')).toBe(1);
  });

  it('under SRTP: decrypts, and drops bad tags and replays by reason', () => {
    const tx = new SrtpContext(keys);
    const { rx, sink, at } = setup({ srtp: new SrtpContext(keys) });
    const wire = (seq: number): Buffer => {
      const clear = pkt(seq);
      const out = Buffer.alloc(clear.length + 10);
      expect(tx.protectRtp(clear, clear.length, out)).toBe(182);
      return out;
    };
    const first = wire(1);
    const copy = Buffer.from(first);
    expect(rx.onPacket(first, first.length, PEER.address, PEER.port, 0)).toBe(true);
    expect(sink.got[0]!.bytes[0]).toBe(1);
    expect(rx.onPacket(copy, copy.length, PEER.address, PEER.port, 20)).toBe(false);
    expect(at('droppedSrtpReplay')).toBe(1);
    const forged = wire(2);
    forged[forged.length - 1]! ^= 1;
    expect(rx.onPacket(forged, forged.length, PEER.address, PEER.port, 40)).toBe(false);
    expect(at('droppedSrtpAuth')).toBe(1);
    expect(rx.onPacket(Buffer.alloc(8), 8, PEER.address, PEER.port, 60)).toBe(false);
    expect(at('droppedSrtpMalformed')).toBe(1);
    const third = wire(3);
    expect(rx.onPacket(third, third.length, PEER.address, PEER.port, 60)).toBe(true);
  });

  it('latches only on a run of good packets, then refuses everyone else', () => {
    const { rx, sink, at } = setup({ remote: undefined });
    expect(rx.remoteAddress).toBeUndefined();
    expect(rx.onPacket(new Uint8Array([0x80, 0]), 2, '10.0.0.9', 9, 0)).toBe(false);
    expect(rx.onPacket(pkt(1, { payloadType: 18 }), 172, '10.0.0.9', 9, 0)).toBe(false);
    expect(rx.remoteAddress).toBeUndefined();
    // LATCH_PROBATION_PACKETS in sequence: the last of them is the stream's first packet.
    for (let seq = 1; seq < LATCH_PROBATION_PACKETS; seq++) expect(rx.onPacket(pkt(seq), 172, '10.0.0.1', 5000, seq * 20)).toBe(false);
    expect(rx.remoteAddress).toBeUndefined();
    expect(rx.onPacket(pkt(LATCH_PROBATION_PACKETS), 172, '10.0.0.1', 5000, 80)).toBe(true);
    expect([rx.remoteAddress, rx.remotePort]).toEqual(['10.0.0.1', 5000]);
    expect(sink.got.map((g) => g.seq)).toEqual([LATCH_PROBATION_PACKETS]);
    expect(at('droppedLatchProbation')).toBe(LATCH_PROBATION_PACKETS - 1);
    expect(rx.onPacket(pkt(LATCH_PROBATION_PACKETS + 1), 172, '10.0.0.9', 9, 100)).toBe(false);
    expect(at('droppedWrongSource')).toBe(1);
    expect(at('remotePort')).toBe(5000);
    expect(rx.source!.received).toBe(1);
  });

  it('latch probation: a stray packet does not become the peer, nor break the real run; a gap or another SSRC restarts it', () => {
    const { rx, at } = setup({ remote: undefined });
    // A hostile first packet, then the peer's packets with strays from elsewhere between them.
    expect(rx.onPacket(pkt(500, { ssrc: 0x666 }), 172, '127.0.0.1', 6666, 0)).toBe(false);
    expect(rx.onPacket(pkt(1), 172, '127.0.0.1', 5000, 1)).toBe(false);
    expect(rx.onPacket(pkt(501, { ssrc: 0x666 }), 172, '127.0.0.1', 6666, 2)).toBe(false);
    expect(rx.onPacket(pkt(2), 172, '127.0.0.1', 5000, 21)).toBe(false);
    expect(rx.onPacket(pkt(9000, { ssrc: 0x777 }), 172, '127.0.0.2', 5000, 22)).toBe(false);
    // A gap restarts the run (3 is missing): 4, 5, 6 are three in a row, 7 the fourth.
    expect(rx.onPacket(pkt(4), 172, '127.0.0.1', 5000, 61)).toBe(false);
    expect(rx.onPacket(pkt(5), 172, '127.0.0.1', 5000, 81)).toBe(false);
    // Another SSRC from the same address restarts it too.
    expect(rx.onPacket(pkt(6, { ssrc: 0xdef }), 172, '127.0.0.1', 5000, 101)).toBe(false);
    expect(rx.remoteAddress).toBeUndefined();
    for (let seq = 7; seq < 10; seq++) expect(rx.onPacket(pkt(seq, { ssrc: 0xdef }), 172, '127.0.0.1', 5000, seq * 20)).toBe(seq === 9);
    expect([rx.remoteAddress, rx.remotePort, rx.source!.ssrc]).toEqual(['127.0.0.1', 5000, 0xdef]);
    expect(at('droppedLatchProbation')).toBe(10);
    expect(rx.onPacket(pkt(502, { ssrc: 0x666 }), 172, '127.0.0.1', 6666, 200)).toBe(false);
    expect(at('droppedWrongSource')).toBe(1);
  });

  it('latchCidr: a source outside the blocks never latches and is refused before SRTP or parsing; IPv4 inside matches, also as ::ffff:a.b.c.d', () => {
    const stats = new Float64Array(RTP_STATS.length);
    const latchCidr = cidrMatcher(parseCidrList('10.0.0.0/8, 2001:db8::/32'));
    const rx = new RtpReceiver({ payloadType: 0, telephoneEventPt: 101, clockRateHz: 8000, remote: undefined, latchCidr, srtp: undefined }, stats, new CollectingSink());
    for (let seq = 1; seq <= 2 * LATCH_PROBATION_PACKETS; seq++) expect(rx.onPacket(pkt(seq), 172, '127.0.0.1', 5000, seq * 20)).toBe(false);
    expect(rx.onPacket(new Uint8Array(3), 3, '192.168.1.1', 5000, 200)).toBe(false);
    expect(rx.onPacket(pkt(1), 172, '2001:db9::1', 5000, 200)).toBe(false);
    expect(rx.remoteAddress).toBeUndefined();
    expect(stats[STAT.droppedLatchRefused]).toBe(2 * LATCH_PROBATION_PACKETS + 2);
    expect(stats[STAT.droppedTooShort]).toBe(0);
    for (let seq = 1; seq <= LATCH_PROBATION_PACKETS; seq++) rx.onPacket(pkt(seq), 172, '::ffff:10.1.2.3', 7000, 300 + seq * 20);
    expect([rx.remoteAddress, rx.remotePort]).toEqual(['::ffff:10.1.2.3', 7000]);

    const v6 = new RtpReceiver({ payloadType: 0, telephoneEventPt: 101, clockRateHz: 8000, remote: undefined, latchCidr, srtp: undefined }, stats, new CollectingSink());
    for (let seq = 1; seq <= LATCH_PROBATION_PACKETS; seq++) v6.onPacket(pkt(seq), 172, '2001:db8:5::9', 7002, seq * 20);
    expect(v6.remoteAddress).toBe('2001:db8:5::9');
  });

  it('survives 100 000 seeded mutations of good packets: every one is accepted or counted, none throws', () => {
    const rng = mulberry32(20240611);
    const { rx, stats, at } = setup();
    const buf = new Uint8Array(300);
    let accepted = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const base = pkt(i, { payloadType: rng() < 0.1 ? 101 : 0, payload: new Uint8Array(Math.floor(rng() * 200)) });
      let len = base.length;
      buf.set(base);
      const flips = 1 + Math.floor(rng() * 4);
      for (let f = 0; f < flips; f++) {
        const kind = rng();
        if (kind < 0.5) buf[Math.floor(rng() * Math.min(len, 16))] = Math.floor(rng() * 256); // header byte
        else if (kind < 0.8) len = Math.floor(rng() * (len + 1)); // truncation
        else buf[Math.max(0, len - 1)] = Math.floor(rng() * 256); // padding count
      }
      if (rx.onPacket(buf, len, PEER.address, PEER.port, i * 20)) accepted++;
    }
    let dropped = 0;
    for (const name of RTP_STATS) if (name.startsWith('dropped')) dropped += at(name);
    // Every packet is accounted for: to the sink, a DTMF event, or a counted drop.
    const dtmfOrCounted = at('packetsIn') - accepted;
    expect(accepted + dtmfOrCounted + dropped).toBe(N);
    expect(accepted).toBeGreaterThan(N / 10);
    expect(stats.every((v) => Number.isFinite(v))).toBe(true);
  });
});
