import { readToolsFile, type KeySource } from './agentConfig.ts';
import { RequestError } from './Runtime.ts';

/** The key sent to a stage whose `apiKeyEnv` is empty: self-hosted servers ignore it, the client needs one. */
export const NO_API_KEY = 'none';

interface StageSection {
  baseUrl: string;
  model: string;
  apiKeyEnv: string;
}

/** The `pipeline` config section (src/config/schema.ts). */
export interface PipelineSection {
  hangoverMs: number;
  timeoutMs: number;
  stt: StageSection & { stream: boolean };
  llm: StageSection & { instructions: string; toolsFile?: string | undefined };
  tts: StageSection & { voice: string };
}

type Stage = { baseUrl: string; model: string; apiKeyEnv: string; apiKey: string | undefined };

/** What the `pipeline` agent needs besides the call: the section, each stage's key read from its variable, the tools. */
export interface PipelineAgentSettings {
  hangoverMs: number;
  timeoutMs: number;
  stt: Stage & { stream: boolean };
  llm: Stage & { instructions: string; tools: unknown[] };
  tts: Stage & { voice: string };
}

function stage<S extends StageSection>(s: S, env: NodeJS.ProcessEnv): Omit<S, 'toolsFile'> & { apiKey: string | undefined } {
  const { ...rest } = s as S & { toolsFile?: string };
  delete rest.toolsFile;
  return { ...rest, apiKey: s.apiKeyEnv === '' ? NO_API_KEY : env[s.apiKeyEnv] };
}

/**
 * Reads the keys the section names from `env` and the tools file (a missing
 * or malformed file is a ConfigError naming `pipeline.llm.toolsFile`; the
 * daemon checks it before it starts anything). A key missing from the
 * environment is not an error here: a call that asks for the pipeline is
 * refused (422) instead, so a daemon without keys still serves other agents.
 */
export function loadPipelineSettings(section: PipelineSection, env: NodeJS.ProcessEnv = process.env, source: KeySource = () => undefined): PipelineAgentSettings {
  const tools = section.llm.toolsFile === undefined ? [] : readToolsFile(section.llm.toolsFile, source, 'pipeline.llm.toolsFile');
  return {
    hangoverMs: section.hangoverMs,
    timeoutMs: section.timeoutMs,
    stt: stage(section.stt, env),
    llm: { ...stage(section.llm, env), tools },
    tts: stage(section.tts, env),
  };
}

/** The agent actor's `pipeline` section for a call; 422 when a stage's key is missing. */
export function pipelineActorSection(s: PipelineAgentSettings | undefined): Record<string, unknown> {
  if (s === undefined) throw new RequestError(422, 'agent: "pipeline" is not configured on this daemon');
  for (const name of ['stt', 'llm', 'tts'] as const) {
    if (s[name].apiKey === undefined) throw new RequestError(422, `agent: "pipeline" needs ${s[name].apiKeyEnv} (pipeline.${name}.apiKeyEnv) in the daemon's environment`);
  }
  const strip = ({ apiKeyEnv: _, ...rest }: Stage): Record<string, unknown> => rest;
  return {
    hangoverMs: s.hangoverMs,
    timeoutMs: s.timeoutMs,
    stt: strip(s.stt),
    llm: strip(s.llm),
    tts: strip(s.tts),
  };
}
