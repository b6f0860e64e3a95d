import type { ActorKind } from '../ActorKind.ts';

/**
 * The local agents (echo, loopback, tone) of one call, on agent workers.
 * Rings: `in` carries the caller's conditioned audio (20 ms PCM frames from
 * the jitter/PLC actor), `out` the agent's audio for the leg to send, one
 * frame per tick (silence frames flagged SILENCE when it has nothing to say);
 * when the caller barges in, a CLEAR frame (no samples) tells the leg to drop
 * what it still holds of the agent's audio. `heard` runs the other way, from
 * the leg: frames with no samples whose `sequence` is how many of the agent's
 * `out` frames (counted by their sequence numbers: the frame with sequence s
 * heard means s + 1) the caller has really heard — from Twilio's mark echoes,
 * or frames put on the wire for RTP. The agent truncates its reply there.
 *
 * Barge-in, step by step: the agent writes one CLEAR frame on `out` (no
 * samples; its sequence is the next one, which the next audio frame reuses)
 * and stops the interrupted audio at once; the leg drops what it holds and,
 * once it knows what was really heard, writes one `heard` frame flagged CLEAR
 * whose value is final for the interrupted audio. Only then does the agent
 * truncate (HeardTracker.ts).
 */
export const AGENT_STATS = [
  'framesIn',
  'framesOut',
  'speechFrames',
  'turns',
  'bargeIns',
  'wrongSizeFrames',
  'outOverflows',
  'rateHz',
  // Barge-in (echo and openai): ms of the interrupted audio the caller heard, and
  // the times the leg's final heard count did not come in time.
  'lastTruncateMs',
  'heardTimeouts',
  // The openai agent.
  'openaiConnected',
  'appendsSent',
  'inputDroppedFrames',
  'deltasIn',
  'audioMsIn',
  'underrunFrames',
  'queueOverflows',
  'truncates',
  'toolCalls',
  'toolOutputs',
  'reconnects',
  'errors',
  'badEvents',
  'unknownEvents',
  // The pipeline agent: turns answered, their summed stage times (a mean is
  // the sum over pipelineTurns), the engine's own share of the last one, and
  // stage attempts that failed and were retried or failed for good.
  'pipelineTurns',
  'sttMsTotal',
  'llmFirstTokenMsTotal',
  'ttsFirstByteMsTotal',
  'engineMsTotal',
  'lastEngineMs',
  'stageRetries',
  'stageFailures',
] as const;

export const agentKind: ActorKind = {
  name: 'agent',
  pool: 'agent',
  entry: './agent/agent.worker',
  stage: 1,
  perCall: true,
  rings: [
    { name: 'in', edge: 'pcm' },
    { name: 'out', edge: 'pcm' },
    { name: 'heard', edge: 'heard' },
  ],
  stats: AGENT_STATS,
  qos: ['turns', 'bargeIns', 'lastTruncateMs', 'heardTimeouts', 'framesOut', 'pipelineTurns', 'sttMsTotal', 'llmFirstTokenMsTotal', 'ttsFirstByteMsTotal', 'engineMsTotal', 'lastEngineMs', 'stageRetries', 'stageFailures'],
};
