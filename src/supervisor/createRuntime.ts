import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { loadOpenAISettings, type AgentSettings } from './agentConfig.ts';
import { rtpTransport } from './rtpTransport.ts';
import { Supervisor } from './Supervisor.ts';
import { syntheticTransport } from './transports.ts';
import { twilioTransport } from './twilioTransport.ts';

/** Reads the fields of the daemon's configuration that the runtime needs. */
export interface RuntimeConfig {
  mediaWorkers?: number;
  networkWorkers?: number;
  agentWorkers?: number;
  captureWorkers?: number;
  logLevel?: string;
  host?: string;
  rtp?: { portMin: number; portMax: number; idleTimeoutMs?: number; bindHost?: string | undefined };
  agent?: { default: string };
  openai?: Parameters<typeof loadOpenAISettings>[0];
  secrets?: { openaiApiKey?: string | undefined };
}

export async function createRuntime(config: RuntimeConfig, log: Logger): Promise<Supervisor> {
  const agents: AgentSettings = { defaultAgent: config.agent?.default ?? 'echo' };
  if (config.openai !== undefined) agents.openai = loadOpenAISettings(config.openai, config.secrets?.openaiApiKey);
  const sup = new Supervisor({
    poolSizes: {
      media: config.mediaWorkers ?? availableParallelism(),
      network: config.networkWorkers ?? 1,
      agent: config.agentWorkers ?? 1,
      capture: config.captureWorkers ?? 1,
    },
    logLevel: config.logLevel ?? 'info',
    log,
    transports: [
      syntheticTransport,
      rtpTransport({ portMin: config.rtp?.portMin ?? 10_000, portMax: config.rtp?.portMax ?? 20_000, host: config.rtp?.bindHost ?? config.host, agents, ...(config.rtp?.idleTimeoutMs !== undefined ? { idleTimeoutMs: config.rtp.idleTimeoutMs } : {}) }),
      twilioTransport({ agents }),
    ],
  });
  await sup.start();
  return sup;
}
