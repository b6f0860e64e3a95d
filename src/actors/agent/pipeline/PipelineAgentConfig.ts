import type { ActorConfig } from '../../../protocol.ts';
import { SUPPORTED_RATES_HZ } from '../../../dsp/resampler.ts';

/**
 * The `pipeline` agent's configuration as the transport sends it (structured
 * clone of JSON):
 * `{ agent: 'pipeline', rateHz, pipeline: { hangoverMs, timeoutMs, stt, llm, tts } }`,
 * each stage an OpenAI-compatible HTTP API with its own base URL, model and key
 * (hosted, or a self-hosted server such as whisper.cpp, vLLM or llama.cpp).
 */
export interface StageConfig {
  baseUrl: string;
  /** Sent as the bearer token; self-hosted servers that need none get a placeholder. */
  apiKey: string;
  model: string;
}

export interface PipelineAgentConfig {
  rateHz: number;
  /** Silence after speech that ends the caller's turn (the VAD's hangover). */
  hangoverMs: number;
  /** A stage that sends nothing this long (no answer, or a stalled stream) has timed out. */
  timeoutMs: number;
  stt: StageConfig & { stream: boolean };
  llm: StageConfig & { instructions: string; tools: unknown[] };
  tts: StageConfig & { voice: string };
}

type Section = Record<string, unknown>;

function section(o: Section, key: string, where: string): Section {
  const v = o[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RangeError(`agent pipeline: ${where}${key} must be an object [got:${typeof v}]`);
  return v as Section;
}

function str(o: Section, key: string, where: string, allowEmpty = false): string {
  const v = o[key];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) {
    throw new RangeError(`agent pipeline: ${where}${key} must be a ${allowEmpty ? '' : 'non-empty '}string [got:${typeof v}]`);
  }
  return v;
}

function int(o: Section, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`agent pipeline: ${key} must be an integer ${min}–${max} [got:${String(v)}]`);
  }
  return v;
}

function stage(o: Section, name: 'stt' | 'llm' | 'tts'): StageConfig {
  const s = section(o, name, '');
  const where = `${name}.`;
  const baseUrl = str(s, 'baseUrl', where);
  if (!URL.canParse(baseUrl) || !['http:', 'https:'].includes(new URL(baseUrl).protocol)) {
    throw new RangeError(`agent pipeline: ${where}baseUrl must be an http(s) URL [got:${baseUrl.slice(0, 80)}]`);
  }
  return { baseUrl, apiKey: str(s, 'apiKey', where), model: str(s, 'model', where) };
}

/** Validates the configuration; throws a RangeError naming the first thing wrong. */
export function parsePipelineAgentConfig(config: ActorConfig): PipelineAgentConfig {
  const rateHz = config['rateHz'];
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`agent pipeline: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [got:${String(rateHz)}]`);
  }
  const p = config['pipeline'];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new RangeError('agent pipeline: missing the pipeline section');
  const o = p as Section;
  const llm = section(o, 'llm', '');
  const tts = section(o, 'tts', '');
  const tools = llm['tools'] ?? [];
  if (!Array.isArray(tools)) throw new RangeError('agent pipeline: llm.tools must be an array');
  const stream = section(o, 'stt', '')['stream'] ?? false;
  if (typeof stream !== 'boolean') throw new RangeError('agent pipeline: stt.stream must be a boolean');
  return {
    rateHz,
    hangoverMs: int(o, 'hangoverMs', 20, 5000),
    timeoutMs: int(o, 'timeoutMs', 100, 120_000),
    stt: { ...stage(o, 'stt'), stream },
    llm: { ...stage(o, 'llm'), instructions: str(llm, 'instructions', 'llm.', true), tools },
    tts: { ...stage(o, 'tts'), voice: str(tts, 'voice', 'tts.') },
  };
}
