import type { ActorKind } from '../ActorKind.ts';

/** What a playback actor plays: the agent's audio, the caller's (conditioned) audio, or both mixed. */
export const PLAYBACK_LISTEN = ['agent', 'caller', 'both'] as const;
export type PlaybackListen = (typeof PLAYBACK_LISTEN)[number];

/** The playback actor's figures, by slot (kind.stats below names them in this order). */
export const PLAYBACK_STAT = { FRAMES_IN: 0, FRAMES_PLAYED: 1, DROPPED: 2, DEVICE_FAILED: 3, RATE: 4, CALLER_FRAMES: 5 } as const;

/**
 * A call's output to a local device (a speaker), or to nowhere (`none`): the
 * end of a capture call where a network leg would be. It runs on the capture
 * worker beside the capture actors (`host`), the thread that owns the
 * device pipes.
 *
 * Rings: `in` is the agent's audio (its `out`), one frame per tick; `heard`
 * tells the agent which of its frames went to the device (agent/kind.ts),
 * for exact barge-in; `caller`, optional, is the caller's audio (the capture
 * actor's `monitor`), played when the call's `listen` asks for it.
 */
export const playbackKind: ActorKind = {
  name: 'playback',
  pool: 'capture',
  host: 'capture',
  entry: './capture/capture.worker',
  stage: 2,
  rings: [
    { name: 'in', edge: 'pcm' },
    { name: 'heard', edge: 'heard' },
    { name: 'caller', edge: 'pcm', optional: true },
  ],
  // dropped: frames the device could not take in time (a stalled or slow device); callerFrames: the caller's frames mixed in.
  stats: ['framesIn', 'framesPlayed', 'dropped', 'deviceFailed', 'rateHz', 'callerFrames'],
};
