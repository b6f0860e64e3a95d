import { fileURLToPath } from 'node:url';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { twilioKind } from '../../src/actors/twilio/kind.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { AgentSettings } from '../../src/supervisor/agentConfig.ts';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { twilioTransport } from '../../src/legs/twilio/twilioTransport.ts';
import { memoryLogger } from './logger.ts';
import type { Recorder } from '../../src/recording/Recorder.ts';
import type { Placement } from '../../src/actors/ActorKind.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

export interface TwilioRuntime {
  sup: Supervisor;
  http: HttpServer;
  config: Config;
  port: number;
  /** `ws://127.0.0.1:<port>/twilio/media` */
  mediaUrl: string;
  base: string;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * A real supervisor (jitter, agent and Twilio-leg workers) behind the real
 * HTTP server, taking Twilio Media Streams on 127.0.0.1 at a free port.
 */
export async function startTwilioRuntime(
  opts: {
    argv?: string[];
    env?: Record<string, string>;
    agents?: Partial<AgentSettings>;
    mediaWorkers?: number;
    http?: HttpServerOptions;
    recorder?: Recorder;
    placement?: Placement;
  } = {},
): Promise<TwilioRuntime> {
  const { log, lines } = memoryLogger();
  const config = loadConfig({ argv: ['--port', '0', ...(opts.argv ?? [])], env: opts.env ?? {}, cwd: FIXTURES });
  const sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: opts.mediaWorkers ?? 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log,
    kinds: { jitter: jitterKind, agent: agentKind, twilio: twilioKind },
    transports: [twilioTransport({ agents: { defaultAgent: config.agent.default, ...opts.agents } })],
    recorder: opts.recorder,
    ...(opts.placement !== undefined ? { placement: opts.placement } : {}),
  });
  await sup.start();
  const http = createHttpServer(sup, config, log, opts.http);
  const { port } = await http.listen();
  return {
    sup,
    http,
    config,
    port,
    mediaUrl: `ws://127.0.0.1:${port}/twilio/media`,
    base: `http://127.0.0.1:${port}`,
    lines,
    async stop() {
      await http.close();
      await sup.stop();
    },
  };
}
