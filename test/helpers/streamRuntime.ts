import { fileURLToPath } from 'node:url';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { streamKind } from '../../src/actors/stream/kind.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { streamTransport } from '../../src/legs/stream/streamTransport.ts';
import { memoryLogger } from './logger.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

export interface StreamRuntime {
  sup: Supervisor;
  http: HttpServer;
  config: Config;
  /** `ws://127.0.0.1:<port>/v1/stream` */
  streamUrl: string;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A real supervisor (jitter, agent and stream-leg actors on workers) behind the real HTTP server on 127.0.0.1. */
export async function startStreamRuntime(opts: { argv?: string[]; env?: Record<string, string>; maxCalls?: number } = {}): Promise<StreamRuntime> {
  const { log, lines } = memoryLogger();
  const config = loadConfig({ argv: ['--port', '0', ...(opts.argv ?? [])], env: opts.env ?? {}, cwd: FIXTURES });
  const sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log,
    ...(opts.maxCalls !== undefined ? { maxCalls: opts.maxCalls } : {}),
    kinds: { jitter: jitterKind, agent: agentKind, stream: streamKind },
    transports: [streamTransport({ agents: { defaultAgent: config.agent.default } })],
  });
  await sup.start();
  // A stream that never starts is closed after 1 s here (5 s in the daemon), so tests do not wait for it.
  const http = createHttpServer(sup, config, log, { streamStartTimeoutMs: 1000 });
  const { port } = await http.listen();
  return {
    sup,
    http,
    config,
    streamUrl: `ws://127.0.0.1:${port}/v1/stream`,
    lines,
    async stop() {
      await http.close();
      await sup.stop();
    },
  };
}

/** Another HTTP server on the same supervisor, with its own configuration (a control token, say): no second set of workers. */
export async function extraServer(rt: StreamRuntime, env: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const config = loadConfig({ argv: ['--port', '0'], env, cwd: FIXTURES });
  const { log } = memoryLogger();
  const http = createHttpServer(rt.sup, config, log);
  const { port } = await http.listen();
  return { url: `ws://127.0.0.1:${port}/v1/stream`, close: () => http.close() };
}

/** The bad-input count of the raw stream, for one reason or all. */
export async function streamBadInput(sup: Supervisor, reason?: string): Promise<number> {
  const metric = await sup.metrics.getSingleMetric('switchboard_bad_input_total')!.get();
  return metric.values.filter((v) => v.labels['source'] === 'stream' && (reason === undefined || v.labels['reason'] === reason)).reduce((a, v) => a + v.value, 0);
}
