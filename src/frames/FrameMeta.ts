/**
 * The header of one frame, filled in place by FrameRing's `read` and `peek` so the
 * consumer reuses one object for every frame.
 */
export class FrameMeta {
  sequence = 0;
  /** RTP-style sample clock of the first sample (or milliseconds), wrapping at 2^32. */
  timestamp = 0;
  rateHz = 0;
  sampleCount = 0;
  /** `FrameFlags` bits. */
  flags = 0;
}
