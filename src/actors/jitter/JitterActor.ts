import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags } from '../../frames/FrameRing.ts';
import { PACKET_CODEC_NUMBER, PacketReader } from '../../frames/PacketRing.ts';
import { epochMs, madeStamp } from '../../frames/epochClock.ts';
import { Concealer } from '../../dsp/plc.ts';
import { TimeStretcher } from '../../dsp/timeStretch.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { FrameKind, JitterBuffer } from './JitterBuffer.ts';
import { JITTER_STAT_NAMES } from './JitterStats.ts';
import { InboundLevel } from './InboundLevel.ts';
import { JITTER_CODECS, type JitterCodec } from './PacketDecoder.ts';
import { RECORD_CALLER_ROLE, recordTapOf } from '../RecordTap.ts';

const DEFAULT_RATE_HZ: Readonly<Record<JitterCodec, number>> = { opus: 48000, PCMU: 8000, PCMA: 8000, G722: 16000, L16: 16000 };

/** Packets one tick takes from the ring at most: a burst after a stall is drained over a few ticks. */
const MAX_PACKETS_PER_TICK = 64;

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
  const packets = new PacketReader(input);
  const frame = new Int16Array(spf);
  const codecNumber = PACKET_CODEC_NUMBER[cfg.codec];
  const stats = ctx.stats;
  const ringOverflowsAt = JITTER_STAT_NAMES.length;
  const rejectedAt = ringOverflowsAt + 1;
  const levelAt = rejectedAt + 1;
  const level = new InboundLevel((spf / cfg.rateHz) * 1000);
  const recording = recordTapOf(ctx.rings, RECORD_CALLER_ROLE, cfg.rateHz, ctx.tickMs);
  let frameSeq = 0;
  let rejected = 0;

  return {
    tick(tickIndex: number): number {
      const now = epochMs();
      for (let k = 0; k < MAX_PACKETS_PER_TICK && packets.read(now); k++) {
        const codec = packets.codec;
        if (codec !== 0 && codec !== codecNumber) {
          rejected++;
          continue;
        }
        jb.insert(packets.sequence, packets.rtpTimestamp, packets.arrivalMs, packets.bytes, packets.byteLength, packets.marker, packets.ssrc);
      }
      const kind = jb.pull(frame, now);
      // Stamped when made: the legs measure what the engine adds after playout (actors/engineLatency.ts).
      output.writeStamped(frame, spf, frameSeq, (frameSeq * spf) >>> 0, cfg.rateHz, FLAGS_BY_KIND[kind] ?? 0, madeStamp(epochMs()), 0, 0);
      recording?.write(tickIndex, frame, spf, FLAGS_BY_KIND[kind] ?? 0);
      frameSeq = (frameSeq + 1) >>> 0;
      jb.stats.writeTo(stats);
      stats[ringOverflowsAt] = output.overflows;
      stats[rejectedAt] = rejected;
      stats[levelAt] = level.measure(frame);
      return 1;
    },
    close(): void {
      jb.destroy();
    },
  };
}

export { FrameKind };
