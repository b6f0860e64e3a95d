import type { DelayManager } from './DelayManager.ts';
import type { JitterStats } from './JitterStats.ts';
import { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';
import { MAX_PACKET_SAMPLES, type PacketDecoder } from './PacketDecoder.ts';
import type { PacketStore } from './PacketStore.ts';
import { rmsOf, SampleQueue } from './SampleQueue.ts';
import * as T from './playoutTuning.ts';

/**
 * The playout side of the jitter buffer: one 20 ms frame per `pull`, and the
 * decision of what it holds, after NetEq's DecisionLogic.
 *
 * The control variable is the delay D of a packet: the time it is decided on
 * minus the earliest time it could have been, `now − timestamp − minimum
 * transit` (ms), against the target T (the delay manager's quantile, with a
 * floor while packets are being lost, see `targetMs`). D moves on the 20 ms
 * grid of pulls, so the delay held is a grid point G near T (`#gridPoint`).
 * - Next packet here: play it. In speech the queued audio is accelerated
 *   (WSOLA removes a pitch period) when the delay as heard (D plus the queue)
 *   is above G + ACCELERATE_MARGIN_MS, and preemptively expanded below G. In
 *   silence a frame is dropped when D is a grid step above G and a
 *   comfort-noise frame added a step below. After silence (stream start,
 *   DTX, a new talkspurt) a packet waits, with comfort noise playing, until
 *   it is at target.
 * - Next packet missing: it is lost once its delay exceeds what all but 1%
 *   of packets arrive within (DelayManager.lateMs); then conceal it, from
 *   both sides when a later packet is here (Concealer.concealBefore, the
 *   whole burst planned; Opus FEC), and move on. Before that, conceal and
 *   wait: the wait is an expansion, and the packet, when it comes, is merged
 *   after the concealment. A packet that turns up after the playout moved
 *   past it, while only forward concealment has played since, is still
 *   played (`rewind`): the concealment becomes the wait. Otherwise it is late.
 * - After a wait (outage, pause) with packets overdue, go straight to the
 *   first one, skipping a backlog beyond BACKLOG_MS; a pause after quiet
 *   audio is DTX and plays comfort noise, not counted as concealment.
 */

export class Playout {
  /** True once a packet has been chosen to start playout; packets before `nextSeq` are late. */
  anchored = false;
  nextSeq = 0;
  /** The extended sequence number of the last packet decoded, and when its first sample plays (ms, the pull clock). */
  lastPlayedSeq = -1;
  lastPlayoutMs = 0;

  readonly #store: PacketStore;
  readonly #decoder: PacketDecoder;
  readonly #delay: DelayManager;
  readonly #stats: JitterStats;
  readonly #concealer: PcmConcealer | undefined;
  readonly #stretcher: PcmStretcher | undefined;
  readonly #spf: number;
  readonly #msPerSample: number;
  readonly #msPerTs: number;

  readonly #queue: SampleQueue;
  readonly #decoded = new Int16Array(MAX_PACKET_SAMPLES);
  readonly #ahead = new Int16Array(MAX_PACKET_SAMPLES);
  readonly #frameIn: Int16Array;
  readonly #frameOut: Int16Array;

  #last: number = FrameKind.SILENCE;
  #lastDecodedQuiet = true;
  #lastArrivalMs = 0;
  #nowMs = 0;
  #lossAvg = 0;
  /** Set by a concealment planned towards a later packet: the audio already heads for that packet, so no rewind. */
  #planned = false;
  /** The timestamp the packet at `nextSeq` should carry. */
  #expectedTs = 0;
  readonly #tsPerFrame: number;
  readonly #tsPerSample: number;

  constructor(
    store: PacketStore,
    decoder: PacketDecoder,
    delay: DelayManager,
    stats: JitterStats,
    concealer: PcmConcealer | undefined,
    stretcher: PcmStretcher | undefined,
  ) {
    this.#store = store;
    this.#decoder = decoder;
    this.#delay = delay;
    this.#stats = stats;
    this.#concealer = decoder.ownsConcealment ? undefined : concealer;
    this.#stretcher = stretcher;
    this.#spf = decoder.samplesPerFrame;
    this.#msPerSample = 1000 / decoder.rateHz;
    this.#msPerTs = 1000 / decoder.clockHz;
    this.#tsPerFrame = decoder.clockHz / 50;
    this.#tsPerSample = decoder.clockHz / decoder.rateHz;
    this.#queue = new SampleQueue(this.#spf);
    this.#frameIn = new Int16Array(this.#spf);
    this.#frameOut = new Int16Array(this.#spf);
  }

  pull(out: Int16Array, nowMs: number): number {
    const spf = this.#spf;
    this.#nowMs = nowMs;
    let kind = -1;
    const queue = this.#queue;
    for (let units = 0; queue.length < spf && units < T.MAX_UNITS_PER_PULL; units++) kind = this.#produce(nowMs);
    if (queue.length < spf) queue.appendZeros(spf - queue.length);
    if (kind < 0) kind = this.#last;
    queue.take(out, spf);
    const decoded = kind === FrameKind.NORMAL || kind === FrameKind.ACCELERATED || kind === FrameKind.EXPANDED;
    this.#stats.countFrame(kind === FrameKind.CONCEALED, decoded ? nowMs - this.#lastArrivalMs : -1, spf, this.#msPerSample, this.targetMs);
    return kind;
  }

  /** A new stream (SSRC change): forget playout position and signal history. */
  reset(): void {
    this.restart();
    this.#concealer?.reset();
    this.#lastDecodedQuiet = true;
  }

  /** A sequence restart: choose a new starting packet, keep the audio history. */
  restart(): void {
    this.anchored = false;
    this.nextSeq = 0;
    this.#last = FrameKind.SILENCE;
  }

  /**
   * A packet arrived after the playout gave it up, while what has played
   * since the last decoded packet is forward concealment only: it plays after
   * all, the concealment becoming a wait (an expansion, as NetEq's expand
   * is), instead of being lost. Returns false when it is simply late.
   */
  rewind(extSeq: number, extTs: number): boolean {
    if (!this.anchored || this.#last !== FrameKind.CONCEALED || this.#planned) return false;
    if (extSeq <= this.lastPlayedSeq || this.nextSeq - extSeq > T.MAX_REWIND_PACKETS) return false;
    this.nextSeq = extSeq;
    this.#expectedTs = extTs;
    return true;
  }

  /** The stream resumes after an outage beyond the store's window: start from the lowest buffered packet again. */
  reanchor(): void {
    this.anchored = false;
  }

  destroy(): void {
    this.#concealer?.destroy();
    this.#stretcher?.destroy?.();
  }

  /** Appends one unit of audio to the queue (possibly nothing, when a silent frame is dropped); returns its kind. */
  #produce(nowMs: number): number {
    const store = this.#store;
    const target = this.targetMs;
    const minTransit = this.#delay.minTransitMs;
    // Decisions use the delay at decision time: a packet not here now is
    // late for this frame whatever audio is still queued ahead of it.
    if (!this.anchored) {
      const first = store.firstFrom(0);
      if (first < 0) return this.#fill();
      const d = nowMs - store.tsOf(first) * this.#msPerTs - minTransit;
      if (d < target - T.STRETCH_MARGIN_MS) return this.#comfortNoise();
      this.anchored = true;
      this.nextSeq = store.seqOf(first);
      this.#expectedTs = store.tsOf(first);
    }
    let slot = store.find(this.nextSeq);
    if (slot >= 0) {
      let d = nowMs - store.tsOf(slot) * this.#msPerTs - minTransit;
      // A talkspurt start (marker bit) after silence or a concealed pause waits for the target too.
      const spurt = this.#quietLast() || (store.markerOf(slot) && this.#last === FrameKind.CONCEALED);
      if (spurt && d < target - T.STRETCH_MARGIN_MS) return this.#comfortNoise();
      if (this.#last === FrameKind.CONCEALED && d > target + T.BACKLOG_MS) {
        // Out of an outage with a backlog: skip to the packet due nearest the target.
        for (;;) {
          const next = store.find(store.seqOf(slot) + 1);
          if (next < 0) break;
          const dn = nowMs - store.tsOf(next) * this.#msPerTs - minTransit;
          if (dn < target + T.CATCH_UP_MS) break;
          // Arrived, but too late to play at the target: late, as if it had come after its playout.
          store.release(slot);
          this.#stats.packetsDiscarded++;
          this.#stats.packetsLate++;
          slot = next;
          d = dn;
        }
      }
      return this.#play(slot, d, target);
    }
    // The missing packet's own delay, from where its timestamp must be. It is
    // lost, not late, once later than all but the late-loss budget (lateMs):
    // earlier turns late packets into late loss, later costs a concealed
    // frame per loss. With no jitter it is given up at once.
    const dk = nowMs - this.#expectedTs * this.#msPerTs - minTransit;
    const atTarget = dk >= Math.min(this.#delay.lateMs, this.#delay.maxDelayMs);
    const later = store.firstFrom(this.nextSeq + 1);
    if (later >= 0) {
      const dl = nowMs - store.tsOf(later) * this.#msPerTs - minTransit;
      // Out of a wait (an outage, a pause) with the later packet overdue: the
      // gap's time is already filled, so go straight to it.
      if ((this.#last === FrameKind.CONCEALED || this.#quietLast()) && dl >= target + T.HALF_FRAME_MS) {
        return this.#play(later, dl, target);
      }
      // With a later packet here the missing one is more likely lost than
      // late: commit at the grid point nearest the target, interpolating
      // towards the later packet when it is the very next one.
      if (atTarget && !this.#quietLast()) {
        this.#countPacket(true);
        // Frames from this missing one up to the later packet: the concealer
        // plans the whole gap between the past and that packet.
        const untilNext = Math.round((store.tsOf(later) - this.#expectedTs) / this.#tsPerFrame);
        this.nextSeq++;
        this.#expectedTs += this.#tsPerFrame;
        return untilNext >= 1 ? this.#concealBefore(later, untilNext) : this.#conceal();
      }
    }
    if (atTarget && !this.#quietLast() && !this.#lastDecodedQuiet) {
      this.#countPacket(true);
      // Due and not here: a loss (if it turns up now, it is late). Waiting
      // instead would meet the late packet out of phase with the concealment.
      this.nextSeq++;
      this.#expectedTs += this.#tsPerFrame;
      return this.#conceal();
    }
    return this.#fill();
  }

  /**
   * The delay to hold: the delay manager's target, plus one frame while
   * packets are being lost. With the next packet already here when one is
   * missing, the gap is interpolated from both sides (Concealer.concealBefore,
   * Opus FEC) rather than extrapolated, which is worth 20 ms when losses are
   * frequent enough to hear.
   */
  get targetMs(): number {
    const base = this.#delay.targetMs;
    // With a frame or more of jitter the packet after a loss is usually here
    // already, and the delay goal (≤ 1.2× the 1%-late oracle) leaves no room.
    if (this.#lossAvg < T.LOSS_HEADROOM_RATE || this.#delay.lateMs >= T.FRAME_MS) return base;
    return Math.min(Math.max(base, this.#delay.minDelayMs + T.LOSS_HEADROOM_MS), this.#delay.maxDelayMs);
  }

  /**
   * The decision delay to hold: decisions fall on the 20 ms grid of pulls,
   * so the grid point nearest the target (less GRID_BIAS_MS). The few packets
   * later than it are waited for (`#produce`) rather than paid for with a
   * frame of delay on every packet: with decisions 17 ms after the fastest
   * arrival and 0–40 ms jitter, the grid offers 37 ms (7.5% would be late
   * without the wait) or 57 ms (44% above the oracle's 39.6).
   */
  #gridPoint(delayMs: number, target: number): number {
    return delayMs + T.FRAME_MS * Math.round((target - T.GRID_BIAS_MS - delayMs) / T.FRAME_MS);
  }

  /** One packet's fate for the loss-rate average (per packet, exponential, ~64 packets). */
  #countPacket(lost: boolean): void {
    this.#lossAvg += ((lost ? 1 : 0) - this.#lossAvg) / 256;
  }

  #quietLast(): boolean {
    return this.#last === FrameKind.COMFORT_NOISE || this.#last === FrameKind.SILENCE;
  }

  /** Decodes the packet in `slot` and queues it, stretched or dropped as the delay asks. */
  #play(slot: number, delayMs: number, target: number): number {
    const store = this.#store;
    const dec = this.#decoded;
    const n = this.#decoder.decode(store.payloadOf(slot), store.lengthOf(slot), dec);
    if (n <= 0) this.#stats.packetsDiscarded++;
    this.#countPacket(n <= 0);
    this.lastPlayedSeq = store.seqOf(slot);
    this.#planned = false;
    this.lastPlayoutMs = this.#nowMs + this.#queue.length * this.#msPerSample;
    this.nextSeq = this.lastPlayedSeq + 1;
    this.#expectedTs = store.tsOf(slot) + Math.round(n > 0 ? n * this.#tsPerSample : this.#tsPerFrame);
    this.#lastArrivalMs = store.arrivalOf(slot);
    store.release(slot);
    // Packets below the new position are now late; free their slots.
    store.dropBelow(this.nextSeq);
    this.#stats.currentDelayMs = delayMs;
    if (n <= 0) return this.#conceal();
    const queuedBeforeMs = this.#queue.length * this.#msPerSample;
    const rms = rmsOf(dec, n);
    const quiet = rms < T.QUIET_RMS;
    this.#queue.trackNoise(rms);
    this.#lastDecodedQuiet = quiet;
    const spf = this.#spf;
    const concealer = this.#concealer;
    const grid = this.#gridPoint(delayMs, target);
    if (quiet && this.#last !== FrameKind.CONCEALED && delayMs > grid + T.HALF_FRAME_MS) {
      if (concealer !== undefined && n >= spf) {
        // The concealer still sees the frame, so its history stays continuous.
        for (let i = 0; i < spf; i++) this.#frameIn[i] = dec[i]!;
        concealer.good(this.#frameIn, this.#frameOut);
      }
      this.#stats.removedSamplesForAcceleration += n;
      this.#last = FrameKind.ACCELERATED;
      return FrameKind.ACCELERATED;
    }
    let at = 0;
    for (; at + spf <= n; at += spf) {
      const frame = this.#frameOut;
      if (concealer !== undefined) {
        for (let i = 0; i < spf; i++) this.#frameIn[i] = dec[at + i]!;
        concealer.good(this.#frameIn, frame);
      } else {
        for (let i = 0; i < spf; i++) frame[i] = dec[at + i]!;
      }
      this.#queue.append(frame, 0, spf);
    }
    if (at < n) this.#queue.append(dec, at, n - at);
    let kind: number = FrameKind.NORMAL;
    // Stretching steers the delay as heard: the decision delay plus the audio queued ahead of this packet.
    if (!quiet && this.#stretcher !== undefined) kind = this.#stretch(delayMs + queuedBeforeMs, grid);
    if (quiet && delayMs < grid - T.HALF_FRAME_MS) this.#queue.appendNoise(spf);
    this.#last = kind;
    return kind;
  }

  /** Accelerates or expands the queued audio when the delay is off target; returns what it did. */
  #stretch(delayMs: number, target: number): number {
    const st = this.#stats;
    if (delayMs > target + T.ACCELERATE_MARGIN_MS) {
      const d = this.#queue.stretch(this.#stretcher!, -1);
      if (d === 0) return FrameKind.NORMAL;
      st.removedSamplesForAcceleration -= d;
      return FrameKind.ACCELERATED;
    }
    if (delayMs < target) {
      const d = this.#queue.stretch(this.#stretcher!, 1);
      if (d === 0) return FrameKind.NORMAL;
      st.insertedSamplesForDeceleration += d;
      return FrameKind.EXPANDED;
    }
    return FrameKind.NORMAL;
  }

  /**
   * A lost frame `framesUntilNext` frames before the packet in `nextSlot`,
   * interpolated towards it (Opus: its in-band FEC, which only covers the
   * frame right before).
   */
  #concealBefore(nextSlot: number, framesUntilNext: number): number {
    const store = this.#store;
    const dec = this.#decoder;
    const frame = this.#frameOut;
    if (dec.ownsConcealment && framesUntilNext > 1) {
      return this.#conceal();
    } else if (dec.ownsConcealment) {
      const n = dec.decodeFec(store.payloadOf(nextSlot), store.lengthOf(nextSlot), frame);
      if (n <= 0) frame.fill(0);
      this.#planned = true;
      this.#stats.fecPacketsRecovered = dec.fecRecovered;
    } else if (this.#concealer !== undefined && dec.stateless) {
      const n = dec.decode(store.payloadOf(nextSlot), store.lengthOf(nextSlot), this.#ahead);
      if (n < this.#spf) return this.#conceal();
      for (let i = 0; i < this.#spf; i++) this.#frameIn[i] = this.#ahead[i]!;
      this.#concealer.concealBefore(this.#frameIn, frame, framesUntilNext);
      this.#planned = true;
    } else {
      return this.#conceal();
    }
    this.#queue.append(frame, 0, this.#spf);
    this.#last = FrameKind.CONCEALED;
    return FrameKind.CONCEALED;
  }

  /** No packet for this frame: comfort noise in a pause (DTX), concealment in speech. */
  #fill(): number {
    if (this.#lastDecodedQuiet && this.#last !== FrameKind.CONCEALED) return this.#comfortNoise();
    return this.#conceal();
  }

  #conceal(): number {
    const frame = this.#frameOut;
    if (this.#decoder.ownsConcealment) {
      if (this.#decoder.conceal(frame) <= 0) frame.fill(0);
    } else if (this.#concealer !== undefined) {
      this.#concealer.conceal(frame);
    } else {
      frame.fill(0);
    }
    this.#queue.append(frame, 0, this.#spf);
    this.#last = FrameKind.CONCEALED;
    return FrameKind.CONCEALED;
  }

  #comfortNoise(): number {
    const kind = this.#queue.appendNoise(this.#spf);
    this.#last = kind;
    return kind;
  }
}
