import type { ActorCommand, ActorConfig } from '../../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../../frames/FrameRing.ts';
import { commandRefused, type ActorContext, type HostedActor } from '../../Actor.ts';
import { AGENT_STATS } from '../kind.ts';
import { Heard, HeardTracker } from '../HeardTracker.ts';
import { Downlink } from '../RealtimeAudio.ts';
import { Conversation, type TurnTiming } from './Conversation.ts';
import { parsePipelineAgentConfig } from './PipelineAgentConfig.ts';
import { SpokenSentences } from './SpokenSentences.ts';
import type { StageFailure } from './StageAttempts.ts';
import { TurnEdge, TurnRecorder } from './TurnRecorder.ts';

/**
 * The `pipeline` agent: the cascade STT → LLM → TTS over OpenAI-compatible
 * HTTP APIs (PipelineStages.ts), one conversation per call.
 *
 * Our VAD finds the caller's turns (TurnRecorder); at a turn's end the
 * Conversation transcribes it, streams the model's answer, and speaks it
 * sentence by sentence while the model still writes. The TTS's 24 kHz PCM is
 * resampled into a queue of frames at the call's rate (Downlink, each frame
 * tagged with its sentence) and played one frame per tick.
 *
 * Barge-in follows the protocol in kind.ts: when the caller starts speaking
 * over queued or unheard audio, or while a reply is being made, the turn's
 * streams are cancelled, the queue dropped and a CLEAR written; once the
 * leg's final heard count comes, the reply in the history is cut to the
 * sentences the caller heard (SpokenSentences).
 *
 * Stage failures are retried once (StageAttempts.ts) and reported as
 * `pipeline.error` events; the call goes on. Each turn's timings are a
 * `pipeline.turn` event and stats (in /status and /metrics).
 */

/** Agent audio the queue can hold (the TTS is faster than real time). */
export const PLAYOUT_QUEUE_MS = 60_000;
/** Errors logged one by one before the log thins out to one in LOG_EVERY. */
const LOG_FIRST = 10;
const LOG_EVERY = 100;

const STAT = Object.fromEntries(AGENT_STATS.map((n, i) => [n, i])) as Record<(typeof AGENT_STATS)[number], number>;

export function createPipelineAgent(ctx: ActorContext, config: ActorConfig): HostedActor {
  const cfg = parsePipelineAgentConfig(config);
  const input = ctx.rings['in'];
  const output = ctx.rings['out'];
  if (input === undefined || output === undefined) throw new RangeError('agent pipeline: needs in and out rings');
  const { rateHz } = cfg;
  const tickMs = ctx.tickMs;
  const spf = (rateHz * tickMs) / 1000;
  const stats = ctx.stats;
  stats[STAT.rateHz] = rateHz;
  const log = ctx.log;

  const frame = new Int16Array(spf);
  const outFrame = new Int16Array(spf);
  const silence = new Int16Array(spf);
  const meta = new FrameMeta();
  const recorder = new TurnRecorder(rateHz, tickMs, cfg.hangoverMs);
  const downlink = new Downlink('pcm24', rateHz, tickMs, PLAYOUT_QUEUE_MS / tickMs);
  const spoken = new SpokenSentences();
  const heard = new HeardTracker(ctx.rings['heard'], (from, to) => spoken.heardFrames(from, to));
  let outSeq = 0;
  /** Sequence of the last agent-audio frame written, -1 before any. */
  let lastAudioSeq = -1;
  let errorsLogged = 0;
  /** The turn whose first audio is awaited, once its audio started arriving. */
  let pendingTiming: TurnTiming | undefined;
  /** The interrupted reply, waiting for the leg's final heard count. */
  let cutRange: { first: number; end: number } | undefined;
  /** This tick's frame went out already (the first of a reply, written when it arrived). */
  let playedEarly = false;

  const conversation = new Conversation(cfg, {
    rateHz,
    frameMs: tickMs,
    downlink,
    spoken,
    emit: (name, data) => ctx.emit(name, data),
    failure(f: StageFailure): void {
      stats[f.retrying ? STAT.stageRetries : STAT.stageFailures]++;
      const n = stats[STAT.stageRetries]! + stats[STAT.stageFailures]!;
      if (errorsLogged < LOG_FIRST || n % LOG_EVERY === 0) {
        errorsLogged++;
        log.warn({ ...f, errors: n }, 'pipeline stage failed');
      }
      ctx.emit('pipeline.error', { ...f });
    },
    timing(t: TurnTiming): void {
      pendingTiming = t;
    },
    audioReady(): void {
      // A reply's first frame goes out as soon as it exists, in the slot of the
      // next tick (which then writes nothing): up to a frame sooner, and the
      // `out` ring still gets one frame per tick.
      if (pendingTiming === undefined || playedEarly || downlink.queuedFrames === 0) return;
      playedEarly = true;
      play(performance.now());
    },
  });

  /** The first frame of a turn's reply is being played: its timings are complete. */
  const firstAudio = (t: TurnTiming, nowMs: number): void => {
    const totalMs = nowMs - t.endedAt;
    // What the servers did not spend of the stage times is the engine's (round trips, the client, this thread's delays).
    const engineMs = totalMs - Math.max(0, t.sttMs) - Math.max(0, t.llmFirstSentenceMs) - Math.max(0, t.ttsFirstByteMs) + t.overheadMs;
    stats[STAT.pipelineTurns]++;
    stats[STAT.sttMsTotal] += Math.max(0, t.sttMs);
    stats[STAT.llmFirstTokenMsTotal] += Math.max(0, t.llmFirstTokenMs);
    stats[STAT.ttsFirstByteMsTotal] += Math.max(0, t.ttsFirstByteMs);
    stats[STAT.engineMsTotal] += engineMs;
    stats[STAT.lastEngineMs] = engineMs;
    const r = (v: number): number => Math.round(v * 10) / 10;
    ctx.emit('pipeline.turn', {
      sttMs: r(t.sttMs),
      llmFirstTokenMs: r(t.llmFirstTokenMs),
      llmFirstSentenceMs: r(t.llmFirstSentenceMs),
      ttsFirstByteMs: r(t.ttsFirstByteMs),
      responseMs: r(totalMs),
      overheadMs: r(t.overheadMs),
      engineMs: r(engineMs),
    });
  };

  /** The caller started speaking: stop the reply (made, queued or playing). */
  const bargeIn = (nowMs: number): void => {
    const unheard = lastAudioSeq >= heard.heard;
    const queued = downlink.queuedFrames > 0 || downlink.holdsPartial;
    if (!unheard && !queued && !conversation.busy) return;
    const range = conversation.cancel();
    pendingTiming = undefined;
    downlink.clear();
    if (!unheard && !queued) return; // nothing reached the leg: nothing to clear
    stats[STAT.bargeIns]++;
    // CLEAR takes the next sequence number without using it up: the next audio frame reuses it.
    if (output.write(silence, 0, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, FrameFlags.CLEAR)) stats[STAT.framesOut]++;
    else stats[STAT.outOverflows]++;
    // A previous cut still waiting is settled with the count so far.
    if (heard.clear(outSeq, nowMs) && cutRange !== undefined) settle(false);
    cutRange = range;
  };

  const settle = (timedOut: boolean): void => {
    if (timedOut) stats[STAT.heardTimeouts]++;
    const range = cutRange;
    cutRange = undefined;
    if (range === undefined) return;
    let frames = 0;
    for (let o = range.first; o < range.end; o++) frames += spoken.heardFramesOf(o);
    stats[STAT.lastTruncateMs] = frames * tickMs;
    stats[STAT.truncates]++;
    const text = conversation.cut(range);
    ctx.emit('pipeline.interrupted', { heardText: text, heardMs: frames * tickMs, timedOut });
  };

  return {
    tick(): number {
      let frames = 0;
      const nowMs = performance.now();
      const h = heard.poll(nowMs);
      if (h !== Heard.NONE) settle(h === Heard.TIMED_OUT);
      while (input.available() > 0 && input.read(frame, meta)) {
        frames++;
        stats[STAT.framesIn]++;
        if (meta.sampleCount !== spf || meta.rateHz !== rateHz) {
          stats[STAT.wrongSizeFrames]++;
          continue;
        }
        const edge = recorder.push(frame);
        if (recorder.inTurn || edge === TurnEdge.ENDED) stats[STAT.speechFrames]++;
        if (edge === TurnEdge.STARTED) bargeIn(nowMs);
        else if (edge === TurnEdge.ENDED) {
          stats[STAT.turns]++;
          conversation.startTurn(recorder.take(), nowMs);
        }
      }
      if (playedEarly) playedEarly = false;
      else play(nowMs);
      stats[STAT.queueOverflows] = downlink.overflows;
      return frames + 1;
    },
    /** `toolOutput`: the application's answer to a tool call; the model gets it and goes on. */
    command(c: ActorCommand): void {
      if (c.type !== 'toolOutput') throw commandRefused('agent', c);
      conversation.toolOutput(c.callId, c.output);
      stats[STAT.toolOutputs]++;
      ctx.emit('tool.output', { callId: c.callId });
    },
    close(): void {
      conversation.close();
      recorder.destroy();
      downlink.destroy();
    },
  };

  /** One frame out: the reply's next, or silence. */
  function play(nowMs: number): void {
    const ordinal = downlink.pop(outFrame);
    if (ordinal >= 0) {
      spoken.played(outSeq, ordinal);
      lastAudioSeq = outSeq;
      if (pendingTiming !== undefined) {
        firstAudio(pendingTiming, nowMs);
        pendingTiming = undefined;
      }
      send(outFrame, FrameFlags.SPEECH);
    } else {
      spoken.played(outSeq, -1);
      send(silence, FrameFlags.SILENCE);
    }
  }

  function send(samples: Int16Array, flags: number): void {
    if (output.write(samples, spf, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, flags)) stats[STAT.framesOut]++;
    else stats[STAT.outOverflows]++;
    outSeq++;
  }
}
