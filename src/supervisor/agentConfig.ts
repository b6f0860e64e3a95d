import { quote } from '../wire/text.ts';
import { readFileSync } from 'node:fs';
import type { ActorConfig } from '../protocol.ts';
import { RequestError } from './Runtime.ts';

/** The agents a call can name (DESIGN: agents). */
export const AGENT_NAMES = ['echo', 'loopback', 'tone', 'openai'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** What the `openai` agent needs besides the call: from the `openai` config section and the environment. */
export interface OpenAIAgentSettings {
  baseUrl: string;
  model: string;
  voice: string;
  instructions: string;
  apiKey?: string;
  /** The session's tools (function definitions), read once from `openai.toolsFile`. */
  tools?: unknown[];
  /** Extra trusted CAs (PEM), read once from `openai.caFile`. */
  ca?: string;
}

export interface AgentSettings {
  defaultAgent: string;
  openai?: OpenAIAgentSettings;
}

/** Reads the files the `openai` section names; a missing or malformed file is a start-up error (thrown). */
export function loadOpenAISettings(
  section: { baseUrl: string; model: string; voice: string; instructions: string; toolsFile?: string | undefined; caFile?: string | undefined },
  apiKey: string | undefined,
): OpenAIAgentSettings {
  const settings: OpenAIAgentSettings = { baseUrl: section.baseUrl, model: section.model, voice: section.voice, instructions: section.instructions };
  if (apiKey !== undefined) settings.apiKey = apiKey;
  if (section.toolsFile !== undefined) {
    let tools: unknown;
    try {
      tools = JSON.parse(readFileSync(section.toolsFile, 'utf8'));
    } catch (err) {
      throw new Error(`openai.toolsFile: cannot read ${section.toolsFile} as JSON [${(err as Error).message}]`);
    }
    if (!Array.isArray(tools)) throw new Error(`openai.toolsFile: ${section.toolsFile} must hold a JSON array of tools`);
    settings.tools = tools;
  }
  if (section.caFile !== undefined) {
    try {
      settings.ca = readFileSync(section.caFile, 'utf8');
    } catch (err) {
      throw new Error(`openai.caFile: cannot read ${section.caFile} [${(err as Error).message}]`);
    }
  }
  return settings;
}

/**
 * The agent actor's configuration for a call: the agent the request names
 * (or the default) at the call's rate. `ulaw` says the leg carries µ-law, so
 * the openai agent talks `audio/pcmu` to the API (no resampling, no
 * transcoding beyond G.711's exact round trip); otherwise 24 kHz PCM.
 */
export function agentActorConfig(requested: unknown, rateHz: number, ulaw: boolean, settings: AgentSettings): ActorConfig {
  const agent = requested ?? settings.defaultAgent;
  if (typeof agent !== 'string' || !(AGENT_NAMES as readonly string[]).includes(agent)) {
    throw new RequestError(422, `agent: expected one of ${AGENT_NAMES.join(', ')}, got ${quote(agent)}`);
  }
  if (agent !== 'openai') return { agent, rateHz };
  const o = settings.openai;
  if (o?.apiKey === undefined) {
    throw new RequestError(422, 'agent: "openai" needs OPENAI_API_KEY in the daemon\'s environment');
  }
  const openai: Record<string, unknown> = {
    baseUrl: o.baseUrl,
    apiKey: o.apiKey,
    model: o.model,
    voice: o.voice,
    instructions: o.instructions,
    format: ulaw && rateHz === 8000 ? 'pcmu' : 'pcm24',
  };
  if (o.tools !== undefined) openai['tools'] = o.tools;
  if (o.ca !== undefined) openai['ca'] = o.ca;
  return { agent, rateHz, openai };
}
