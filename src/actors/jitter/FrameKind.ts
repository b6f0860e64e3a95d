/** What a frame from the jitter buffer is; `JitterBuffer.pull` returns it. */
export const FrameKind = {
  NORMAL: 0,
  CONCEALED: 1,
  ACCELERATED: 2,
  EXPANDED: 3,
  COMFORT_NOISE: 4,
  SILENCE: 5,
} as const;

/** Packet-loss concealment for PCM codecs (the shape of src/dsp/plc.ts's Concealer). */
export interface PcmConcealer {
  /** A received frame goes to playout; after an erasure the continuation is blended into `out`. */
  good(frame: Int16Array, out: Int16Array): void;
  conceal(out: Int16Array): void;
  /** One lost frame when the next good frame is already here: interpolated between past and future. */
  concealBefore(next: Int16Array, out: Int16Array, framesUntilNext?: number): void;
  reset(): void;
  destroy(): void;
}

/** Time-scale modification (the shape of src/dsp/timeStretch.ts's TimeStretcher); each returns output samples. */
export interface PcmStretcher {
  accelerate(input: Int16Array, inputLength: number, out: Int16Array): number;
  expand(input: Int16Array, inputLength: number, out: Int16Array): number;
  destroy?(): void;
}
