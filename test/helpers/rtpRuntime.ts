import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { mixerKind } from '../../src/actors/mixer/kind.ts';
import type { Placement } from '../../src/actors/ActorKind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import type { AgentSettings } from '../../src/supervisor/agentConfig.ts';
import { memoryLogger } from './logger.ts';

/** A real supervisor that takes RTP calls (jitter → agent → leg: one worker each, or together under `placement: call`) on a port range of the test's own. */
export async function startRtpRuntime(opts: {
  portMin: number;
  portMax: number;
  rtcpMinIntervalS: number;
  idleTimeoutMs?: number;
  placement?: Placement;
  mediaWorkers?: number;
  agents?: AgentSettings;
  /** A loaded spare thread per kind, for tests that crash workers (off by default: each start loads half the threads). */
  spareThreads?: boolean;
}) {
  const transport = rtpTransport(opts);
  const sup = new Supervisor({
    spareThreads: opts.spareThreads ?? false,
    poolSizes: { media: opts.mediaWorkers ?? 1, network: 1, agent: 1, capture: 1 },
    ...(opts.placement !== undefined ? { placement: opts.placement } : {}),
    logLevel: 'warn',
    log: memoryLogger().log,
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind, mixer: mixerKind },
    transports: [transport],
  });
  await sup.start();
  return { sup, transport };
}
