import type { ActorKind } from '../ActorKind.ts';

/**
 * The local agents (echo, loopback, tone) of one call, on agent workers.
 * Rings: `in` carries the caller's conditioned audio (20 ms PCM frames from
 * the jitter/PLC actor), `out` the agent's audio for the leg to send, one
 * frame per tick (silence frames flagged SILENCE when it has nothing to say).
 */
const AGENT_RING_SLOTS = 64;

export const AGENT_STATS = [
  'framesIn',
  'framesOut',
  'speechFrames',
  'turns',
  'bargeIns',
  'wrongSizeFrames',
  'outOverflows',
  'rateHz',
] as const;

export const agentKind: ActorKind = {
  name: 'agent',
  pool: 'agent',
  entry: './agent/agent.worker',
  rings: [
    { name: 'in', slots: AGENT_RING_SLOTS, maxSamples: 960 },
    { name: 'out', slots: AGENT_RING_SLOTS, maxSamples: 960 },
  ],
  stats: AGENT_STATS,
};
