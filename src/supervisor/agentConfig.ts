import { quote } from '../wire/text.ts';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/ConfigError.ts';
import type { ActorConfig } from '../protocol.ts';
import { parseJson } from '../wire/jsonSyntax.ts';
import { RequestError } from './Runtime.ts';
import { pipelineActorSection, type PipelineAgentSettings } from './pipelineSettings.ts';

/** The agents a call can name (DESIGN: agents). */
export const AGENT_NAMES = ['echo', 'loopback', 'tone', 'openai', 'pipeline'] as const;
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
  /** The first re-open delay after a lost session (`openai.reconnectBaseMs`). */
  reconnectBaseMs?: number;
}

export interface AgentSettings {
  defaultAgent: string;
  openai?: OpenAIAgentSettings;
  pipeline?: PipelineAgentSettings;
}

/** A PEM certificate block (RFC 7468 §2); a CA file holds one or more. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Names where a key's value came from in an error (`--openai.tools-file`); the caller's layers know. */
export type KeySource = (key: string) => string | undefined;

/** `config: KEY: "FILE" (from SOURCE) PROBLEM; expected WHAT`, as loadConfig words its errors. */
function fileProblem(key: string, file: string, source: KeySource, problem: string, expected: string): ConfigError {
  const from = source(key);
  return new ConfigError(`config: ${key}: ${JSON.stringify(file)}${from === undefined ? '' : ` (from ${from})`} ${problem}; expected ${expected}`);
}

const TOOLS_KEY = 'openai.toolsFile';
const CA_KEY = 'openai.caFile';

function readText(key: string, file: string, source: KeySource, expected: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw fileProblem(key, file, source, `cannot be read [${(err as Error).message}]`, expected);
  }
}

export function readToolsFile(file: string, source: KeySource, key = TOOLS_KEY): unknown[] {
  const expected = 'a path to a JSON file holding an array of tools';
  const text = readText(key, file, source, expected);
  const parsed = parseJson(text);
  if (!parsed.ok) throw fileProblem(key, file, source, `is not valid JSON: ${parsed.message}`, expected);
  if (!Array.isArray(parsed.value)) {
    const v = parsed.value;
    const kind = v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
    throw fileProblem(key, file, source, `holds ${kind}, not an array`, expected);
  }
  return parsed.value;
}

function readCaFile(file: string, source: KeySource): string {
  const expected = 'a path to a PEM file of CA certificates';
  const pem = readText(CA_KEY, file, source, expected);
  // A TLS context takes text without a certificate in it silently; every call would then fail.
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw fileProblem(CA_KEY, file, source, 'holds no PEM certificate', expected);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw fileProblem(CA_KEY, file, source, `has a certificate that does not parse (number ${i + 1}) [${(err as Error).message}]`, expected);
    }
  });
  return pem;
}

/**
 * Reads the files the `openai` section names. A missing or malformed file is
 * a ConfigError naming the key (and, with `source`, where it was set): the
 * daemon checks this before it starts anything (src/config/preflight.ts).
 */
export function loadOpenAISettings(
  section: { baseUrl: string; model: string; voice: string; instructions: string; toolsFile?: string | undefined; caFile?: string | undefined; reconnectBaseMs?: number },
  apiKey: string | undefined,
  source: KeySource = () => undefined,
): OpenAIAgentSettings {
  const settings: OpenAIAgentSettings = { baseUrl: section.baseUrl, model: section.model, voice: section.voice, instructions: section.instructions };
  if (apiKey !== undefined) settings.apiKey = apiKey;
  if (section.reconnectBaseMs !== undefined) settings.reconnectBaseMs = section.reconnectBaseMs;
  if (section.toolsFile !== undefined) settings.tools = readToolsFile(section.toolsFile, source);
  if (section.caFile !== undefined) settings.ca = readCaFile(section.caFile, source);
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
  if (agent === 'pipeline') return { agent, rateHz, pipeline: pipelineActorSection(settings.pipeline) };
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
  if (o.reconnectBaseMs !== undefined) openai['reconnectBaseMs'] = o.reconnectBaseMs;
  return { agent, rateHz, openai };
}
