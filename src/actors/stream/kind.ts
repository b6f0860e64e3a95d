import type { ActorKind } from '../ActorKind.ts';

/**
 * The raw audio stream leg of one call (`WS /v1/stream`), on a network
 * worker (StreamLeg.ts).
 *
 * Rings:
 * - `in`: the agent's `out` (shared): 20 ms PCM frames at the stream's rate, CLEAR on barge-in.
 * - `heard`: the agent's `heard` (shared): how many of its frames the caller heard.
 * - `wire`: encoded frames, marks and clears for the call's WebSocket on the main
 *   thread (frames/wireRing.ts, slots sized for the codec: edges.ts `streamWire`).
 * - `echo`: mark echoes and clear fences from the main thread (frames/wireRing.ts).
 *
 * Config: `{ codec: 'PCMU'|'PCMA'|'G722'|'opus'|'L16', rateHz, leadMs? (60) }`.
 */
export const STREAM_LEG_STATS = [
  'framesIn',
  'silenceFramesSkipped',
  'wrongSizeFrames',
  'queueFull',
  'encodeErrors',
  'framesSent',
  'bytesSent',
  'marksSent',
  'markEchoes',
  'markEchoesCleared',
  'markEchoesUnknown',
  'clears',
  'wireFull',
  'heardMs',
  'sentMs',
  'queuedMs',
  'droppedMs',
  'outstandingMarks',
] as const;

export const streamKind: ActorKind = {
  name: 'stream',
  pool: 'network',
  entry: './stream/stream.worker',
  stage: 2,
  perCall: true,
  rings: [
    { name: 'in', edge: 'pcm' },
    { name: 'heard', edge: 'heard' },
    { name: 'wire', edge: 'streamWire' },
    { name: 'echo', edge: 'echo' },
  ],
  stats: STREAM_LEG_STATS,
  qos: ['framesSent', 'heardMs', 'sentMs', 'clears', 'droppedMs', 'outstandingMarks'],
};
