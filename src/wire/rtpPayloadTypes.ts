/**
 * RTP payload types the engine speaks, with their RTP clock rates.
 *
 * The RTP clock is not always the sampling rate: G.722 samples at 16 kHz but
 * is stamped at 8000 Hz, an error in RFC 1890 kept for compatibility (RFC 3551
 * §4.5.2); Opus is always stamped at 48 kHz whatever it codes internally
 * (RFC 7587 §4.1).
 * @see RFC 3551 §6 (static assignments), RFC 7587 (Opus), RFC 4733 (telephone-event).
 */

export type RtpCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'telephone-event';

export interface RtpPayloadFormat {
  readonly codec: RtpCodec;
  /** The payload type number; static for G.711 and G.722, a dynamic default otherwise. */
  readonly payloadType: number;
  /** Timestamp units per second (RFC 3551 "clock rate"). */
  readonly clockRateHz: number;
  /** Rate the codec's audio is sampled at. */
  readonly sampleRateHz: number;
  readonly channels: number;
  /** True for types 96–127, whose number is agreed per session (RFC 3551 §3). */
  readonly dynamic: boolean;
}

export const PCMU: RtpPayloadFormat = {
  codec: 'PCMU',
  payloadType: 0,
  clockRateHz: 8000,
  sampleRateHz: 8000,
  channels: 1,
  dynamic: false,
};
export const PCMA: RtpPayloadFormat = {
  codec: 'PCMA',
  payloadType: 8,
  clockRateHz: 8000,
  sampleRateHz: 8000,
  channels: 1,
  dynamic: false,
};
export const G722: RtpPayloadFormat = {
  codec: 'G722',
  payloadType: 9,
  clockRateHz: 8000,
  sampleRateHz: 16000,
  channels: 1,
  dynamic: false,
};
/** RFC 7587 §7: "opus/48000/2" in SDP whatever is sent; 111 is the common default number. */
export const OPUS: RtpPayloadFormat = {
  codec: 'opus',
  payloadType: 111,
  clockRateHz: 48000,
  sampleRateHz: 48000,
  channels: 2,
  dynamic: true,
};
/** RFC 4733 §7.1.1: clocked like the audio it rides with; 101 for 8 kHz is customary. */
export const TELEPHONE_EVENT: RtpPayloadFormat = {
  codec: 'telephone-event',
  payloadType: 101,
  clockRateHz: 8000,
  sampleRateHz: 8000,
  channels: 1,
  dynamic: true,
};

export const DYNAMIC_PT_MIN = 96;
export const DYNAMIC_PT_MAX = 127;

/** The static assignment for a payload type number, or undefined (dynamic, or not ours). */
export function staticPayloadFormat(payloadType: number): RtpPayloadFormat | undefined {
  switch (payloadType) {
    case 0:
      return PCMU;
    case 8:
      return PCMA;
    case 9:
      return G722;
    default:
      return undefined;
  }
}

/** The format for a codec name, optionally renumbered (for dynamic types negotiated per call). */
export function payloadFormat(codec: RtpCodec, payloadType?: number): RtpPayloadFormat {
  const base = { PCMU, PCMA, G722, opus: OPUS, 'telephone-event': TELEPHONE_EVENT }[codec];
  if (payloadType === undefined || payloadType === base.payloadType) return base;
  if (!base.dynamic) {
    throw new RangeError(`static payload type cannot be renumbered [codec:${codec}, payloadType:${payloadType}]`);
  }
  if (payloadType < DYNAMIC_PT_MIN || payloadType > DYNAMIC_PT_MAX) {
    throw new RangeError(`dynamic payload type out of range [payloadType:${payloadType}, range:96-127]`);
  }
  return { ...base, payloadType };
}

/** RTP timestamp units in `ms` milliseconds of this format (160 for 20 ms of PCMU or G.722, 960 for Opus). */
export function timestampUnits(format: RtpPayloadFormat, ms: number): number {
  return (format.clockRateHz * ms) / 1000;
}
