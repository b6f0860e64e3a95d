import { DelayManager, type DelayLimits } from './DelayManager.ts';
import { JitterStats } from './JitterStats.ts';
import { MAX_PAYLOAD_BYTES } from '../../frames/PacketRing.ts';
import { maxPayloadBytesPerSecond, PacketDecoder, type JitterCodec } from './PacketDecoder.ts';
import { arenaBytesFor, PacketStore, PutResult } from './PacketStore.ts';
import type { PcmConcealer, PcmStretcher } from './FrameKind.ts';
import { Playout } from './Playout.ts';

export { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';

/**
 * One inbound stream's jitter buffer (NetEq-class): packets go in with
 * `insert` in any order, and `pull` produces exactly one 20 ms frame per
 * call. This file is the packet side — sequence and timestamp unwrapping,
 * duplicates, late and too-early packets, SSRC changes, RFC 3550 statistics
 * and the delay manager's input; `Playout` decides what each frame is.
 *
 * Sequence numbers and timestamps are unwrapped to extended values (RFC 3550
 * A.1): each new one is read as the nearest value, as a signed 16-bit (32-bit)
 * step from the newest seen. A packet more than the store's capacity ahead of
 * the playout point is dropped, unless the one after it follows on (RFC 3550
 * A.1's probation), which restarts the sequence: the sender jumped.
 *
 * Neither `insert` nor `pull` allocates or throws; both report through
 * return values and `stats`.
 */

export interface JitterBufferOptions extends DelayLimits {
  codec: JitterCodec;
  rateHz: number;
  /** PLC for G.711, G.722 and L16 (Opus conceals in its decoder). None: concealed frames are silent. */
  concealer?: PcmConcealer | undefined;
  /** Time-scale modification; none: the target is reached only in silence. */
  stretcher?: PcmStretcher | undefined;
}

/** What `insert` did with a packet. */
export const InsertResult = {
  STORED: 0,
  DUPLICATE: 1,
  LATE: 2,
  TOO_EARLY: 3,
  INVALID: 4,
  /** Stored, and it started a new stream (first packet, SSRC change or sequence restart). */
  NEW_STREAM: 5,
} as const;

/**
 * The delay manager's quantile: the late-loss budget is 1% (the delay goal's
 * oracle allows as much), and on heavy tails the 95th percentile left 2–3%
 * of packets late. Packets later than the grid point held are waited for
 * (Playout), so a high quantile costs less delay than it would on its own.
 */
const TARGET_QUANTILE = 0.99;
/** Extended values start here so reordered packets before the first one stay positive. */
const SEQ_ORIGIN = 1 << 20;
const TS_ORIGIN = 2 ** 36;
/** Sequence numbers remembered for duplicate detection (20 s of 20 ms packets). */
const SEEN_WINDOW = 1024;
/** RFC 3550 A.1's MAX_DROPOUT: a larger forward jump is a restart, not a gap. */
const MAX_DROPOUT = 3000;

export class JitterBuffer {
  readonly stats = new JitterStats();
  readonly rateHz: number;
  readonly samplesPerFrame: number;
  readonly clockHz: number;
  readonly #maxDelayMs: number;

  readonly #decoder: PacketDecoder;
  readonly #store: PacketStore;
  readonly #delay: DelayManager;
  readonly #playout: Playout;
  /**
   * The extended sequence number last seen at each position, as int32 (`ext
   * | 0`): half the bytes of a float64, and two values only collide 2³²
   * packets apart, years of a stream.
   */
  readonly #seen = new Int32Array(SEEN_WINDOW).fill(-1);

  #haveStream = false;
  #ssrc = 0;
  #maxExtSeq = 0;
  #baseExtSeq = 0;
  #lastTs32 = 0;
  #lastExtTs = 0;
  #badSeq = -1;
  /** Stream-local received count for the RFC 3550 A.3 loss; `#lostBefore` carries earlier SSRCs' losses. */
  #receivedThisStream = 0;
  #lostBefore = 0;
  #prevTransit = NaN;
  #jitterTs = 0;

  constructor(opts: JitterBufferOptions) {
    this.#decoder = new PacketDecoder(opts.codec, opts.rateHz);
    this.#store = new PacketStore(arenaBytesFor(maxPayloadBytesPerSecond(opts.codec, opts.rateHz), opts.maxDelayMs));
    this.#delay = new DelayManager({ ...opts, quantile: opts.quantile ?? TARGET_QUANTILE });
    this.rateHz = opts.rateHz;
    this.#maxDelayMs = opts.maxDelayMs;
    this.clockHz = this.#decoder.clockHz;
    this.samplesPerFrame = this.#decoder.samplesPerFrame;
    this.#playout = new Playout(this.#store, this.#decoder, this.#delay, this.stats, opts.concealer, opts.stretcher);
    this.stats.targetDelayMs = this.#delay.targetMs;
  }

  /** Packets waiting in the store. */
  get bufferedPackets(): number {
    return this.#store.count;
  }

  /** RTP sequence number of the last packet decoded (−1 before any). */
  get lastPlayedSeq(): number {
    const ext = this.#playout.lastPlayedSeq;
    return ext < 0 ? -1 : ext % 65536;
  }

  /** When the last decoded packet's first sample plays, on the `pull` clock (ms). */
  get lastPlayoutMs(): number {
    return this.#playout.lastPlayoutMs;
  }

  /** The RTP timestamp (32-bit, as sent) of the last packet decoded; NaN before any. */
  get lastPlayedRtpTimestamp(): number {
    if (this.#playout.lastPlayedSeq < 0) return Number.NaN;
    return (this.#playout.lastPlayedTs - TS_ORIGIN) % 2 ** 32 >>> 0;
  }

  /** The last decoded packet's delay as heard: when it plays less its earliest possible arrival (the least transit), ms. */
  get lastPlayedDelayMs(): number {
    return this.#playout.lastPlayedDelayMs;
  }

  /** The target the stream needs for itself, ms, without the sync delay. */
  get ownTargetDelayMs(): number {
    return this.#playout.ownTargetMs;
  }

  /** Delay held beyond the stream's own target so it plays aligned with others (a sync group), ms; clamped to [0, maxDelayMs]. */
  get syncDelayMs(): number {
    return this.#playout.syncDelayMs;
  }
  set syncDelayMs(ms: number) {
    this.#playout.syncDelayMs = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), this.#maxDelayMs) : 0;
  }

  /** The delay the buffer holds now, ms (the delay manager's target plus any loss headroom and the sync delay). */
  get targetDelayMs(): number {
    return this.#playout.targetMs;
  }

  /**
   * One RTP packet: `payload`'s first `payloadLength` bytes are copied in.
   * `arrivalMs` is the receiver's clock (the same clock `pull` gets).
   * Returns an `InsertResult`.
   */
  insert(
    seq: number,
    rtpTimestamp: number,
    arrivalMs: number,
    payload: Uint8Array,
    payloadLength: number,
    marker: boolean,
    ssrc: number,
  ): number {
    const st = this.stats;
    if (!(payloadLength > 0 && payloadLength <= MAX_PAYLOAD_BYTES && payloadLength <= payload.length) || !Number.isFinite(arrivalMs)) {
      st.packetsInvalid++;
      return InsertResult.INVALID;
    }
    seq &= 0xffff;
    rtpTimestamp >>>= 0;
    ssrc >>>= 0;
    let started = false;
    if (!this.#haveStream || ssrc !== this.#ssrc) {
      if (this.#haveStream) st.ssrcChanges++;
      this.#startStream(seq, rtpTimestamp, ssrc);
      started = true;
    }
    // RFC 3550 A.1: the step from the newest sequence number, as a signed 16-bit value.
    const delta = (((seq - (this.#maxExtSeq % 65536)) << 16) >> 16);
    let ext = this.#maxExtSeq + delta;
    const low = this.#playout.anchored ? this.#playout.nextSeq : this.#maxExtSeq - (this.#store.capacity >> 1);
    if (ext >= low + this.#store.capacity && this.#store.count === 0 && delta > 0 && delta < MAX_DROPOUT) {
      // Nothing is waiting: this is the end of an outage, not junk. Playout
      // moves on to it; the gap counts as lost.
      this.#playout.reanchor();
    } else if (ext >= low + this.#store.capacity) {
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) & 0xffff;
        st.packetsTooEarly++;
        st.packetsDiscarded++;
        return InsertResult.TOO_EARLY;
      }
      // Two in a row far ahead: the sender restarted its numbering.
      this.#restartSequence(seq, rtpTimestamp);
      ext = this.#maxExtSeq;
      started = true;
    }
    this.#badSeq = -1;
    const seenAt = ext % SEEN_WINDOW;
    if (this.#seen[seenAt] === (ext | 0)) {
      st.packetsDuplicated++;
      return InsertResult.DUPLICATE;
    }
    this.#seen[seenAt] = ext;
    this.#receivedThisStream++;
    st.packetsReceived++;
    if (ext < this.#baseExtSeq) this.#baseExtSeq = ext;
    const tsStep = (rtpTimestamp - this.#lastTs32) | 0;
    const extTs = this.#lastExtTs + tsStep;
    if (ext > this.#maxExtSeq) {
      this.#maxExtSeq = ext;
      this.#lastTs32 = rtpTimestamp;
      this.#lastExtTs = extTs;
    }
    this.#updateJitter(arrivalMs, extTs);
    this.#updateLoss();
    this.#delay.update(arrivalMs, (extTs * 1000) / this.clockHz);
    st.targetDelayMs = this.#playout.targetMs;

    if (this.#playout.anchored && ext < this.#playout.nextSeq && !this.#playout.rewind(ext, extTs)) {
      st.packetsLate++;
      st.packetsDiscarded++;
      return InsertResult.LATE;
    }
    const store = this.#store;
    const evictedBefore = store.evicted;
    const put = store.put(ext, extTs, arrivalMs, marker, payload, payloadLength);
    if (put === PutResult.REPLACED) st.packetsDiscarded++;
    const evicted = store.evicted - evictedBefore;
    st.packetsEvicted += evicted;
    st.packetsDiscarded += evicted;
    st.totalSamplesReceived += this.samplesPerFrame;
    return started ? InsertResult.NEW_STREAM : InsertResult.STORED;
  }

  /** Writes the next 20 ms frame into `out` (samplesPerFrame samples); returns its `FrameKind`. */
  pull(out: Int16Array, nowMs: number): number {
    return this.#playout.pull(out, nowMs);
  }

  /** Forgets everything about the stream (not the statistics). */
  reset(): void {
    this.#haveStream = false;
    this.#store.clear();
    this.#playout.reset();
    this.#decoder.reset();
  }

  destroy(): void {
    this.#playout.destroy();
    this.#decoder.destroy();
  }

  #startStream(seq: number, ts: number, ssrc: number): void {
    if (this.#haveStream) this.#lostBefore += this.#streamLost();
    this.#haveStream = true;
    this.#ssrc = ssrc;
    this.#store.clear();
    this.#seen.fill(-1);
    this.#playout.reset();
    this.#decoder.reset();
    this.#delay.resetTiming();
    this.#prevTransit = NaN;
    this.#receivedThisStream = 0;
    this.#setOrigin(seq, ts);
  }

  /** A sequence restart inside one SSRC (RFC 3550 A.1): a new stream for loss accounting and playout. */
  #restartSequence(seq: number, ts: number): void {
    this.#lostBefore += this.#streamLost();
    this.#receivedThisStream = 0;
    this.#store.clear();
    this.#seen.fill(-1);
    this.#playout.restart();
    this.#delay.resetTiming();
    this.#prevTransit = NaN;
    this.#setOrigin(seq, ts);
  }

  #setOrigin(seq: number, ts: number): void {
    this.#maxExtSeq = SEQ_ORIGIN + seq;
    this.#baseExtSeq = this.#maxExtSeq;
    this.#lastTs32 = ts;
    this.#lastExtTs = TS_ORIGIN + ts;
    this.#badSeq = -1;
  }

  #streamLost(): number {
    return this.#maxExtSeq - this.#baseExtSeq + 1 - this.#receivedThisStream;
  }

  #updateLoss(): void {
    this.stats.packetsLost = this.#lostBefore + this.#streamLost();
  }

  /** RFC 3550 §6.4.1 and A.8: J += (|D| − J)/16, D the change in transit between packets in arrival order. */
  #updateJitter(arrivalMs: number, extTs: number): void {
    const transit = (arrivalMs * this.clockHz) / 1000 - extTs;
    if (!Number.isNaN(this.#prevTransit)) {
      const d = Math.abs(transit - this.#prevTransit);
      this.#jitterTs += (d - this.#jitterTs) / 16;
      const st = this.stats;
      st.jitterTimestampUnits = this.#jitterTs;
      st.jitter = this.#jitterTs / this.clockHz;
      st.jitterMs = st.jitter * 1000;
    }
    this.#prevTransit = transit;
  }
}
