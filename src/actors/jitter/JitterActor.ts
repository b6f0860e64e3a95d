import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta, type FrameRing } from '../../frames/FrameRing.ts';
import { Concealer } from '../../dsp/plc.ts';
import { TimeStretcher } from '../../dsp/timeStretch.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { FrameKind, JitterBuffer } from './JitterBuffer.ts';
import { JITTER_STAT_NAMES } from './JitterStats.ts';
import { JITTER_CODECS, MAX_PAYLOAD_BYTES, type JitterCodec } from './PacketDecoder.ts';
import { PACKET_CODEC_SHIFT, PACKET_FLAG_MARKER } from './kind.ts';

/** Codec numbers in a packet slot's flags: the raw stream protocol's (DESIGN). */
export const CODEC_NUMBER: Readonly<Record<JitterCodec, number>> = { opus: 1, PCMU: 2, PCMA: 3, G722: 4, L16: 5 };

const DEFAULT_RATE_HZ: Readonly<Record<JitterCodec, number>> = { opus: 48000, PCMU: 8000, PCMA: 8000, G722: 16000, L16: 16000 };

/** Packets one tick takes from the ring at most: a burst after a stall is drained over a few ticks. */
const MAX_PACKETS_PER_TICK = 64;

/** Milliseconds on a clock every thread shares (performance.now() has a per-thread origin). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The 16 bits of an SSRC a packet slot carries: enough to notice a change. */
export function ssrcTag(ssrc: number): number {
  return ((ssrc >>> 16) ^ ssrc) & 0xffff;
}

export interface JitterConfig {
  codec: JitterCodec;
  rateHz: number;
  minDelayMs: number;
  maxDelayMs: number;
  startDelayMs: number;
}

export function parseJitterConfig(config: ActorConfig): JitterConfig {
  const codec = config['codec'];
  if (typeof codec !== 'string' || !(JITTER_CODECS as readonly string[]).includes(codec)) {
    throw new RangeError(`jitter: codec must be one of ${JITTER_CODECS.join(', ')} [got:${String(codec)}]`);
  }
  const c = codec as JitterCodec;
  const num = (name: string, dflt: number): number => {
    const v = config[name] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`jitter: ${name} must be a number [got:${String(v)}]`);
    return v;
  };
  return {
    codec: c,
    rateHz: num('rateHz', DEFAULT_RATE_HZ[c]),
    minDelayMs: num('minDelayMs', 20),
    maxDelayMs: num('maxDelayMs', 200),
    startDelayMs: num('startDelayMs', 60),
  };
}

/** Builds a stream's buffer with the PCM concealer and time-stretcher (control time). */
export function createJitterBuffer(cfg: JitterConfig): JitterBuffer {
  const pcm = cfg.codec !== 'opus';
  return new JitterBuffer({
    ...cfg,
    concealer: pcm ? new Concealer(cfg.rateHz) : undefined,
    stretcher: new TimeStretcher(cfg.rateHz),
  });
}

/**
 * The producer side of a jitter actor's `in` ring (the leg): writes one
 * packet in the slot layout documented in kind.ts. Allocates only in its
 * constructor.
 */
export class PacketWriter {
  readonly #ring: FrameRing;
  readonly #words = new Int16Array(MAX_PAYLOAD_BYTES);
  readonly #bytes = new Uint8Array(this.#words.buffer);
  readonly #codecBits: number;

  constructor(ring: FrameRing, codec: JitterCodec) {
    this.#ring = ring;
    this.#codecBits = CODEC_NUMBER[codec] << PACKET_CODEC_SHIFT;
  }

  /** False when the ring is full or the payload is empty or larger than MAX_PAYLOAD_BYTES. */
  write(seq: number, rtpTimestamp: number, payload: Uint8Array, length: number, marker: boolean, ssrc: number, arrivalMs = epochMs()): boolean {
    if (!(length > 0 && length <= MAX_PAYLOAD_BYTES && length <= payload.length)) return false;
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) bytes[i] = payload[i]!;
    const sequence = ((seq & 0xffff) | (ssrcTag(ssrc) << 16)) >>> 0;
    const flags = this.#codecBits | (marker ? PACKET_FLAG_MARKER : 0);
    return this.#ring.write(this.#words, length, sequence, rtpTimestamp >>> 0, Math.floor(arrivalMs) >>> 0, flags);
  }
}

const FLAGS_BY_KIND: readonly number[] = [
  FrameFlags.SPEECH, // NORMAL
  FrameFlags.CONCEALED, // CONCEALED
  FrameFlags.SPEECH, // ACCELERATED
  FrameFlags.SPEECH, // EXPANDED
  FrameFlags.COMFORT_NOISE, // COMFORT_NOISE
  FrameFlags.SILENCE, // SILENCE
];

export function createJitterActor(ctx: ActorContext, config: ActorConfig): HostedActor {
  const cfg = parseJitterConfig(config);
  const input = ctx.rings['in'];
  const output = ctx.rings['out'];
  if (input === undefined || output === undefined) throw new RangeError('jitter: needs an in ring and an out ring');
  const jb = createJitterBuffer(cfg);
  const spf = jb.samplesPerFrame;
  if (spf > output.maxSamples) throw new RangeError(`jitter: out ring slots hold ${output.maxSamples} samples, a frame is ${spf}`);
  const words = new Int16Array(input.maxSamples);
  const bytes = new Uint8Array(words.buffer);
  const meta = new FrameMeta();
  const frame = new Int16Array(spf);
  const codecNumber = CODEC_NUMBER[cfg.codec];
  const stats = ctx.stats;
  const ringOverflowsAt = JITTER_STAT_NAMES.length;
  const rejectedAt = ringOverflowsAt + 1;
  let frameSeq = 0;
  let rejected = 0;

  return {
    tick(): number {
      const now = epochMs();
      const nowU32 = Math.floor(now) >>> 0;
      for (let k = 0; k < MAX_PACKETS_PER_TICK && input.read(words, meta); k++) {
        const codec = (meta.flags >>> PACKET_CODEC_SHIFT) & 0xff;
        if (codec !== 0 && codec !== codecNumber) {
          rejected++;
          continue;
        }
        // The stamp is epoch ms mod 2^32: unwrap it as an age, at most 2^31 ms old.
        const ageMs = (nowU32 - meta.rateHz) | 0;
        const arrival = now - (ageMs > 0 ? ageMs : 0);
        const length = meta.sampleCount <= bytes.length ? meta.sampleCount : bytes.length;
        jb.insert(meta.sequence & 0xffff, meta.timestamp, arrival, bytes, length, (meta.flags & PACKET_FLAG_MARKER) !== 0, meta.sequence >>> 16);
      }
      const kind = jb.pull(frame, now);
      output.write(frame, spf, frameSeq, (frameSeq * spf) >>> 0, cfg.rateHz, FLAGS_BY_KIND[kind] ?? 0);
      frameSeq = (frameSeq + 1) >>> 0;
      jb.stats.writeTo(stats);
      stats[ringOverflowsAt] = output.overflows;
      stats[rejectedAt] = rejected;
      return 1;
    },
    close(): void {
      jb.destroy();
    },
  };
}

export { FrameKind };
