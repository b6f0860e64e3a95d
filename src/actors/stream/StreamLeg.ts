import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { FrameEncoder } from '../../dsp/FrameEncoder.ts';
import { codecClock, JITTER_CODECS, type JitterCodec } from '../../dsp/PacketDecoder.ts';
import { PACER_IDLE, PACER_MEDIA, TWILIO_CHUNK_BYTES, TwilioPacer } from '../../wire/twilioPacer.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { EchoReader, MAX_MARKS, MARK_PREFIX, WireWriter } from '../../frames/wireRing.ts';
import { HeardFromMarks } from '../HeardFromMarks.ts';
import { STREAM_LEG_STATS } from './kind.ts';

/** Audio the leg may hold unsent: the agent paces its output, so this is slack (and 3 s of 48 kHz frames is 288 KB). */
const QUEUE_FRAMES = 150;
/** How far ahead of the client's playout audio goes out: absorbs network jitter, bounds what `clear` must drop. */
const DEFAULT_LEAD_MS = 60;

const STAT = Object.fromEntries(STREAM_LEG_STATS.map((n, i) => [n, i])) as Record<(typeof STREAM_LEG_STATS)[number], number>;

export interface StreamLegConfig {
  codec: JitterCodec;
  rateHz: number;
  leadMs: number;
}

export function parseStreamLegConfig(config: ActorConfig): StreamLegConfig {
  const codec = config['codec'];
  if (typeof codec !== 'string' || !(JITTER_CODECS as readonly string[]).includes(codec)) {
    throw new RangeError(`stream: codec must be one of ${JITTER_CODECS.join(', ')} [got:${String(codec)}]`);
  }
  const rateHz = config['rateHz'];
  if (typeof rateHz !== 'number') throw new RangeError(`stream: rateHz must be a number [got:${String(rateHz)}]`);
  codecClock(codec as JitterCodec, rateHz);
  const leadMs = config['leadMs'] ?? DEFAULT_LEAD_MS;
  if (typeof leadMs !== 'number' || !(leadMs >= 20 && leadMs <= 2000)) {
    throw new RangeError(`stream: leadMs must be 20–2000 [got:${String(leadMs)}]`);
  }
  return { codec: codec as JitterCodec, rateHz, leadMs };
}

/**
 * The raw stream leg of one call, on a network worker: takes the agent's
 * 20 ms frames (`in`), paces them out `leadMs` ahead of the client's playout,
 * encodes each with the stream's codec as it leaves and hands it to the
 * call's WebSocket through `wire` (frames/wireRing.ts), a mark after every
 * frame. The pacing and mark accounting are the Twilio leg's (TwilioPacer):
 * each frame holds one 20 ms place on the pacer's timeline, and the frame
 * itself waits here in a queue of PCM frames, encoded only when it is sent,
 * so a barge-in drops audio that was never encoded. Mark echoes come back
 * through `echo`; what the caller heard goes to the agent on `heard`.
 * Silence frames are not sent: the header's timestamp lets the client place
 * what follows in time.
 */
export function createStreamLeg(ctx: ActorContext, config: ActorConfig): HostedActor {
  const { codec, rateHz, leadMs } = parseStreamLegConfig(config);
  const { in: input, heard, wire, echo } = ctx.rings;
  if (input === undefined || heard === undefined || wire === undefined || echo === undefined) {
    throw new RangeError('stream: needs in, heard, wire and echo rings');
  }
  const stats = ctx.stats;
  const spf = (rateHz * 20) / 1000;
  const pacer = new TwilioPacer({ leadMs, capacityMs: QUEUE_FRAMES * 20, maxMarks: MAX_MARKS, markPrefix: MARK_PREFIX });
  const encoder = new FrameEncoder(codec, rateHz);
  const out = new WireWriter(wire);
  const marks = new HeardFromMarks(pacer, new EchoReader(echo), heard, stats, {
    played: STAT.markEchoes,
    cleared: STAT.markEchoesCleared,
    unknown: STAT.markEchoesUnknown,
  });
  const frame = new Int16Array(input.maxSamples);
  /** The pacer's 20 ms place of a frame (its bytes are never sent: the frame is). */
  const place = new Uint8Array(TWILIO_CHUNK_BYTES);
  const queue = new Int16Array(QUEUE_FRAMES * spf);
  const queueMs = new Float64Array(QUEUE_FRAMES);
  const queueSpeech = new Uint8Array(QUEUE_FRAMES);
  const pcm = new Int16Array(spf);
  const meta = new FrameMeta();
  const msPerUnit = 1000 / rateHz;
  let qHead = 0;
  let qCount = 0;
  let clearDue = false;
  let sequence = 0;

  const enqueue = (): void => {
    const slot = (qHead + qCount) % QUEUE_FRAMES;
    const at = slot * spf;
    for (let i = 0; i < spf; i++) queue[at + i] = frame[i]!;
    queueMs[slot] = meta.timestamp * msPerUnit;
    queueSpeech[slot] = meta.flags & FrameFlags.SPEECH;
    qCount++;
    pacer.enqueue(place, TWILIO_CHUNK_BYTES);
    marks.queued(meta.sequence);
  };

  /** Encodes the oldest queued frame into the wire slot and sends it; the pacer has just given it its turn. */
  const sendFrame = (): void => {
    const slot = qHead;
    qHead = (qHead + 1) % QUEUE_FRAMES;
    qCount--;
    for (let i = 0; i < spf; i++) pcm[i] = queue[slot * spf + i]!;
    const n = encoder.encode(pcm, out.chunk);
    if (n <= 0) {
      stats[STAT.encodeErrors]++;
      return;
    }
    out.media(n, sequence, queueMs[slot]! >>> 0, queueSpeech[slot]!);
    sequence = (sequence + 1) & 0xffff;
    stats[STAT.framesSent]++;
    stats[STAT.bytesSent] += n;
  };

  return {
    tick(): number {
      let work = marks.readEchoes();
      marks.publish();

      while (input.read(frame, meta)) {
        work++;
        stats[STAT.framesIn]++;
        if ((meta.flags & FrameFlags.CLEAR) !== 0) {
          pacer.clear();
          qHead = 0;
          qCount = 0;
          marks.cleared();
          stats[STAT.clears]++;
          clearDue = true;
          continue;
        }
        if ((meta.flags & FrameFlags.SILENCE) !== 0) {
          stats[STAT.silenceFramesSkipped]++;
          continue;
        }
        if (meta.sampleCount !== spf || meta.rateHz !== rateHz) {
          stats[STAT.wrongSizeFrames]++;
          continue;
        }
        if (qCount === QUEUE_FRAMES) {
          stats[STAT.queueFull]++;
          continue;
        }
        enqueue();
      }

      if (clearDue) {
        if (out.clear()) clearDue = false;
        else stats[STAT.wireFull]++;
      }
      // A frame and its mark need two slots; what does not fit waits in the queue.
      while (!clearDue && out.space() >= 2) {
        const action = pacer.next(place);
        if (action === PACER_IDLE) break;
        work++;
        if (action === PACER_MEDIA) {
          sendFrame();
        } else {
          out.mark(pacer.lastMarkSlot);
          stats[STAT.marksSent]++;
        }
      }
      stats[STAT.heardMs] = pacer.heardMs();
      stats[STAT.sentMs] = pacer.sentMs();
      stats[STAT.queuedMs] = pacer.queuedMs();
      stats[STAT.droppedMs] = pacer.droppedMs();
      stats[STAT.outstandingMarks] = pacer.outstandingMarks();
      return work;
    },
    close(): void {
      encoder.destroy();
    },
  };
}
