import type { DelayManager } from './DelayManager.ts';
import type { JitterStats } from './JitterStats.ts';
import { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';
import { MAX_PACKET_SAMPLES, type PacketDecoder } from './PacketDecoder.ts';
import type { PacketStore } from './PacketStore.ts';
import { SampleQueue } from './SampleQueue.ts';

/**
 * The playout side of the jitter buffer: one 20 ms frame per `pull`, and the
 * decision of what it holds, after NetEq's DecisionLogic.
 *
 * The control variable is the delay D of a packet: the time it is decided on
 * minus the earliest time it could have been, `now − timestamp − minimum
 * transit` (ms), against the target T (the delay manager's quantile, plus one
 * frame of headroom while packets are being lost, see `targetMs`). D moves on
 * the 20 ms grid of pulls, so "at target" is the grid point nearest T.
 * - Next packet here: play it. In speech the queued audio is accelerated
 *   (WSOLA removes a pitch period) when the delay as heard (D plus the queue)
 *   is above T + ACCELERATE_MARGIN_MS, and preemptively expanded below T. In
 *   silence a frame is dropped above T + DROP_MARGIN_MS and a comfort-noise
 *   frame added below T − STRETCH_MARGIN_MS. After silence (stream start,
 *   DTX, a new talkspurt) a packet waits, with comfort noise playing, until
 *   it is at target.
 * - Next packet missing and due: when a later packet is here, the missing one
 *   is lost — conceal it, from both sides when the later one is the very
 *   next (Concealer.concealBefore, Opus FEC), and move on. When nothing is
 *   here, conceal forward and move on once it is past due; before that,
 *   conceal and wait (it may be late: the wait is expansion by concealment).
 *   A packet turning up after the playout point moved past it is late.
 * - After a wait (outage, pause) with packets overdue, go straight to the
 *   first one, skipping those due too long ago (CATCH_UP_MS); a pause after
 *   quiet audio is DTX and plays comfort noise, not counted as concealment.
 */

/** How far below target silence is padded with comfort noise (a whole frame moves the delay by 20 ms). */
const STRETCH_MARGIN_MS = 10;
/** Half the pull grid: "at target" rounds to the nearest grid point. */
const HALF_FRAME_MS = 10;
/** Above this recent loss rate the target gets one frame of headroom (see `targetMs`). */
const LOSS_HEADROOM_RATE = 0.02;
const LOSS_HEADROOM_MS = 20;
/**
 * Acceleration starts this far above target, expansion just below it: late
 * loss depends on the delay not falling under the target, so the band lies
 * above it.
 */
const ACCELERATE_MARGIN_MS = 10;
/** A whole frame goes in silence, so the band must be wider than 20 ms to settle. */
const DROP_MARGIN_MS = 20;
/** After an outage, packets due this far beyond the target are skipped (their time was already concealed). */
const CATCH_UP_MS = 80;
/** Below this RMS (about −50 dBFS) a frame is silence for the drop/insert and DTX decisions. */
const QUIET_RMS = 100;
/** Units (decode, conceal, …) one pull may run; drops in silence produce nothing, so more than one can be needed. */
const MAX_UNITS_PER_PULL = 6;

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
    for (let units = 0; queue.length < spf && units < MAX_UNITS_PER_PULL; units++) kind = this.#produce(nowMs);
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
      if (d < target - STRETCH_MARGIN_MS) return this.#comfortNoise();
      this.anchored = true;
      this.nextSeq = store.seqOf(first);
      this.#expectedTs = store.tsOf(first);
    }
    let slot = store.find(this.nextSeq);
    if (slot >= 0) {
      let d = nowMs - store.tsOf(slot) * this.#msPerTs - minTransit;
      // A talkspurt start (marker bit) after silence or a concealed pause waits for the target too.
      const spurt = this.#quietLast() || (store.markerOf(slot) && this.#last === FrameKind.CONCEALED);
      if (spurt && d < target - STRETCH_MARGIN_MS) return this.#comfortNoise();
      if (this.#last === FrameKind.CONCEALED && d > target + CATCH_UP_MS) {
        // Out of an outage with a backlog: skip to the packet due nearest the target.
        for (;;) {
          const next = store.find(store.seqOf(slot) + 1);
          if (next < 0) break;
          const dn = nowMs - store.tsOf(next) * this.#msPerTs - minTransit;
          if (dn < target) break;
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
    // The missing packet's own delay, from where its timestamp must be. The
    // delay moves on a 20 ms grid, so "at target" means nearest to it.
    const dk = nowMs - this.#expectedTs * this.#msPerTs - minTransit;
    const atTarget = dk >= target;
    const later = store.firstFrom(this.nextSeq + 1);
    if (later >= 0) {
      const dl = nowMs - store.tsOf(later) * this.#msPerTs - minTransit;
      // Out of a wait (an outage, a pause) with the later packet overdue: the
      // gap's time is already filled, so go straight to it.
      if ((this.#last === FrameKind.CONCEALED || this.#quietLast()) && dl >= target + HALF_FRAME_MS) {
        return this.#play(later, dl, target);
      }
      // With a later packet here the missing one is more likely lost than
      // late: commit at the grid point nearest the target, interpolating
      // towards the later packet when it is the very next one.
      if (dk + HALF_FRAME_MS > target && !this.#quietLast()) {
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
    if (this.#lossAvg < LOSS_HEADROOM_RATE) return base;
    return Math.min(base + LOSS_HEADROOM_MS, this.#delay.maxDelayMs);
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
    const quiet = rms < QUIET_RMS;
    this.#queue.trackNoise(rms);
    this.#lastDecodedQuiet = quiet;
    const spf = this.#spf;
    const concealer = this.#concealer;
    if (quiet && this.#last !== FrameKind.CONCEALED && delayMs > target + DROP_MARGIN_MS) {
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
    if (!quiet && this.#stretcher !== undefined) kind = this.#stretch(delayMs + queuedBeforeMs, target);
    if (quiet && delayMs < target - STRETCH_MARGIN_MS) this.#queue.appendNoise(spf);
    this.#last = kind;
    return kind;
  }

  /** Accelerates or expands the queued audio when the delay is off target; returns what it did. */
  #stretch(delayMs: number, target: number): number {
    const st = this.#stats;
    if (delayMs > target + ACCELERATE_MARGIN_MS) {
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
      this.#stats.fecPacketsRecovered = dec.fecRecovered;
    } else if (this.#concealer !== undefined && dec.stateless) {
      const n = dec.decode(store.payloadOf(nextSlot), store.lengthOf(nextSlot), this.#ahead);
      if (n < this.#spf) return this.#conceal();
      for (let i = 0; i < this.#spf; i++) this.#frameIn[i] = this.#ahead[i]!;
      this.#concealer.concealBefore(this.#frameIn, frame, framesUntilNext);
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

function rmsOf(x: Int16Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / n);
}
