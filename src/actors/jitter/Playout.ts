import type { DelayManager } from './DelayManager.ts';
import type { JitterStats } from './JitterStats.ts';
import { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';
import { MAX_PACKET_SAMPLES, type PacketDecoder } from './PacketDecoder.ts';
import type { PacketStore } from './PacketStore.ts';
import { rmsOf, SampleQueue } from './SampleQueue.ts';
import * as T from './playoutTuning.ts';
import { gridPoint, steerSpeech, trimPause } from './delaySteering.ts';

/** `#decide`'s answer when it moved past a lost packet without producing audio. */
const DECIDE_AGAIN = -2;

/**
 * The playout side of the jitter buffer: one 20 ms frame per `pull`, and the
 * decision of what it holds, after NetEq's DecisionLogic.
 *
 * The control variable is the delay D of a packet: the time it is decided on
 * minus the earliest time it could have been, `now − timestamp − minimum
 * transit` (ms), against the target T (the delay manager's quantile, with a
 * floor while packets are being lost, see `targetMs`). D moves on the 20 ms
 * grid of pulls, so the delay held is a grid point G near T (`gridPoint`,
 * delaySteering.ts).
 * - Next packet here: play it. In speech the queued audio is accelerated
 *   (WSOLA removes a pitch period) when the delay as heard (D plus the queue)
 *   is above G + ACCELERATE_MARGIN_MS, and preemptively expanded below G. In
 *   silence a frame is dropped when D is a grid step above G and a
 *   comfort-noise frame added a step below. After silence (stream start,
 *   DTX, a new talkspurt) a packet waits, with comfort noise playing, until
 *   it is at target.
 * - Next packet missing: it is lost once its delay exceeds what all but
 *   0.5% of packets arrive within (DelayManager.lateMs); then conceal it,
 *   from both sides when a later packet is here (Concealer.concealBefore,
 *   the whole burst planned; Opus FEC), and move on. Before that it may be
 *   late: conceal and wait (in a pause too, for one frame, before taking
 *   the gap for DTX). If it comes, it plays after that frame, which was an
 *   expansion; if it is given up, that frame was its concealment and the
 *   next packet plays at once (`#produce`), so a loss costs one concealed
 *   frame whether or not it was waited for. A packet that turns up after the
 *   playout moved past it, while only forward concealment has played since,
 *   is still played (`rewind`): the concealment becomes the wait. Otherwise
 *   it is late, counted and dropped.
 * - After a wait (outage, pause) with packets overdue, go straight to the
 *   first one, skipping a backlog beyond BACKLOG_MS; a pause after quiet
 *   audio is DTX and plays comfort noise, not counted as concealment. In a
 *   pause, audio queued beyond the grid point is trimmed (`trimPause`).
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
  /** Frames concealed while waiting for the packet at `nextSeq` (not given up yet): each stands in for one packet given up later. */
  #waited = 0;
  /** Frames concealed since the last decoded packet. */
  #concealedRun = 0;
  /** The concealment going on began as a wait in a pause: what follows it there is comfort noise. */
  #quietWait = false;
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
    this.#waited = 0;
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
    this.#waited = 0;
    return true;
  }

  /** The stream resumes after an outage beyond the store's window: start from the lowest buffered packet again. */
  reanchor(): void {
    this.anchored = false;
    this.#waited = 0;
  }

  destroy(): void {
    this.#concealer?.destroy();
    this.#stretcher?.destroy?.();
  }

  /** Appends one unit of audio to the queue (possibly nothing, when a silent frame is dropped); returns its kind. */
  #produce(nowMs: number): number {
    // A packet given up after its frame was already filled while waiting
    // takes no frame of its own: decide again for the packet after it.
    for (let pass = 0; pass < T.MAX_GIVE_UPS_PER_UNIT; pass++) {
      const kind = this.#decide(nowMs);
      if (kind !== DECIDE_AGAIN) return kind;
    }
    return this.#fill();
  }

  /** One decision; DECIDE_AGAIN when a missing packet was given up against a wait frame already played. */
  #decide(nowMs: number): number {
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
    // After a quiet frame with nothing later here, the gap may be DTX (the
    // packet is not missing, only not sent yet): keep waiting for it.
    if (atTarget && this.#waited > 0 && (!this.#lastDecodedQuiet || later >= 0)) {
      // Waited for (a forward-concealed frame played in its time) and still
      // missing past the late threshold: lost, and that frame was its
      // concealment. Going on to the next packet now keeps a loss at one
      // concealed frame and the delay where it was; concealing again would
      // cost a second frame and 20 ms more delay.
      this.#waited--;
      this.#giveUp();
      return DECIDE_AGAIN;
    }
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
        // Frames from this missing one up to the later packet: the concealer
        // plans the whole gap between the past and that packet.
        const untilNext = Math.round((store.tsOf(later) - this.#expectedTs) / this.#tsPerFrame);
        this.#giveUp();
        return untilNext >= 1 ? this.#concealBefore(later, untilNext) : this.#conceal();
      }
    }
    if (atTarget && !this.#quietLast() && !this.#lastDecodedQuiet) {
      // Due and not here: a loss (if it turns up now, it is late). Waiting
      // instead would meet the late packet out of phase with the concealment.
      this.#giveUp();
      return this.#conceal();
    }
    // Maybe late: fill its time and wait (a concealed frame in speech, which
    // becomes the packet's concealment if it never comes).
    const kind = this.#fill(!atTarget);
    if (kind === FrameKind.CONCEALED) this.#waited++;
    return kind;
  }

  /** The packet at `nextSeq` is lost: move past it. */
  #giveUp(): void {
    this.#countPacket(true);
    this.nextSeq++;
    this.#expectedTs += this.#tsPerFrame;
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
    this.#waited = 0;
    this.#concealedRun = 0;
    this.#quietWait = false;
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
    const grid = gridPoint(delayMs, target);
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
    const stretcher = this.#stretcher;
    if (!quiet && stretcher !== undefined) kind = steerSpeech(this.#queue, stretcher, this.#stats, delayMs + queuedBeforeMs, grid);
    if (quiet && delayMs < grid - T.HALF_FRAME_MS) this.#queue.appendNoise(spf);
    else if (quiet && stretcher !== undefined) {
      kind = trimPause(this.#queue, stretcher, this.#stats, Math.floor((delayMs + queuedBeforeMs - grid) / this.#msPerSample));
    }
    this.#last = kind;
    return kind;
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
    this.#concealedRun++;
    this.#last = FrameKind.CONCEALED;
    return FrameKind.CONCEALED;
  }

  /**
   * No packet for this frame: concealment in speech, comfort noise in a
   * pause (DTX). While the missing packet may still come (`maybeLate`), the
   * first QUIET_CONCEAL_FRAMES of a pause are concealed too: a late packet is
   * far more common than DTX starting, and the concealer continues the
   * pause's own sound and noise tilt (on 0–40 ms jitter, white comfort noise
   * there scored 0.15–0.2 PLCMOS lower).
   */
  #fill(maybeLate = false): number {
    if (this.#lastDecodedQuiet) {
      if (maybeLate && !this.#quietLast() && this.#concealedRun < T.QUIET_CONCEAL_FRAMES) {
        if (this.#concealedRun === 0) this.#quietWait = true;
      } else if (this.#last !== FrameKind.CONCEALED || this.#quietWait) {
        return this.#comfortNoise();
      }
    }
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
    this.#concealedRun++;
    this.#last = FrameKind.CONCEALED;
    return FrameKind.CONCEALED;
  }

  #comfortNoise(): number {
    const kind = this.#queue.appendNoise(this.#spf);
    this.#last = kind;
    return kind;
  }
}
