import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../dsp/g711.ts';
import { G722Decoder, G722Encoder } from '../dsp/g722.ts';
import { OpusDecoder, OpusEncoder } from '../dsp/opus.ts';
import { G722, OPUS, PCMA, PCMU, type RtpPayloadFormat } from '../wire/rtpPayloadTypes.ts';
import type { LoadCodec } from './LoadOptions.ts';

/**
 * One caller's encoder and decoder, through the engine's own DSP core: the
 * caller encodes what it says and decodes what comes back (to align it with
 * what it said). Per-frame calls allocate nothing.
 *
 * Rates: G.711 at 8 kHz, G.722 at 16 kHz; Opus is coded at 16 kHz (wideband
 * voice, as a softphone sends) while its RTP clock runs at 48 kHz (RFC 7587 §4.1).
 */
export interface CallerCodec {
  readonly format: RtpPayloadFormat;
  /** Rate of the audio encoded and decoded here. */
  readonly rateHz: number;
  readonly frameSamples: number;
  /** RTP timestamp units per 20 ms frame. */
  readonly tsPerFrame: number;
  readonly maxPayloadBytes: number;
  /** Encodes one frame; returns the payload's length, 0 when it failed. */
  encode(pcm: Int16Array, out: Uint8Array): number;
  /** Decodes `payload[0, len)`; returns the samples written, 0 when it failed. */
  decode(payload: Uint8Array, len: number, out: Int16Array): number;
  destroy(): void;
}

const FRAME_MS = 20;
/** libopus's own ceiling for one 20 ms frame is far above this; at default VoIP bitrates a packet stays under 200 bytes. */
const OPUS_MAX_PAYLOAD = 1275;

/** The codec's audio rate (what the caller's speech must be at). */
export function codecRateHz(codec: LoadCodec): number {
  return codec === 'pcmu' || codec === 'pcma' ? 8000 : 16000;
}

export function createCallerCodec(codec: LoadCodec): CallerCodec {
  const rateHz = codecRateHz(codec);
  const frameSamples = (rateHz * FRAME_MS) / 1000;
  switch (codec) {
    case 'pcmu':
    case 'pcma': {
      const format = codec === 'pcmu' ? PCMU : PCMA;
      const enc = codec === 'pcmu' ? ulawEncode : alawEncode;
      const dec = codec === 'pcmu' ? ulawDecode : alawDecode;
      return {
        format,
        rateHz,
        frameSamples,
        tsPerFrame: frameSamples,
        maxPayloadBytes: frameSamples,
        encode: (pcm, out) => enc(pcm, out, frameSamples),
        decode: (payload, len, out) => dec(payload, out, len),
        destroy: () => undefined,
      };
    }
    case 'g722': {
      const encoder = new G722Encoder();
      const decoder = new G722Decoder();
      return {
        format: G722,
        rateHz,
        frameSamples,
        // RFC 3551 §4.5.2: G.722 is stamped at 8000 Hz.
        tsPerFrame: (G722.clockRateHz * FRAME_MS) / 1000,
        maxPayloadBytes: frameSamples / 2,
        encode: (pcm, out) => encoder.encode(pcm, out),
        decode: (payload, len, out) => decoder.decode(payload, out, len),
        destroy: () => {
          encoder.destroy();
          decoder.destroy();
        },
      };
    }
    case 'opus': {
      const encoder = new OpusEncoder({ rateHz });
      const decoder = new OpusDecoder({ rateHz });
      return {
        format: OPUS,
        rateHz,
        frameSamples,
        tsPerFrame: (OPUS.clockRateHz * FRAME_MS) / 1000,
        maxPayloadBytes: OPUS_MAX_PAYLOAD,
        encode: (pcm, out) => {
          const n = encoder.encode(pcm, out);
          return n > 0 ? n : 0;
        },
        decode: (payload, len, out) => {
          const n = decoder.decode(payload, out, len);
          return n > 0 ? n : 0;
        },
        destroy: () => {
          encoder.destroy();
          decoder.destroy();
        },
      };
    }
  }
}
