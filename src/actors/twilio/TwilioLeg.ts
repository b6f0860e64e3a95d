import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { ulawDecode, ulawEncode } from '../../dsp/g711.ts';
import { RECORD_AGENT_ROLE, recordTapOf } from '../RecordTap.ts';
import { PACER_IDLE, PACER_MEDIA, TwilioPacer } from '../../wire/twilioPacer.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { EchoReader, MAX_MARKS, MARK_PREFIX, WIRE_CHUNK_BYTES, WireWriter } from '../../frames/wireRing.ts';
import { HeardFromMarks } from '../HeardFromMarks.ts';
import { TWILIO_LEG_RATE_HZ, TWILIO_LEG_STATS } from './kind.ts';

/** One 20 ms frame at 8 kHz is one µ-law chunk. */
const SPF = WIRE_CHUNK_BYTES;
/** Audio the leg may hold unsent (the agent paces its output, so this is only slack). */
const QUEUE_MS = 10_000;
/** How far ahead of Twilio's playout audio goes out: absorbs network jitter, bounds what `clear` must drop. */
const DEFAULT_LEAD_MS = 60;

const STAT = Object.fromEntries(TWILIO_LEG_STATS.map((n, i) => [n, i])) as Record<(typeof TWILIO_LEG_STATS)[number], number>;

export function parseTwilioLegConfig(config: ActorConfig): { leadMs: number } {
  const leadMs = config['leadMs'] ?? DEFAULT_LEAD_MS;
  if (typeof leadMs !== 'number' || !(leadMs >= 20 && leadMs <= 2000)) {
    throw new RangeError(`twilio: leadMs must be 20–2000 [got:${String(leadMs)}]`);
  }
  return { leadMs };
}

/**
 * The Twilio leg of one call, on a network worker: takes the agent's 20 ms
 * frames (`in`), codes them to µ-law and paces them out through `wire` to the
 * call's WebSocket (frames/wireRing.ts), a mark after every chunk (TwilioPacer).
 * Mark echoes come back through `echo`, so the leg knows exactly which of
 * the agent's frames the caller has heard and tells the agent on `heard`
 * (agent/kind.ts). A CLEAR from the agent (barge-in) drops the queue and
 * sends Twilio `clear`; once every mark sent before it is back, the heard
 * position is final and goes out flagged CLEAR. Silence frames are not sent:
 * Twilio plays silence by itself when its buffer is empty.
 *
 * Inbound audio does not pass here: the main thread writes it straight into
 * the jitter actor's packet ring.
 */
export function createTwilioLeg(ctx: ActorContext, config: ActorConfig): HostedActor {
  const { leadMs } = parseTwilioLegConfig(config);
  const { in: input, heard, wire, echo } = ctx.rings;
  if (input === undefined || heard === undefined || wire === undefined || echo === undefined) {
    throw new RangeError('twilio: needs in, heard, wire and echo rings');
  }
  const stats = ctx.stats;
  const pacer = new TwilioPacer({ leadMs, capacityMs: QUEUE_MS, maxMarks: MAX_MARKS, markPrefix: MARK_PREFIX });
  const out = new WireWriter(wire);
  const frame = new Int16Array(input.maxSamples);
  const codes = new Uint8Array(SPF);
  const meta = new FrameMeta();
  const marks = new HeardFromMarks(pacer, new EchoReader(echo), heard, stats, {
    played: STAT.markEchoes,
    cleared: STAT.markEchoesCleared,
    unknown: STAT.markEchoesUnknown,
  });
  // The recording hears what went out, decoded, on the tick it plays: the pacer runs `leadMs` ahead.
  const recording = recordTapOf(ctx.rings, RECORD_AGENT_ROLE, TWILIO_LEG_RATE_HZ, ctx.tickMs);
  const sentPcm = new Int16Array(SPF);
  let clearDue = false;

  return {
    tick(tickIndex: number): number {
      let work = marks.readEchoes();
      marks.publish();

      while (input.read(frame, meta)) {
        work++;
        stats[STAT.framesIn]++;
        if ((meta.flags & FrameFlags.CLEAR) !== 0) {
          pacer.clear();
          marks.cleared();
          recording?.clear();
          stats[STAT.clears]++;
          clearDue = true;
          continue;
        }
        if ((meta.flags & FrameFlags.SILENCE) !== 0) {
          stats[STAT.silenceFramesSkipped]++;
          continue;
        }
        if (meta.sampleCount !== SPF || meta.rateHz !== TWILIO_LEG_RATE_HZ) {
          stats[STAT.wrongSizeFrames]++;
          continue;
        }
        if (pacer.queuedMs() + 20 > QUEUE_MS) {
          stats[STAT.queueFull]++;
          continue;
        }
        ulawEncode(frame, codes);
        pacer.enqueue(codes, SPF);
        marks.queued(meta.sequence);
      }

      if (clearDue) {
        if (out.clear()) clearDue = false;
        else stats[STAT.wireFull]++;
      }
      // A media message and its mark need two slots; what does not fit waits in the pacer.
      while (!clearDue && out.space() >= 2) {
        const action = pacer.next(out.chunk);
        if (action === PACER_IDLE) break;
        work++;
        if (action === PACER_MEDIA) {
          out.media(pacer.lastCount, stats[STAT.chunksSent]!);
          if (recording !== undefined) recording.push(sentPcm, ulawDecode(out.chunk, sentPcm, pacer.lastCount));
          stats[STAT.chunksSent]++;
        } else {
          out.mark(pacer.lastMarkSlot);
          stats[STAT.marksSent]++;
        }
      }
      recording?.tick(tickIndex);
      stats[STAT.heardMs] = pacer.heardMs();
      stats[STAT.sentMs] = pacer.sentMs();
      stats[STAT.queuedMs] = pacer.queuedMs();
      stats[STAT.droppedMs] = pacer.droppedMs();
      stats[STAT.outstandingMarks] = pacer.outstandingMarks();
      return work;
    },
    close(): void {},
  };
}
