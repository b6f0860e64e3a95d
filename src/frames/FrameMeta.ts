/**
 * The header of one frame, filled in place by FrameRing's `read` and `peek` so the
 * consumer reuses one object for every frame. Each field is the slot word of
 * the same name (layout.ts), with the one meaning given there; the last three,
 * the stamp words, only `readStamped` fills.
 */
export class FrameMeta {
  sequence = 0;
  /** RTP-style sample clock of the first sample (or milliseconds), wrapping at 2^32. */
  timestamp = 0;
  rateHz = 0;
  sampleCount = 0;
  /** `FrameFlags` bits. */
  flags = 0;
  /** Epoch milliseconds mod 2^32 when the content reached this process; 0 when not stamped. */
  arrivalMs = 0;
  /** Bytes of content packed in the slot (packets, µ-law chunks); 0 for PCM. */
  byteLength = 0;
  /** The stream the content came from (an RTP SSRC); 0 when unstated. */
  source = 0;
}
