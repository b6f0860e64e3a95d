/** What OpusEncoder (opus.ts) and OpusDecoder share: the rates and the frame. */

/** Rates libopus encodes and decodes natively (RFC 6716 §2). */
export const OPUS_RATES_HZ: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** The engine's frame duration. */
export const OPUS_FRAME_MS = 20;

export function checkRate(rateHz: number): number {
  if (!OPUS_RATES_HZ.includes(rateHz)) {
    throw new RangeError(`unsupported Opus rate [rateHz:${rateHz}]: use one of ${OPUS_RATES_HZ.join(', ')}`);
  }
  return (rateHz * OPUS_FRAME_MS) / 1000;
}

