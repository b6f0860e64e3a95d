import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { loadOpenAISettings, type AgentSettings } from './agentConfig.ts';
import { loadPipelineSettings, type PipelineSection } from './pipelineSettings.ts';
import { registerPortMetrics } from '../legs/rtp/portMetrics.ts';
import { rtpTransport } from '../legs/rtp/rtpTransport.ts';
import { Supervisor } from './Supervisor.ts';
import { registerRecordingMetrics } from '../recording/RecordingCounters.ts';
import type { Placement } from '../actors/ActorKind.ts';
import { syntheticTransport } from '../calls/transports.ts';
import { twilioTransport } from '../legs/twilio/twilioTransport.ts';
import { captureTransport } from '../legs/capture/captureTransport.ts';
import type { DeviceCatalog } from '../devices/DeviceCatalog.ts';
import { sipService, type SipConfig } from '../legs/sip/sipService.ts';
import { streamTransport } from '../legs/stream/streamTransport.ts';
import { createRecorder, type RecordingConfig } from '../recording/createRecorder.ts';

/** Reads the fields of the daemon's configuration that the runtime needs. */
export interface RuntimeConfig {
  mediaWorkers?: number;
  networkWorkers?: number;
  agentWorkers?: number;
  captureWorkers?: number;
  placement?: Placement;
  spareThreads?: boolean;
  logLevel?: string;
  host?: string;
  rtp?: { portMin: number; portMax: number; idleTimeoutMs?: number; bindHost?: string | undefined; latchCidr?: string | string[] | undefined };
  agent?: { default: string };
  openai?: Parameters<typeof loadOpenAISettings>[0];
  pipeline?: PipelineSection;
  secrets?: { openaiApiKey?: string | undefined };
  metrics?: { perCallSeries: boolean };
  limits?: { maxCalls?: number | undefined };
  /** The daemon's scan of sound devices, shown in /status. */
  deviceCatalog?: DeviceCatalog;
  sip?: SipConfig;
  tls?: { cert?: string | undefined; key?: string | undefined };
  /** Recording (absent: calls cannot record). */
  recording?: RecordingConfig;
}

/**
 * Calls one media worker carries within its frame, with headroom: a call's
 * jitter buffer, PLC and decoder cost ~0.1–0.3% of a core (README figures),
 * so 500 calls fill a core to about half and leave room for agents and legs.
 */
export const MAX_CALLS_PER_MEDIA_WORKER = 500;

/** `limits.maxCalls` unless set: one media worker's share per worker the cores can run at once. */
export function defaultMaxCalls(mediaWorkers: number, cores = availableParallelism()): number {
  return MAX_CALLS_PER_MEDIA_WORKER * Math.max(1, Math.min(mediaWorkers, cores));
}

export async function createRuntime(config: RuntimeConfig, log: Logger): Promise<Supervisor> {
  const agents: AgentSettings = { defaultAgent: config.agent?.default ?? 'echo' };
  if (config.openai !== undefined) agents.openai = loadOpenAISettings(config.openai, config.secrets?.openaiApiKey);
  if (config.pipeline !== undefined) agents.pipeline = loadPipelineSettings(config.pipeline);
  const rtp = rtpTransport({
    portMin: config.rtp?.portMin ?? 10_000,
    portMax: config.rtp?.portMax ?? 20_000,
    host: config.rtp?.bindHost ?? config.host,
    agents,
    latchCidr: config.rtp?.latchCidr,
    ...(config.rtp?.idleTimeoutMs !== undefined ? { idleTimeoutMs: config.rtp.idleTimeoutMs } : {}),
  });
  const sip = sipService(config.sip, config.tls, config.rtp?.bindHost ?? config.host ?? '127.0.0.1', rtp, log);
  const mediaWorkers = config.mediaWorkers ?? availableParallelism();
  const recorder = config.recording === undefined ? undefined : createRecorder(config.recording, log);
  const sup = new Supervisor({
    recorder,
    maxCalls: config.limits?.maxCalls ?? defaultMaxCalls(mediaWorkers),
    poolSizes: {
      media: mediaWorkers,
      network: config.networkWorkers ?? 1,
      agent: config.agentWorkers ?? 1,
      capture: config.captureWorkers ?? 1,
    },
    logLevel: config.logLevel ?? 'info',
    log,
    placement: config.placement ?? 'call',
    spareThreads: config.spareThreads ?? true,
    metrics: { perCallSeries: config.metrics?.perCallSeries ?? false },
    transports: [
      syntheticTransport,
      rtp,
      twilioTransport({ agents }),
      captureTransport({ agents }),
      sip.transport,
      streamTransport({ agents }),
    ],
    ...(config.deviceCatalog !== undefined ? { devices: () => config.deviceCatalog!.status() } : {}),
  });
  registerPortMetrics(sup.metrics, rtp.ports);
  if (recorder !== undefined) registerRecordingMetrics(sup.metrics, recorder);
  await sup.start();
  try {
    await sip.start(sup);
  } catch (err) {
    await sup.stop();
    throw new Error(`SIP cannot listen on port ${config.sip?.port} [${(err as Error).message}]`);
  }
  // The SIP sockets close with the runtime (the daemon stops it last, after the drain has ended its calls).
  const stop = sup.stop.bind(sup);
  sup.stop = () => {
    sip.stop();
    return stop();
  };
  return sup;
}
