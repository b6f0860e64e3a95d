import type { DelayManager } from './DelayManager.ts';
import type { JitterStats } from './JitterStats.ts';
import { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';
import type { PacketDecoder } from './PacketDecoder.ts';
import type { PacketStore } from './PacketStore.ts';
import { PlayoutOperations } from './PlayoutOperations.ts';
import { SampleQueue } from './SampleQueue.ts';
import * as T from './playoutTuning.ts';

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
  /** The last decoded packet's extended timestamp, and its delay as heard (lastPlayoutMs − its earliest arrival), ms. */
  lastPlayedTs = 0;
  lastPlayedDelayMs = 0;
  /**
   * Delay added on top of the delay manager's target to align this stream
   * with others (a sync group, src/sync/): reached by the same stretching
   * as any other target change, so it costs no gap and no jump.
   */
  syncDelayMs = 0;

  readonly #store: PacketStore;
  readonly #decoder: PacketDecoder;
  readonly #delay: DelayManager;
  readonly #stats: JitterStats;
  readonly #spf: number;
  readonly #msPerSample: number;
  readonly #msPerTs: number;

  readonly #queue: SampleQueue;
  readonly #ops: PlayoutOperations;

  #lastArrivalMs = 0;
  #nowMs = 0;
  #lossAvg = 0;
  /** Frames concealed while waiting for the packet at `nextSeq` (not given up yet): each stands in for one packet given up later. */
  #waited = 0;
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
    this.#spf = decoder.samplesPerFrame;
    this.#msPerSample = 1000 / decoder.rateHz;
    this.#msPerTs = 1000 / decoder.clockHz;
    this.#tsPerFrame = decoder.clockHz / 50;
    this.#tsPerSample = decoder.clockHz / decoder.rateHz;
    this.#queue = new SampleQueue(this.#spf, decoder.maxPacketSamples);
    this.#ops = new PlayoutOperations(this.#queue, decoder, stats, decoder.ownsConcealment ? undefined : concealer, stretcher);
  }

  pull(out: Int16Array, nowMs: number): number {
    const spf = this.#spf;
    this.#nowMs = nowMs;
    let kind = -1;
    const queue = this.#queue;
    for (let units = 0; queue.length < spf && units < T.MAX_UNITS_PER_PULL; units++) kind = this.#produce(nowMs);
    if (queue.length < spf) queue.appendZeros(spf - queue.length);
    if (kind < 0) kind = this.#ops.last;
    queue.take(out, spf);
    const decoded = kind === FrameKind.NORMAL || kind === FrameKind.ACCELERATED || kind === FrameKind.EXPANDED;
    this.#stats.countFrame(kind === FrameKind.CONCEALED, decoded ? nowMs - this.#lastArrivalMs : -1, spf, this.#msPerSample, this.targetMs);
    return kind;
  }

  /** A new stream (SSRC change): forget playout position and signal history. */
  reset(): void {
    this.restart();
    this.#ops.reset();
  }

  /** A sequence restart: choose a new starting packet, keep the audio history. */
  restart(): void {
    this.anchored = false;
    this.nextSeq = 0;
    this.#waited = 0;
    this.#ops.last = FrameKind.SILENCE;
  }

  /**
   * A packet arrived after the playout gave it up, while what has played
   * since the last decoded packet is forward concealment only: it plays after
   * all, the concealment becoming a wait (an expansion, as NetEq's expand
   * is), instead of being lost. Returns false when it is simply late.
   */
  rewind(extSeq: number, extTs: number): boolean {
    if (!this.anchored || this.#ops.last !== FrameKind.CONCEALED || this.#ops.planned) return false;
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
    this.#ops.destroy();
  }

  /** Appends one unit of audio to the queue (possibly nothing, when a silent frame is dropped); returns its kind. */
  #produce(nowMs: number): number {
    // A packet given up after its frame was already filled while waiting
    // takes no frame of its own: decide again for the packet after it.
    for (let pass = 0; pass < T.MAX_GIVE_UPS_PER_UNIT; pass++) {
      const kind = this.#decide(nowMs);
      if (kind !== DECIDE_AGAIN) return kind;
    }
    return this.#ops.fill();
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
      if (first < 0) return this.#ops.fill();
      const d = nowMs - store.tsOf(first) * this.#msPerTs - minTransit;
      if (d < target - T.STRETCH_MARGIN_MS) return this.#ops.comfortNoise();
      this.anchored = true;
      this.nextSeq = store.seqOf(first);
      this.#expectedTs = store.tsOf(first);
    }
    let slot = store.find(this.nextSeq);
    if (slot >= 0) {
      let d = nowMs - store.tsOf(slot) * this.#msPerTs - minTransit;
      // A talkspurt start (marker bit) after silence or a concealed pause waits for the target too.
      const spurt = this.#ops.quietLast() || (store.markerOf(slot) && this.#ops.last === FrameKind.CONCEALED);
      if (spurt && d < target - T.STRETCH_MARGIN_MS) return this.#ops.comfortNoise();
      if (this.#ops.last === FrameKind.CONCEALED && d > target + T.BACKLOG_MS) {
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
    if (atTarget && this.#waited > 0 && (!this.#ops.lastDecodedQuiet || later >= 0)) {
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
      if ((this.#ops.last === FrameKind.CONCEALED || this.#ops.quietLast()) && dl >= target + T.HALF_FRAME_MS) {
        return this.#play(later, dl, target);
      }
      // With a later packet here the missing one is more likely lost than
      // late: commit at the grid point nearest the target, interpolating
      // towards the later packet when it is the very next one.
      if (atTarget && !this.#ops.quietLast()) {
        // Frames from this missing one up to the later packet: the concealer
        // plans the whole gap between the past and that packet.
        const untilNext = Math.round((store.tsOf(later) - this.#expectedTs) / this.#tsPerFrame);
        this.#giveUp();
        return untilNext >= 1 ? this.#ops.concealBefore(store.payloadOf(later), store.lengthOf(later), untilNext) : this.#ops.conceal();
      }
    }
    if (atTarget && !this.#ops.quietLast() && !this.#ops.lastDecodedQuiet) {
      // Due and not here: a loss (if it turns up now, it is late). Waiting
      // instead would meet the late packet out of phase with the concealment.
      this.#giveUp();
      return this.#ops.conceal();
    }
    // Maybe late: fill its time and wait (a concealed frame in speech, which
    // becomes the packet's concealment if it never comes).
    const kind = this.#ops.fill(!atTarget);
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
    const sync = this.syncDelayMs;
    if (sync <= 0) return this.#ownTargetMs;
    const t = this.#ownTargetMs + sync;
    return t > this.#delay.maxDelayMs ? this.#delay.maxDelayMs : t;
  }

  /** The target this stream needs for itself (without the sync delay). */
  get ownTargetMs(): number {
    return this.#ownTargetMs;
  }

  get #ownTargetMs(): number {
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

  /** Decodes the packet in `slot`, moves the playout past it and hands its audio to #ops.play. */
  #play(slot: number, delayMs: number, target: number): number {
    const store = this.#store;
    const dec = this.#ops.decoded;
    const n = this.#decoder.decode(store.payloadOf(slot), store.lengthOf(slot), dec);
    if (n <= 0) this.#stats.packetsDiscarded++;
    this.#countPacket(n <= 0);
    this.lastPlayedSeq = store.seqOf(slot);
    this.#waited = 0;
    this.lastPlayoutMs = this.#nowMs + this.#queue.length * this.#msPerSample;
    this.lastPlayedTs = store.tsOf(slot);
    this.lastPlayedDelayMs = this.lastPlayoutMs - this.lastPlayedTs * this.#msPerTs - this.#delay.minTransitMs;
    this.nextSeq = this.lastPlayedSeq + 1;
    this.#expectedTs = store.tsOf(slot) + Math.round(n > 0 ? n * this.#tsPerSample : this.#tsPerFrame);
    this.#lastArrivalMs = store.arrivalOf(slot);
    store.release(slot);
    // Packets below the new position are now late; free their slots.
    store.dropBelow(this.nextSeq);
    this.#stats.currentDelayMs = delayMs;
    return this.#ops.play(dec, n, delayMs, target);
  }
}
