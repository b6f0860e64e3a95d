import type { ActorConfig } from '../../protocol.ts';
import { SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';

/** Reconnection after a lost session: the first delay by default, doubling per attempt. */
export const RECONNECT_BASE_MS = 250;

/**
 * The `openai` agent's configuration as the transport sends it (structured
 * clone of JSON):
 * `{ agent: 'openai', rateHz, openai: { baseUrl, apiKey, model, voice, instructions, tools?, ca?, format } }`.
 *
 * `format` is the audio on the socket: `pcmu` is G.711 µ-law at 8 kHz, passed
 * through when the leg is µ-law (rateHz 8000, so no resampling at all);
 * `pcm24` is 16-bit PCM at 24 kHz (the API's native rate), resampled at the
 * agent's edge from and to the call's rate.
 */
export interface OpenAIAgentConfig {
  rateHz: number;
  baseUrl: string;
  apiKey: string;
  model: string;
  voice: string;
  instructions: string;
  tools: unknown[];
  /** Extra trusted CA certificates (PEM) for a private endpoint. */
  ca: string | undefined;
  format: 'pcmu' | 'pcm24';
  /** The first re-open delay after a lost session, doubling per attempt. */
  reconnectBaseMs: number;
}

function str(o: Record<string, unknown>, key: string, allowEmpty = false): string {
  const v = o[key];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) {
    throw new RangeError(`agent openai: ${key} must be a ${allowEmpty ? '' : 'non-empty '}string [got:${typeof v}]`);
  }
  return v;
}

/** Validates the configuration; throws a RangeError naming the first thing wrong. */
export function parseOpenAIAgentConfig(config: ActorConfig): OpenAIAgentConfig {
  const rateHz = config['rateHz'];
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`agent openai: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [got:${String(rateHz)}]`);
  }
  const o = config['openai'];
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new RangeError('agent openai: missing the openai section');
  const section = o as Record<string, unknown>;
  const baseUrl = str(section, 'baseUrl');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new RangeError(`agent openai: baseUrl is not a URL [got:${baseUrl.slice(0, 80)}]`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new RangeError(`agent openai: baseUrl must be http(s) [got:${url.protocol}]`);
  }
  const tools = section['tools'] ?? [];
  if (!Array.isArray(tools)) throw new RangeError('agent openai: tools must be an array');
  const ca = section['ca'];
  if (ca !== undefined && (typeof ca !== 'string' || !ca.includes('-----BEGIN'))) {
    throw new RangeError('agent openai: ca must be PEM text');
  }
  const format = section['format'];
  if (format !== 'pcmu' && format !== 'pcm24') {
    throw new RangeError(`agent openai: format must be pcmu or pcm24 [got:${String(format)}]`);
  }
  if (format === 'pcmu' && rateHz !== 8000) {
    throw new RangeError(`agent openai: format pcmu needs rateHz 8000 (µ-law passthrough) [got:${rateHz}]`);
  }
  const reconnectBaseMs = section['reconnectBaseMs'] ?? RECONNECT_BASE_MS;
  if (typeof reconnectBaseMs !== 'number' || !Number.isInteger(reconnectBaseMs) || reconnectBaseMs < 10 || reconnectBaseMs > 60_000) {
    throw new RangeError(`agent openai: reconnectBaseMs must be an integer 10–60000 [got:${String(reconnectBaseMs).slice(0, 40)}]`);
  }
  return {
    rateHz,
    baseUrl,
    apiKey: str(section, 'apiKey'),
    model: str(section, 'model'),
    voice: str(section, 'voice'),
    instructions: str(section, 'instructions', true),
    tools,
    ca,
    format,
    reconnectBaseMs,
  };
}
