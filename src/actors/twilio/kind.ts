import type { ActorKind } from '../ActorKind.ts';
import { WIRE_RATE_HZ } from '../../frames/wireRing.ts';
import { RECORD_AGENT_ROLE } from '../../frames/edges.ts';

/**
 * The Twilio leg of one call, on a network worker (TwilioLeg.ts).
 *
 * Rings:
 * - `in`: the agent's `out` (shared): 20 ms PCM frames at 8 kHz, CLEAR on barge-in.
 * - `heard`: the agent's `heard` (shared): how many of its frames the caller heard.
 * - `wire`: outbound messages for the call's WebSocket on the main thread (frames/wireRing.ts).
 * - `echo`: mark echoes and clear fences from the main thread (frames/wireRing.ts).
 */

/** The agent's frames come in at Twilio's own rate: a 20 ms frame is one µ-law chunk on the wire. */
export const TWILIO_LEG_RATE_HZ = WIRE_RATE_HZ;

export const TWILIO_LEG_STATS = [
  'framesIn',
  'silenceFramesSkipped',
  'wrongSizeFrames',
  'queueFull',
  'chunksSent',
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

export const twilioKind: ActorKind = {
  name: 'twilio',
  pool: 'network',
  entry: './twilio/twilio.worker',
  stage: 2,
  perCall: true,
  rings: [
    { name: 'in', edge: 'pcm' },
    { name: 'heard', edge: 'heard' },
    // 64 messages: the main thread empties it every few milliseconds.
    { name: 'wire', edge: 'wire' },
    // Twilio echoes every pending mark at once after a clear: room for all of them.
    { name: 'echo', edge: 'echo' },
    // The agent's channel of the call's recording (actors/RecordTap.ts), only when the call records.
    { name: RECORD_AGENT_ROLE, edge: 'record', optional: true },
  ],
  stats: TWILIO_LEG_STATS,
  qos: ['chunksSent', 'heardMs', 'sentMs', 'clears', 'droppedMs', 'outstandingMarks'],
};
