import { alawDecode, ulawDecode } from './g711.ts';
import { G722Decoder } from './g722.ts';
import { OPUS_RATES_HZ, OpusDecoder } from './opus.ts';
import { MAX_PAYLOAD_BYTES } from '../frames/PacketRing.ts';

/**
 * Payload → PCM for one stream, per codec: G.711 µ-law/A-law (8 kHz), G.722
 * (16 kHz audio on RFC 3551's 8 kHz RTP clock), L16 (network byte order,
 * RFC 3551 §4.5.11, at the stream's rate) and Opus (48 kHz RTP clock, RFC
 * 7587; decoded at the stream's rate, with libopus's own concealment and
 * in-band FEC). The decoder does not resample: the stream's `rateHz` must be
 * the codec's audio rate (legs resample at their edges).
 *
 * `decode` takes the payload as the first `length` bytes of a caller's array
 * (the jitter buffer's packet store), and so do the codec wrappers: the
 * bytes go straight from the store into WebAssembly memory in one bulk copy,
 * and nothing is allocated.
 */

export type JitterCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16';
export const JITTER_CODECS: readonly JitterCodec[] = ['PCMU', 'PCMA', 'G722', 'opus', 'L16'];

/** Longest decoded packet of any stream: 120 ms of Opus at 48 kHz. */
export const MAX_PACKET_SAMPLES = 5760;

/**
 * Samples the largest packet a stream can carry decodes to at its rate:
 * Opus packets last at most 120 ms (RFC 6716 §3.2.1); the others are sample
 * codecs, so a MAX_PAYLOAD_BYTES payload is the most (G.711 187.5 ms, as RFC
 * 3551 §4.2's 200 ms packets allow; G.722 two samples a byte; L16 two bytes a
 * sample).
 */
export function maxPacketSamples(codec: JitterCodec, rateHz: number): number {
  switch (codec) {
    case 'PCMU':
    case 'PCMA':
      return MAX_PAYLOAD_BYTES;
    case 'G722':
      return 2 * MAX_PAYLOAD_BYTES;
    case 'L16':
      return MAX_PAYLOAD_BYTES >> 1;
    default:
      return Math.ceil((rateHz * 120) / 1000);
  }
}

/**
 * Payload bytes per second of the stream's codec at its highest sensible
 * bitrate, what the packet store is sized from: G.711 and G.722 64 kbit/s
 * (RFC 3551 §4.5.14, §4.5.2); L16 two bytes a sample, mono (§4.5.11); Opus
 * 128 kbit/s, the top of RFC 7587 §3.1.1's recommended range (fullband
 * stereo music; speech needs 40 kbit/s at most).
 */
export function maxPayloadBytesPerSecond(codec: JitterCodec, rateHz: number): number {
  switch (codec) {
    case 'L16':
      return 2 * rateHz;
    case 'opus':
      return 128000 / 8;
    default:
      return 8000;
  }
}

const L16_RATES_HZ: readonly number[] = [8000, 16000, 24000, 48000];

/** RTP clock rate and audio rate the codec allows (throws a RangeError naming the codec and rate). */
export function codecClock(codec: JitterCodec, rateHz: number): number {
  switch (codec) {
    case 'PCMU':
    case 'PCMA':
      if (rateHz !== 8000) throw new RangeError(`${codec} is 8000 Hz audio [rateHz:${rateHz}]`);
      return 8000;
    case 'G722':
      if (rateHz !== 16000) throw new RangeError(`G722 is 16000 Hz audio [rateHz:${rateHz}]`);
      // RFC 3551 §4.5.2: G.722's RTP clock is 8000 Hz although it samples at 16 kHz.
      return 8000;
    case 'L16':
      if (!L16_RATES_HZ.includes(rateHz)) throw new RangeError(`L16 rateHz must be one of ${L16_RATES_HZ.join(', ')} [rateHz:${rateHz}]`);
      return rateHz;
    case 'opus':
      if (!OPUS_RATES_HZ.includes(rateHz)) throw new RangeError(`opus rateHz must be one of ${OPUS_RATES_HZ.join(', ')} [rateHz:${rateHz}]`);
      // RFC 7587 §4.1: the Opus RTP clock is always 48 kHz.
      return 48000;
    default:
      throw new RangeError(`unknown codec "${String(codec)}" (${JITTER_CODECS.join(', ')})`);
  }
}

export class PacketDecoder {
  readonly codec: JitterCodec;
  readonly rateHz: number;
  /** RTP timestamp units per second. */
  readonly clockHz: number;
  /** Samples of one 20 ms frame at `rateHz`. */
  readonly samplesPerFrame: number;
  /** Opus conceals and recovers FEC inside its decoder; the others need a Concealer. */
  readonly ownsConcealment: boolean;
  /** What `decode`'s output must hold: the longest packet of this stream (`maxPacketSamples`). */
  readonly maxPacketSamples: number;

  readonly #g722: G722Decoder | undefined;
  readonly #opus: OpusDecoder | undefined;

  constructor(codec: JitterCodec, rateHz: number) {
    this.clockHz = codecClock(codec, rateHz);
    this.codec = codec;
    this.rateHz = rateHz;
    this.samplesPerFrame = (rateHz * 20) / 1000;
    this.ownsConcealment = codec === 'opus';
    this.maxPacketSamples = maxPacketSamples(codec, rateHz);
    this.#g722 = codec === 'G722' ? new G722Decoder() : undefined;
    this.#opus = codec === 'opus' ? new OpusDecoder({ rateHz }) : undefined;
  }

  /** Samples at `rateHz` that `tsUnits` of RTP clock stand for. */
  samplesForTimestamp(tsUnits: number): number {
    return Math.round((tsUnits * this.rateHz) / this.clockHz);
  }

  /**
   * Decodes the first `length` bytes of `payload` into `out` (which must hold
   * `maxPacketSamples`); returns the samples written, or 0 for a payload the
   * codec refuses (the caller conceals). A stateless decoder of a stateful
   * codec (G.722) runs its state forward.
   */
  decode(payload: Uint8Array, length: number, out: Int16Array): number {
    if (length <= 0 || length > MAX_PAYLOAD_BYTES) return 0;
    switch (this.codec) {
      case 'PCMU':
        return ulawDecode(payload, out, length);
      case 'PCMA':
        return alawDecode(payload, out, length);
      case 'G722':
        return this.#g722!.decode(payload, out, length);
      case 'L16': {
        const n = Math.min(length >> 1, out.length);
        // Network byte order (big-endian), RFC 3551 §4.5.11.
        for (let i = 0; i < n; i++) out[i] = (payload[2 * i]! << 8) | payload[2 * i + 1]!;
        return n;
      }
      case 'opus': {
        const n = this.#opus!.decode(payload, out, length);
        return n > 0 ? n : 0;
      }
    }
  }

  /** Opus only: one 20 ms frame of the decoder's own concealment; 0 for the other codecs. */
  conceal(out: Int16Array): number {
    if (this.#opus === undefined) return 0;
    const n = this.#opus.conceal(out);
    return n > 0 ? n : 0;
  }

  /** Opus only: the frame before `next`, from its in-band FEC (RFC 6716 §4.2.4), else concealed; 0 for the other codecs. */
  decodeFec(next: Uint8Array, length: number, out: Int16Array): number {
    if (this.#opus === undefined || length <= 0 || length > MAX_PAYLOAD_BYTES) return 0;
    const n = this.#opus.decodeFec(next, out, length);
    return n > 0 ? n : 0;
  }

  /** Whether decoding the next packet ahead of time leaves this decoder's state alone (G.711, L16). */
  get stateless(): boolean {
    return this.codec === 'PCMU' || this.codec === 'PCMA' || this.codec === 'L16';
  }

  /** Opus: frames recovered from FEC so far. */
  get fecRecovered(): number {
    return this.#opus?.counters.fec ?? 0;
  }

  /** A new stream: forgets the decoder's history. */
  reset(): void {
    this.#g722?.reset();
    this.#opus?.reset();
  }

  destroy(): void {
    this.#g722?.destroy();
    this.#opus?.destroy();
  }
}
