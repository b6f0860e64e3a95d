import type { JitterStats } from './JitterStats.ts';
import { FrameKind, type PcmConcealer, type PcmStretcher } from './FrameKind.ts';
import type { PacketDecoder } from './PacketDecoder.ts';
import { rmsOf, type SampleQueue } from './SampleQueue.ts';
import * as T from './playoutTuning.ts';
import { gridPoint, steerSpeech, trimPause } from './delaySteering.ts';

/**
 * What the playout's decisions (Playout.ts) put into the sample queue, as
 * NetEq's operations carry out its DecisionLogic: a decoded packet, played,
 * accelerated, expanded or dropped in a pause; a concealed frame, from the
 * past alone or towards a later packet; comfort noise. Keeps what the
 * decisions need to know of what was played.
 */
export class PlayoutOperations {
  /** The kind of the last unit queued (FrameKind). */
  last: number = FrameKind.SILENCE;
  lastDecodedQuiet = true;
  /** Set by a concealment planned towards a later packet: the audio already heads for that packet, so no rewind. */
  planned = false;

  readonly #queue: SampleQueue;
  readonly #decoder: PacketDecoder;
  readonly #stats: JitterStats;
  readonly #concealer: PcmConcealer | undefined;
  readonly #stretcher: PcmStretcher | undefined;
  readonly #spf: number;
  readonly #msPerSample: number;
  /**
   * Decoded audio of one packet (the stream's longest), for Playout's decodes
   * and the packet a concealment heads for: each is queued or copied out
   * before the next decode, so one buffer serves both.
   */
  readonly decoded: Int16Array;
  readonly #frameIn: Int16Array;
  readonly #frameOut: Int16Array;
  /** Frames concealed since the last decoded packet. */
  #concealedRun = 0;
  /** The concealment going on began as a wait in a pause: what follows it there is comfort noise. */
  #quietWait = false;

  /** `concealer`: none when the decoder conceals by itself (Opus). */
  constructor(
    queue: SampleQueue,
    decoder: PacketDecoder,
    stats: JitterStats,
    concealer: PcmConcealer | undefined,
    stretcher: PcmStretcher | undefined,
  ) {
    this.#queue = queue;
    this.#decoder = decoder;
    this.#stats = stats;
    this.#concealer = concealer;
    this.#stretcher = stretcher;
    this.#spf = decoder.samplesPerFrame;
    this.#msPerSample = 1000 / decoder.rateHz;
    this.decoded = new Int16Array(decoder.maxPacketSamples);
    this.#frameIn = new Int16Array(this.#spf);
    this.#frameOut = new Int16Array(this.#spf);
  }

  /** A new stream: forget the signal history. */
  reset(): void {
    this.#concealer?.reset();
    this.lastDecodedQuiet = true;
  }

  destroy(): void {
    this.#concealer?.destroy();
    this.#stretcher?.destroy?.();
  }

  quietLast(): boolean {
    return this.last === FrameKind.COMFORT_NOISE || this.last === FrameKind.SILENCE;
  }

  /** Queues a decoded packet (`n` samples of `dec`; none: it failed), stretched or dropped as the delay asks. */
  play(dec: Int16Array, n: number, delayMs: number, target: number): number {
    this.planned = false;
    this.#concealedRun = 0;
    this.#quietWait = false;
    if (n <= 0) return this.conceal();
    const queuedBeforeMs = this.#queue.length * this.#msPerSample;
    const rms = rmsOf(dec, n);
    const quiet = rms < T.QUIET_RMS;
    this.#queue.trackNoise(rms);
    this.lastDecodedQuiet = quiet;
    const spf = this.#spf;
    const concealer = this.#concealer;
    const grid = gridPoint(delayMs, target);
    if (quiet && this.last !== FrameKind.CONCEALED && delayMs > grid + T.HALF_FRAME_MS) {
      if (concealer !== undefined && n >= spf) {
        // The concealer still sees the frame, so its history stays continuous.
        for (let i = 0; i < spf; i++) this.#frameIn[i] = dec[i]!;
        concealer.good(this.#frameIn, this.#frameOut);
      }
      this.#stats.removedSamplesForAcceleration += n;
      this.last = FrameKind.ACCELERATED;
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
    this.last = kind;
    return kind;
  }

  /**
   * A lost frame `framesUntilNext` frames before the packet `payload`,
   * interpolated towards it (Opus: its in-band FEC, which only covers the
   * frame right before).
   */
  concealBefore(payload: Uint8Array, length: number, framesUntilNext: number): number {
    const dec = this.#decoder;
    const frame = this.#frameOut;
    if (dec.ownsConcealment && framesUntilNext > 1) {
      return this.conceal();
    } else if (dec.ownsConcealment) {
      const n = dec.decodeFec(payload, length, frame);
      if (n <= 0) frame.fill(0);
      this.planned = true;
      this.#stats.fecPacketsRecovered = dec.fecRecovered;
    } else if (this.#concealer !== undefined && dec.stateless) {
      const ahead = this.decoded;
      const n = dec.decode(payload, length, ahead);
      if (n < this.#spf) return this.conceal();
      for (let i = 0; i < this.#spf; i++) this.#frameIn[i] = ahead[i]!;
      this.#concealer.concealBefore(this.#frameIn, frame, framesUntilNext);
      this.planned = true;
    } else {
      return this.conceal();
    }
    this.#queue.append(frame, 0, this.#spf);
    this.#concealedRun++;
    this.last = FrameKind.CONCEALED;
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
  fill(maybeLate = false): number {
    if (this.lastDecodedQuiet) {
      if (maybeLate && !this.quietLast() && this.#concealedRun < T.QUIET_CONCEAL_FRAMES) {
        if (this.#concealedRun === 0) this.#quietWait = true;
      } else if (this.last !== FrameKind.CONCEALED || this.#quietWait) {
        return this.comfortNoise();
      }
    }
    return this.conceal();
  }

  conceal(): number {
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
    this.last = FrameKind.CONCEALED;
    return FrameKind.CONCEALED;
  }

  comfortNoise(): number {
    const kind = this.#queue.appendNoise(this.#spf);
    this.last = kind;
    return kind;
  }
}
