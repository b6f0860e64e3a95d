/**
 * One inbound stream's figures, named as WebRTC's RTCInboundRtpStreamStats
 * (W3C webrtc-stats §7.6) where it has the figure. The object is written in
 * place by the JitterBuffer (no allocation per packet or frame); the actor
 * copies it into its shared stats slots in `JITTER_STAT_NAMES` order.
 *
 * Counting rules:
 * - `packetsReceived` counts packets with a valid payload whose sequence
 *   number is new (duplicates go to `packetsDuplicated` only), late ones
 *   included, so `packetsLost = expected − packetsReceived` (RFC 3550 A.3)
 *   is the number of sequence numbers never seen, summed over SSRCs.
 * - `packetsDiscarded` (WebRTC: dropped for early or late arrival) counts
 *   late packets, packets too far ahead to store and stored packets dropped
 *   unplayed; `packetsLate` is the late share, `packetsEvicted` the share
 *   whose bytes the packet store's arena came round to (PacketStore.ts);
 *   `packetsInvalid` are zero-length or oversized payloads.
 * - `jitter` is RFC 3550 §6.4.1 / A.8 interarrival jitter, in seconds as
 *   WebRTC reports it; `jitterTimestampUnits` is the same in RTP clock units.
 * - `jitterBufferDelay` is cumulative seconds over every emitted decoded
 *   sample (each sample adds its own buffering delay), with
 *   `jitterBufferEmittedCount` samples; their ratio is the mean delay.
 * - `interruptionCount` counts concealment runs of ≥ 150 ms, as WebRTC.
 */
export class JitterStats {
  packetsReceived = 0;
  packetsLost = 0;
  packetsDuplicated = 0;
  packetsDiscarded = 0;
  packetsLate = 0;
  packetsInvalid = 0;
  /** Packets beyond the store's window (and not a sequence restart). */
  packetsTooEarly = 0;
  /** Stored packets overwritten in the packet store's arena before they played (long overdue). */
  packetsEvicted = 0;
  jitter = 0;
  jitterTimestampUnits = 0;
  jitterMs = 0;
  totalSamplesReceived = 0;
  concealedSamples = 0;
  silentConcealedSamples = 0;
  concealmentEvents = 0;
  insertedSamplesForDeceleration = 0;
  removedSamplesForAcceleration = 0;
  jitterBufferDelay = 0;
  jitterBufferEmittedCount = 0;
  jitterBufferTargetDelay = 0;
  /** Delay the buffer plays at now (playout time − earliest possible playout), ms. */
  currentDelayMs = 0;
  targetDelayMs = 0;
  interruptionCount = 0;
  totalInterruptionDuration = 0;
  framesEmitted = 0;
  ssrcChanges = 0;
  fecPacketsRecovered = 0;

  /** Samples of the concealment run going on (0 when the last frame was not concealed). */
  #concealRunSamples = 0;

  /**
   * One emitted frame: concealment events and interruptions (a run reaching
   * 150 ms is counted then, so an outage still going on shows up), and the
   * buffering delay of decoded samples (`delayMs` < 0 for frames that were
   * not decoded from packets).
   */
  countFrame(concealed: boolean, delayMs: number, samples: number, msPerSample: number, targetMs: number): void {
    this.framesEmitted++;
    const frameMs = samples * msPerSample;
    if (concealed) {
      if (this.#concealRunSamples === 0) this.concealmentEvents++;
      this.concealedSamples += samples;
      this.#concealRunSamples += samples;
      const runMs = this.#concealRunSamples * msPerSample;
      if (runMs >= INTERRUPTION_MS) {
        if (runMs - frameMs < INTERRUPTION_MS) {
          this.interruptionCount++;
          this.totalInterruptionDuration += runMs / 1000;
        } else {
          this.totalInterruptionDuration += frameMs / 1000;
        }
      }
    } else {
      this.#concealRunSamples = 0;
    }
    if (delayMs >= 0) {
      this.jitterBufferDelay += (delayMs / 1000) * samples;
      this.jitterBufferEmittedCount += samples;
    }
    this.jitterBufferTargetDelay += (targetMs / 1000) * samples;
    this.targetDelayMs = targetMs;
  }

  /** Copies the figures into `out` in `JITTER_STAT_NAMES` order (allocation-free). */
  writeTo(out: Float64Array): void {
    const n = Math.min(out.length, JITTER_STAT_NAMES.length);
    for (let i = 0; i < n; i++) out[i] = this[JITTER_STAT_NAMES[i]!];
  }

  reset(): void {
    for (let i = 0; i < JITTER_STAT_NAMES.length; i++) this[JITTER_STAT_NAMES[i]!] = 0;
    this.#concealRunSamples = 0;
  }
}

/** WebRTC counts a concealment run of at least 150 ms as an interruption. */
const INTERRUPTION_MS = 150;

type NumericField = { [K in keyof JitterStats]: JitterStats[K] extends number ? K : never }[keyof JitterStats];

/** The stats slots of a jitter actor, in order (the kind's `stats`). */
export const JITTER_STAT_NAMES: readonly NumericField[] = [
  'packetsReceived',
  'packetsLost',
  'packetsDuplicated',
  'packetsDiscarded',
  'packetsLate',
  'packetsInvalid',
  'packetsTooEarly',
  'jitter',
  'jitterTimestampUnits',
  'jitterMs',
  'totalSamplesReceived',
  'concealedSamples',
  'silentConcealedSamples',
  'concealmentEvents',
  'insertedSamplesForDeceleration',
  'removedSamplesForAcceleration',
  'jitterBufferDelay',
  'jitterBufferEmittedCount',
  'jitterBufferTargetDelay',
  'currentDelayMs',
  'targetDelayMs',
  'interruptionCount',
  'totalInterruptionDuration',
  'framesEmitted',
  'ssrcChanges',
  'fecPacketsRecovered',
  'packetsEvicted',
];
