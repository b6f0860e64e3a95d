import { FrameKind, type PcmStretcher } from './FrameKind.ts';
import { MAX_PACKET_SAMPLES } from './PacketDecoder.ts';

/** Comfort noise never louder than this RMS (about −40 dBFS), whatever the floor estimate says. */
const MAX_NOISE_RMS = 300;

/**
 * The decoded audio waiting to play, ahead of the frame `pull` takes: a
 * preallocated linear buffer (a packet may decode to up to 120 ms, more for
 * G.711 and G.722, and stretching changes lengths, so units of audio do not
 * line up with frames), sized for the stream's longest packet.
 * Also makes comfort noise at the stream's noise floor. Nothing here
 * allocates after construction.
 */
export class SampleQueue {
  readonly #buf: Int16Array;
  #length = 0;
  readonly #stretched: Int16Array;
  #noiseRms = 0;
  #lcg = 0x2545f491;

  /** `maxPacketSamples`: the longest packet the stream decodes to (PacketDecoder.maxPacketSamples). */
  constructor(samplesPerFrame: number, maxPacketSamples = MAX_PACKET_SAMPLES) {
    this.#buf = new Int16Array(maxPacketSamples + 4 * samplesPerFrame);
    this.#stretched = new Int16Array(4 * samplesPerFrame);
  }

  get length(): number {
    return this.#length;
  }

  /** Appends `n` samples of `src` from `from` (what fits). */
  append(src: Int16Array, from: number, n: number): void {
    const buf = this.#buf;
    const room = buf.length - this.#length;
    if (n > room) n = room;
    const base = this.#length - from;
    for (let i = from; i < from + n; i++) buf[base + i] = src[i]!;
    this.#length += n;
  }

  appendZeros(n: number): void {
    const end = Math.min(this.#length + n, this.#buf.length);
    this.#buf.fill(0, this.#length, end);
    this.#length = end;
  }

  /** White noise at the tracked floor; returns COMFORT_NOISE, or SILENCE when there is no floor yet. */
  appendNoise(n: number): number {
    const buf = this.#buf;
    const amp = Math.min(this.#noiseRms, MAX_NOISE_RMS) * Math.sqrt(3);
    const end = Math.min(this.#length + n, buf.length);
    if (amp < 1) {
      buf.fill(0, this.#length, end);
      this.#length = end;
      return FrameKind.SILENCE;
    }
    let x = this.#lcg;
    for (let i = this.#length; i < end; i++) {
      // Numerical Recipes' LCG: cheap, allocation-free, and good enough for noise.
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      buf[i] = Math.round((x / 2147483648 - 1) * amp);
    }
    this.#lcg = x;
    this.#length = end;
    return FrameKind.COMFORT_NOISE;
  }

  /** A floor follower over decoded frames' RMS: falls at once to a quieter frame, rises slowly, so speech does not lift it. */
  trackNoise(rms: number): void {
    if (this.#noiseRms === 0 || rms < this.#noiseRms) this.#noiseRms = rms;
    else this.#noiseRms += (rms - this.#noiseRms) * 0.002;
  }

  /** Moves the first `n` samples into `out` (as many as it holds) and shifts the rest down. */
  take(out: Int16Array, n: number): void {
    const buf = this.#buf;
    const k = Math.min(n, out.length, this.#length);
    for (let i = 0; i < k; i++) out[i] = buf[i]!;
    buf.copyWithin(0, n, this.#length);
    this.#length = this.#length > n ? this.#length - n : 0;
  }

  /**
   * Accelerates (direction −1) or expands (+1) everything queued, so an
   * acceleration shortens audio that has not played yet rather than leaving a
   * longer queue behind. Returns the samples removed (negative) or inserted,
   * 0 when the stretcher declined, the queue is too long for it, or the
   * change would exceed `maxChange` samples.
   */
  stretch(stretcher: PcmStretcher, direction: -1 | 1, maxChange = Infinity): number {
    const len = this.#length;
    const out = this.#stretched;
    if (len === 0 || len > out.length / 2 + out.length / 4) return 0;
    const m = direction < 0 ? stretcher.accelerate(this.#buf, len, out) : stretcher.expand(this.#buf, len, out);
    if (direction < 0 ? !(m > 0 && m < len) : !(m > len && m <= out.length)) return 0;
    if (Math.abs(m - len) > maxChange) return 0;
    const buf = this.#buf;
    for (let i = 0; i < m; i++) buf[i] = out[i]!;
    this.#length = m;
    return m - len;
  }

  clear(): void {
    this.#length = 0;
  }
}

/** Root mean square of the first `n` samples (the quiet test for drops, comfort noise and DTX). */
export function rmsOf(x: Int16Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / n);
}
