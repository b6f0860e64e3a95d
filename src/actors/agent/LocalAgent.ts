import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { Vad } from '../../dsp/vad.ts';
import { SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { syntheticSample } from '../capture/CaptureActor.ts';
import { AGENT_STATS } from './kind.ts';
import { Heard, HeardTracker } from './HeardTracker.ts';

/**
 * The local agents:
 * - `loopback` returns each inbound frame at once (an echo-test line: what the
 *   caller hears back is exactly what the media path delivered);
 * - `echo` records each caller turn and plays it back when the turn ends (the
 *   VAD's speech → silence edge, after its hangover); if the caller speaks
 *   over the playback, the playback stops at once and the agent tells the leg
 *   to drop what it holds (a CLEAR frame), then learns from the leg how much
 *   of the playback the caller really heard (`lastTruncateMs`; the barge-in
 *   protocol is in kind.ts);
 * - `tone` plays a continuous test tone and ignores the caller.
 */
export type LocalAgentName = 'echo' | 'loopback' | 'tone';

/** Longest turn the echo agent keeps; longer turns are cut (and played back truncated). */
export const ECHO_MAX_TURN_MS = 30_000;
/**
 * The VAD says "speech" only after its onset frames; the frames just before
 * that are kept and put at the start of the turn so the first syllable is not
 * clipped.
 */
export const ECHO_PREROLL_FRAMES = 5;
/** The tone agent's level: about −12 dBFS, loud and clear without clipping after a codec. */
const TONE_AMPLITUDE = 8000;

const STAT = Object.fromEntries(AGENT_STATS.map((n, i) => [n, i])) as Record<(typeof AGENT_STATS)[number], number>;

export function parseAgentConfig(config: ActorConfig): { agent: LocalAgentName; rateHz: number; toneHz: number } {
  const agent = config['agent'] ?? 'echo';
  if (agent !== 'echo' && agent !== 'loopback' && agent !== 'tone') {
    throw new RangeError(`agent: unknown local agent "${String(agent)}" (echo, loopback, tone)`);
  }
  const rateHz = config['rateHz'] ?? 16000;
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`agent: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [got:${String(rateHz)}]`);
  }
  const toneHz = config['toneHz'] ?? 440;
  if (typeof toneHz !== 'number' || !(toneHz > 0 && toneHz < rateHz / 2)) {
    throw new RangeError(`agent: toneHz must be in (0, ${rateHz / 2}) [got:${String(toneHz)}]`);
  }
  return { agent, rateHz, toneHz };
}

export function createLocalAgent(ctx: ActorContext, config: ActorConfig): HostedActor {
  const { agent, rateHz, toneHz } = parseAgentConfig(config);
  const input = ctx.rings['in'];
  const output = ctx.rings['out'];
  if (input === undefined || output === undefined) throw new RangeError('agent: needs in and out rings');
  const spf = (rateHz * ctx.tickMs) / 1000;
  const frame = new Int16Array(spf);
  const silence = new Int16Array(spf);
  const meta = new FrameMeta();
  const stats = ctx.stats;
  stats[STAT.rateHz] = rateHz;
  const vad = agent === 'echo' ? new Vad(rateHz, { frameMs: ctx.tickMs }) : undefined;

  // Echo: the turn being recorded and the one being played, in one buffer
  // (a new turn starts only after the playback stopped or was barged into).
  const turn = agent === 'echo' ? new Int16Array((rateHz * ECHO_MAX_TURN_MS) / 1000) : new Int16Array(0);
  const preroll = agent === 'echo' ? new Int16Array(ECHO_PREROLL_FRAMES * spf) : new Int16Array(0);
  let prerollFrames = 0;
  let prerollAt = 0;
  let recorded = 0;
  let playing = 0;
  let playAt = 0;
  let inTurn = false;
  let outSeq = 0;
  let toneN = 0;
  // Echo barge-in: where the current playback started on `out` and how many
  // frames of it went out; the same for the playback that was interrupted.
  const heard = new HeardTracker(ctx.rings['heard']);
  let playStartSeq = 0;
  let playedFrames = 0;
  let cutStartSeq = 0;
  let cutFrames = 0;
  let nowMs = 0;

  /** The interrupted playback's heard count is known: publish it as ms heard. */
  const settle = (timedOut: boolean): void => {
    const frames = Math.max(0, Math.min(heard.final - cutStartSeq, cutFrames));
    stats[STAT.lastTruncateMs] = frames * ctx.tickMs;
    if (timedOut) stats[STAT.heardTimeouts]++;
  };

  /** `made`: the caller frame's playout stamp the loopback passes on (engineLatency.ts); 0 for the agent's own audio. */
  const send = (samples: Int16Array, flags: number, made = 0): void => {
    if (output.writeStamped(samples, spf, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, flags, made, 0, 0)) stats[STAT.framesOut]++;
    else stats[STAT.outOverflows]++;
    outSeq++;
  };

  /** Echo: one inbound frame through the VAD and the turn state. */
  const hear = (): void => {
    const speech = vad!.process(frame);
    if (speech) stats[STAT.speechFrames]++;
    if (speech && playing > 0) {
      // The caller talks over the playback: stop it now, tell the leg to drop
      // what it holds, keep listening. The CLEAR does not use up its sequence
      // number. (The agent writes in real time and the leg's queue is short,
      // so "still playing here" is "still playing there" within a frame or two.)
      playing = 0;
      stats[STAT.bargeIns]++;
      if (output.write(silence, 0, outSeq >>> 0, (outSeq * spf) >>> 0, rateHz, FrameFlags.CLEAR)) stats[STAT.framesOut]++;
      else stats[STAT.outOverflows]++;
      if (heard.clear(outSeq, nowMs)) settle(true);
      cutStartSeq = playStartSeq;
      cutFrames = playedFrames;
      playedFrames = 0;
    }
    if (speech && !inTurn) {
      inTurn = true;
      recorded = 0;
      // The oldest kept frame first.
      for (let f = prerollFrames; f > 0; f--) {
        const from = ((prerollAt - f + ECHO_PREROLL_FRAMES) % ECHO_PREROLL_FRAMES) * spf;
        for (let i = 0; i < spf; i++) turn[recorded + i] = preroll[from + i]!;
        recorded += spf;
      }
      prerollFrames = 0;
    } else if (!inTurn) {
      for (let i = 0; i < spf; i++) preroll[prerollAt * spf + i] = frame[i]!;
      prerollAt = (prerollAt + 1) % ECHO_PREROLL_FRAMES;
      if (prerollFrames < ECHO_PREROLL_FRAMES) prerollFrames++;
    }
    if (inTurn) {
      const n = Math.min(spf, turn.length - recorded);
      for (let i = 0; i < n; i++) turn[recorded + i] = frame[i]!;
      recorded += n;
      if (!speech) {
        // End of turn (the VAD's hangover has run out): play it back.
        inTurn = false;
        stats[STAT.turns]++;
        playing = recorded;
        playAt = 0;
        playStartSeq = outSeq;
        playedFrames = 0;
      }
    }
  };

  return {
    tick(): number {
      let frames = 0;
      nowMs = performance.now();
      if (agent === 'echo') {
        const h = heard.poll(nowMs);
        if (h !== Heard.NONE) settle(h === Heard.TIMED_OUT);
      }
      while (input.available() > 0 && input.readStamped(frame, meta)) {
        frames++;
        stats[STAT.framesIn]++;
        if (meta.sampleCount !== spf || meta.rateHz !== rateHz) {
          stats[STAT.wrongSizeFrames]++;
          continue;
        }
        if (agent === 'loopback') send(frame, meta.flags, meta.arrivalMs);
        else if (agent === 'echo') hear();
      }
      if (agent === 'tone') {
        for (let i = 0; i < spf; i++) {
          frame[i] = syntheticSample(toneN, rateHz, toneHz, TONE_AMPLITUDE);
          toneN++;
        }
        send(frame, FrameFlags.SPEECH);
      } else if (agent === 'echo') {
        if (playing > 0) {
          const n = Math.min(spf, playing - playAt);
          for (let i = 0; i < spf; i++) frame[i] = i < n ? turn[playAt + i]! : 0;
          playAt += n;
          if (playAt >= playing) playing = 0;
          playedFrames++;
          send(frame, FrameFlags.SPEECH);
        } else send(silence, FrameFlags.SILENCE);
      }
      return frames + 1;
    },
    close(): void {
      vad?.destroy();
    },
  };
}
