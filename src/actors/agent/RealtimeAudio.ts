import { ulawDecode, ulawEncode } from '../../dsp/g711.ts';
import { Resampler } from '../../dsp/resampler.ts';

/**
 * The audio between the call's 20 ms PCM frames and the Realtime socket's
 * formats: `audio/pcmu` (G.711 µ-law, 8 kHz, one byte a sample) or
 * `audio/pcm` (s16le at 24 kHz). Both directions work on buffers allocated
 * here once; nothing allocates per frame or per delta.
 */
export type RealtimeFormat = 'pcmu' | 'pcm24';

/** The API's PCM rate. */
export const REALTIME_PCM_RATE_HZ = 24000;
/** Socket bytes per ms of audio in each format. */
export function bytesPerMs(format: RealtimeFormat): number {
  return format === 'pcmu' ? 8 : 48;
}

/**
 * Caller → API: conditioned frames encoded into a ring of whole socket
 * frames, taken out in fixed batches by the sender. While the socket is not
 * open (or stalls) the ring keeps the newest `capacityFrames`; older ones
 * are dropped and counted.
 */
export class Uplink {
  readonly bytesPerFrame: number;
  /** Frames dropped because the ring was full. */
  dropped = 0;
  readonly #format: RealtimeFormat;
  readonly #ring: Uint8Array;
  readonly #capacity: number;
  #head = 0;
  #count = 0;
  readonly #ulaw: Uint8Array;
  readonly #resampler: Resampler | undefined;
  readonly #pcm24: Int16Array;

  constructor(format: RealtimeFormat, rateHz: number, frameMs: number, capacityFrames: number) {
    this.#format = format;
    const spf = (rateHz * frameMs) / 1000;
    this.bytesPerFrame = format === 'pcmu' ? spf : (REALTIME_PCM_RATE_HZ * frameMs * 2) / 1000;
    this.#capacity = capacityFrames;
    this.#ring = new Uint8Array(capacityFrames * this.bytesPerFrame);
    this.#ulaw = new Uint8Array(format === 'pcmu' ? spf : 0);
    this.#resampler = format === 'pcm24' && rateHz !== REALTIME_PCM_RATE_HZ ? new Resampler(rateHz, REALTIME_PCM_RATE_HZ) : undefined;
    this.#pcm24 = new Int16Array(format === 'pcm24' ? this.bytesPerFrame / 2 : 0);
  }

  get frames(): number {
    return this.#count;
  }

  /** Encodes one frame (exactly a frame's samples) onto the ring. */
  push(pcm: Int16Array): void {
    if (this.#count === this.#capacity) {
      this.#head = (this.#head + 1) % this.#capacity;
      this.#count--;
      this.dropped++;
    }
    const at = ((this.#head + this.#count) % this.#capacity) * this.bytesPerFrame;
    const ring = this.#ring;
    if (this.#format === 'pcmu') {
      ulawEncode(pcm, this.#ulaw);
      ring.set(this.#ulaw, at);
    } else {
      const src = this.#resampler === undefined ? pcm : this.#pcm24;
      this.#resampler?.process(pcm, this.#pcm24);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        ring[at + 2 * i] = v & 0xff;
        ring[at + 2 * i + 1] = (v >> 8) & 0xff;
      }
    }
    this.#count++;
  }

  /** Moves the oldest `frames` frames into `out` (which must hold them); returns bytes, 0 when fewer are queued. */
  take(out: Uint8Array, frames: number): number {
    if (this.#count < frames) return 0;
    const bpf = this.bytesPerFrame;
    for (let f = 0; f < frames; f++) {
      const from = this.#head * bpf;
      for (let i = 0; i < bpf; i++) out[f * bpf + i] = this.#ring[from + i]!;
      this.#head = (this.#head + 1) % this.#capacity;
      this.#count--;
    }
    return frames * bpf;
  }

  destroy(): void {
    this.#resampler?.destroy();
  }
}

/**
 * API → caller: socket audio decoded into a queue of whole frames at the
 * call's rate, each tagged with the ordinal of the item it belongs to, so
 * the agent knows which item every frame it plays came from. An item's last
 * frame is padded with silence (`endItem`), so no frame mixes two items.
 */
export class Downlink {
  /** Frames refused because the queue was full. */
  overflows = 0;
  readonly #format: RealtimeFormat;
  readonly #spf: number;
  readonly #frames: Int16Array;
  readonly #ordinals: Int32Array;
  readonly #capacity: number;
  #head = 0;
  #count = 0;
  readonly #partial: Int16Array;
  #partialN = 0;
  #ordinal = -1;
  /** µ-law code → sample, from the DSP core's decoder. */
  readonly #ulaw = new Int16Array(256);
  readonly #resampler: Resampler | undefined;
  /** 24 kHz samples waiting for a whole 20 ms to resample; a low byte waiting for its high byte. */
  readonly #carry: Int16Array;
  #carryN = 0;
  #oddByte = -1;
  readonly #resampled: Int16Array;

  constructor(format: RealtimeFormat, rateHz: number, frameMs: number, capacityFrames: number) {
    this.#format = format;
    this.#spf = (rateHz * frameMs) / 1000;
    this.#capacity = capacityFrames;
    this.#frames = new Int16Array(capacityFrames * this.#spf);
    this.#ordinals = new Int32Array(capacityFrames);
    this.#partial = new Int16Array(this.#spf);
    const codes = new Uint8Array(256);
    for (let i = 0; i < 256; i++) codes[i] = i;
    ulawDecode(codes, this.#ulaw);
    this.#carry = new Int16Array(format === 'pcm24' ? (REALTIME_PCM_RATE_HZ * frameMs) / 1000 : 0);
    this.#resampler = format === 'pcm24' && rateHz !== REALTIME_PCM_RATE_HZ ? new Resampler(REALTIME_PCM_RATE_HZ, rateHz) : undefined;
    this.#resampled = new Int16Array(this.#spf);
  }

  get queuedFrames(): number {
    return this.#count;
  }

  /** True when some audio is decoded but not yet a whole frame. */
  get holdsPartial(): boolean {
    return this.#partialN > 0 || this.#carryN > 0;
  }

  /** The ordinal of the oldest queued frame, or -1. */
  headOrdinal(): number {
    return this.#count > 0 ? this.#ordinals[this.#head]! : -1;
  }

  /** Decodes `n` socket bytes of item `ordinal`; a new ordinal ends the previous item first. */
  push(bytes: Uint8Array, n: number, ordinal: number): void {
    if (ordinal !== this.#ordinal) {
      this.endItem();
      this.#ordinal = ordinal;
    }
    if (this.#format === 'pcmu') {
      const table = this.#ulaw;
      for (let i = 0; i < n; i++) this.#sample(table[bytes[i]!]!);
      return;
    }
    let i = 0;
    if (this.#oddByte >= 0 && n > 0) {
      this.#sample24(((bytes[0]! << 24) >> 16) | this.#oddByte);
      this.#oddByte = -1;
      i = 1;
    }
    for (; i + 1 < n; i += 2) this.#sample24(((bytes[i + 1]! << 24) >> 16) | bytes[i]!);
    if (i < n) this.#oddByte = bytes[i]!;
  }

  /** The current item's audio is complete: flush what waits for a whole frame, padded with silence. */
  endItem(): void {
    this.#oddByte = -1;
    if (this.#carryN > 0) {
      this.#carry.fill(0, this.#carryN);
      this.#flush24();
    }
    if (this.#partialN > 0) {
      this.#partial.fill(0, this.#partialN);
      this.#commit();
    }
  }

  /** Drops everything queued and pending (barge-in). */
  clear(): void {
    this.#head = 0;
    this.#count = 0;
    this.#partialN = 0;
    this.#carryN = 0;
    this.#oddByte = -1;
    this.#ordinal = -1;
    this.#resampler?.reset();
  }

  /** Moves the oldest frame into `out`; returns its item ordinal, or -1 when the queue is empty. */
  pop(out: Int16Array): number {
    if (this.#count === 0) return -1;
    const spf = this.#spf;
    const from = this.#head * spf;
    const frames = this.#frames;
    for (let i = 0; i < spf; i++) out[i] = frames[from + i]!;
    const ordinal = this.#ordinals[this.#head]!;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#count--;
    return ordinal;
  }

  destroy(): void {
    this.#resampler?.destroy();
  }

  #sample24(v: number): void {
    this.#carry[this.#carryN++] = v;
    if (this.#carryN === this.#carry.length) this.#flush24();
  }

  #flush24(): void {
    this.#carryN = 0;
    if (this.#resampler === undefined) {
      for (let i = 0; i < this.#carry.length; i++) this.#sample(this.#carry[i]!);
      return;
    }
    const made = this.#resampler.process(this.#carry, this.#resampled);
    for (let i = 0; i < made; i++) this.#sample(this.#resampled[i]!);
  }

  #sample(v: number): void {
    this.#partial[this.#partialN++] = v;
    if (this.#partialN === this.#spf) this.#commit();
  }

  #commit(): void {
    this.#partialN = 0;
    if (this.#count === this.#capacity) {
      this.overflows++;
      return;
    }
    const at = ((this.#head + this.#count) % this.#capacity) * this.#spf;
    this.#frames.set(this.#partial, at);
    this.#ordinals[(this.#head + this.#count) % this.#capacity] = this.#ordinal;
    this.#count++;
  }
}
