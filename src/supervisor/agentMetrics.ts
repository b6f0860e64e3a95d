import { Histogram, type Registry } from 'prom-client';

/** The parts of a pipeline turn, as its `pipeline.turn` event names them (ms), and their metric label. */
const TURN_PARTS = [
  ['sttMs', 'stt'],
  ['llmFirstTokenMs', 'llm_first_token'],
  ['llmFirstSentenceMs', 'llm_first_sentence'],
  ['ttsFirstByteMs', 'tts_first_byte'],
  ['responseMs', 'response'],
  ['engineMs', 'engine'],
] as const;

/**
 * Per-turn agent figures that outlive their call: each `pipeline.turn` event
 * is observed once, when it reaches the main thread, so a histogram holds
 * every turn answered (the live-call sums in callMetrics.ts lose a call's
 * turns when it ends). Returns the observer for actor events.
 */
export function registerAgentMetrics(registry: Registry): (name: string, data: Record<string, unknown>) => void {
  const turn = new Histogram<'part'>({
    name: 'switchboard_pipeline_turn_seconds',
    help: "The pipeline agent's turns: STT time, LLM time to first token and to first sentence, TTS time to first byte, the whole response from the caller's turn end to the first reply frame, and the engine's own share of it",
    labelNames: ['part'],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10],
    registers: [registry],
  });
  return (name, data) => {
    if (name !== 'pipeline.turn') return;
    for (const [key, part] of TURN_PARTS) {
      const ms = data[key];
      // -1: the part did not happen (a turn answered after a tool output has no STT).
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) turn.observe({ part }, ms / 1000);
    }
  };
}
