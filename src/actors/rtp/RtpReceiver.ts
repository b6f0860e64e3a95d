import type { BlockList } from 'node:net';
import { parseRtpInto, RtpPacketView, RtpParse } from '../../wire/rtp.ts';
import { DtmfReceive, DtmfReceiver } from '../../wire/dtmf.ts';
import { RtpSourceStats, SeqUpdate } from '../../wire/rtpStats.ts';
import { SrtpError, type SrtpContext } from '../../wire/srtp.ts';
import { RTP_STATS, type RtpStatName } from './kind.ts';
import { LatchProbation } from './LatchProbation.ts';

/** Index of each stat in the kind's `stats` order. */
export const STAT = Object.fromEntries(RTP_STATS.map((n, i) => [n, i])) as Record<RtpStatName, number>;

/**
 * How long the current SSRC must have been silent before another one may
 * take over. A peer that restarts its stream (a PBX re-INVITE, a transfer)
 * pauses first; a second stream interleaved with the first is an injection
 * or a misrouted call and is dropped rather than allowed to flip the jitter
 * buffer back and forth.
 */
export const SSRC_SWITCH_QUIET_MS = 1000;

/** Parse failures by code, in RtpParse order (0 = OK is never counted). */
const PARSE_DROP_STAT: readonly number[] = [
  -1,
  STAT.droppedTooShort,
  STAT.droppedBadVersion,
  STAT.droppedCsrcPastEnd,
  STAT.droppedExtensionPastEnd,
  STAT.droppedBadPadding,
];

/** Where accepted media goes: the jitter actor's packet ring (PacketWriter) in the leg. */
export interface PacketSink {
  write(seq: number, rtpTimestamp: number, payload: Uint8Array, length: number, marker: boolean, ssrc: number, arrivalMs: number): boolean;
}

export interface RtpReceiverOptions {
  payloadType: number;
  telephoneEventPt: number;
  clockRateHz: number;
  /** The peer, or undefined to latch a source once it proves itself (LatchProbation); it never moves afterwards. */
  remote: { address: string; port: number } | undefined;
  /** Who may be latched (undefined: anyone); packets from elsewhere are refused before any other work. */
  latchCidr?: BlockList | undefined;
  srtp: SrtpContext | undefined;
}

/**
 * The inbound half of an RTP session: source filtering, SRTP, header
 * validation (RFC 3550 §5.1, A.1), payload type demultiplexing, RFC 4733
 * events, per-source statistics (A.3, A.8), then the packet ring. Every
 * rejection is counted by reason in the shared stats; nothing throws and
 * nothing allocates per packet (a new SSRC, at most once a second, makes one
 * statistics object; until a latch, the latchCidr check makes an address).
 */
export class RtpReceiver {
  readonly #opts: RtpReceiverOptions;
  readonly #stats: Float64Array;
  readonly #sink: PacketSink;
  readonly #view = new RtpPacketView();
  readonly dtmf = new DtmfReceiver();
  #remoteAddress: string | undefined;
  #remotePort = 0;
  #source: RtpSourceStats | undefined;
  #lastPacketMs = 0;
  readonly #probation = new LatchProbation();
  /** Payload copied to the front of a scratch buffer, so the sink reads it from offset 0 without a view. */
  readonly #payload = new Uint8Array(1500);

  constructor(opts: RtpReceiverOptions, stats: Float64Array, sink: PacketSink) {
    this.#opts = opts;
    this.#stats = stats;
    this.#sink = sink;
    if (opts.remote !== undefined) {
      this.#remoteAddress = opts.remote.address;
      this.#remotePort = opts.remote.port;
      stats[STAT.remotePort] = opts.remote.port;
    }
  }

  /** The peer's address, once known (configured or latched). */
  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }
  get remotePort(): number {
    return this.#remotePort;
  }
  /** Statistics of the stream we receive; undefined before its first good packet. */
  get source(): RtpSourceStats | undefined {
    return this.#source;
  }

  /** True when `address:port` is the peer (before a latch, nobody is). */
  isPeer(address: string, port: number): boolean {
    return this.#remoteAddress !== undefined && port === this.#remotePort && address === this.#remoteAddress;
  }

  /**
   * One datagram from the RTP socket. `buf` is the datagram (decrypted in
   * place under SRTP). Returns true when the packet went to the sink.
   */
  onPacket(buf: Uint8Array, len: number, address: string, port: number, arrivalMs: number): boolean {
    const s = this.#stats;
    const latching = this.#remoteAddress === undefined;
    if (!latching && !(port === this.#remotePort && address === this.#remoteAddress)) {
      s[STAT.droppedWrongSource]++;
      return false;
    }
    const allowed = this.#opts.latchCidr;
    if (latching && allowed !== undefined && !allowed.check(address, address.includes(':') ? 'ipv6' : 'ipv4')) {
      s[STAT.droppedLatchRefused]++;
      return false;
    }
    let n = len;
    const srtp = this.#opts.srtp;
    if (srtp !== undefined) {
      n = srtp.unprotectRtp(buf, len, buf);
      if (n < 0) {
        if (n === SrtpError.AUTH_FAILED) s[STAT.droppedSrtpAuth]++;
        else if (n === SrtpError.REPLAY || n === SrtpError.TOO_OLD) s[STAT.droppedSrtpReplay]++;
        else s[STAT.droppedSrtpMalformed]++;
        return false;
      }
    }
    const v = this.#view;
    const code = parseRtpInto(buf, n, v);
    if (code !== RtpParse.OK) {
      s[PARSE_DROP_STAT[code]!]++;
      return false;
    }
    const pt = v.payloadType;
    const media = pt === this.#opts.payloadType;
    if (!media && pt !== this.#opts.telephoneEventPt) {
      s[STAT.droppedWrongPayloadType]++;
      return false;
    }
    const plen = v.payloadLength;
    if (media && (plen === 0 || plen > this.#payload.length)) {
      s[STAT.droppedTooShort]++;
      return false;
    }
    if (latching) {
      // Only packets that parse, carry our payload types and (under SRTP)
      // authenticate count towards a source's probation; the one that ends it
      // is the stream's first, and from then on nobody else is heard. The
      // packets before it are not played: 60 ms at the start of a stream.
      if (!this.#probation.offer(address, port, v.ssrc, v.sequenceNumber, arrivalMs)) {
        s[STAT.droppedLatchProbation]++;
        return false;
      }
      this.#remoteAddress = address;
      this.#remotePort = port;
      s[STAT.remotePort] = port;
    }
    let src = this.#source;
    if (src === undefined || src.ssrc !== v.ssrc) {
      if (src !== undefined && arrivalMs - this.#lastPacketMs < SSRC_SWITCH_QUIET_MS) {
        s[STAT.droppedSsrcSwitch]++;
        return false;
      }
      src = new RtpSourceStats(v.ssrc, v.sequenceNumber, this.#opts.clockRateHz, 1);
      this.#source = src;
    }
    const seqCode = src.update(v.sequenceNumber, v.timestamp, arrivalMs);
    if (seqCode === SeqUpdate.BAD_JUMP || seqCode === SeqUpdate.PROBATION) {
      s[STAT.droppedSequenceJump]++;
      return false;
    }
    this.#lastPacketMs = arrivalMs;
    s[STAT.packetsIn]++;
    s[STAT.bytesIn] += n;
    if (!media) {
      const ev = this.dtmf.receive(buf, v.payloadOffset, v.payloadLength, v.timestamp);
      if (ev === DtmfReceive.START) {
        s[STAT.dtmfDigits]++;
        s[STAT.dtmfLastEvent] = this.dtmf.event.event;
      }
      return false;
    }
    const p = this.#payload;
    for (let i = 0, from = v.payloadOffset; i < plen; i++) p[i] = buf[from + i]!;
    if (!this.#sink.write(v.sequenceNumber, v.timestamp, p, plen, v.marker, v.ssrc, arrivalMs)) {
      s[STAT.droppedRingFull]++;
      return false;
    }
    return true;
  }
}
