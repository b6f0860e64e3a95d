import type { JitterCodec } from './PacketDecoder.ts';
import { alawEncode, ulawEncode } from './g711.ts';
import { G722Encoder } from './g722.ts';
import { OpusEncoder } from './opus.ts';

/** Opus's start bitrate for a raw stream: wideband speech with room (RFC 7587 §3.1.1 suggests 28–40 kbit/s fullband). */
export const STREAM_OPUS_BPS = 32_000;

/**
 * One 20 ms PCM frame → one encoded frame, for every codec the engine
 * speaks: G.711 µ-law/A-law, G.722, Opus and L16 (network byte order, RFC
 * 3551 §4.5.11). Encoder state lives here, one per stream. Allocates only in
 * its constructor; `encode` takes exactly `samplesPerFrame` samples and returns the byte count, or a negative number when
 * the frame could not be encoded (wrong size, `out` too small).
 */
export class FrameEncoder {
  readonly codec: JitterCodec;
  readonly samplesPerFrame: number;
  readonly #g722: G722Encoder | undefined;
  readonly #opus: OpusEncoder | undefined;

  constructor(codec: JitterCodec, rateHz: number, opusBitrateBps = STREAM_OPUS_BPS) {
    this.codec = codec;
    this.samplesPerFrame = (rateHz * 20) / 1000;
    this.#g722 = codec === 'G722' ? new G722Encoder() : undefined;
    this.#opus = codec === 'opus' ? new OpusEncoder({ rateHz, bitrateBps: opusBitrateBps, fec: false, dtx: false }) : undefined;
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    const spf = this.samplesPerFrame;
    if (pcm.length !== spf) return -1;
    switch (this.codec) {
      case 'PCMU':
        return ulawEncode(pcm, out, spf) === spf ? spf : -1;
      case 'PCMA':
        return alawEncode(pcm, out, spf) === spf ? spf : -1;
      case 'G722':
        return this.#g722!.encode(pcm, out) === spf / 2 ? spf / 2 : -1;
      case 'opus':
        return this.#opus!.encode(pcm, out);
      case 'L16': {
        if (out.length < 2 * spf) return -1;
        for (let i = 0; i < spf; i++) {
          const s = pcm[i]!;
          out[2 * i] = (s >> 8) & 0xff;
          out[2 * i + 1] = s & 0xff;
        }
        return 2 * spf;
      }
    }
  }

  destroy(): void {
    this.#g722?.destroy();
    this.#opus?.destroy();
  }
}
