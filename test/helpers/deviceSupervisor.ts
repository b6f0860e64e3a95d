import type { Logger } from 'pino';
import type { ActorKind } from '../../src/actors/ActorKind.ts';
import { agentKind } from '../../src/actors/agent/kind.ts';
import { captureKind } from '../../src/actors/capture/kind.ts';
import { playbackKind } from '../../src/actors/playback/kind.ts';
import type { Transport } from '../../src/calls/transports.ts';
import { captureTransport } from '../../src/legs/capture/captureTransport.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';

/**
 * A real supervisor that takes capture calls (capture → agent → playback, the
 * agent on a call worker), started: the environment the device hosts need
 * (ALSA_CONFIG_PATH, …) must be set before, since workers copy it as they start.
 * `kinds` are added to the capture call's; `transports` come before its own.
 */
export async function startDeviceSupervisor(opts: {
  log: Logger;
  defaultAgent?: string;
  kinds?: Record<string, ActorKind>;
  transports?: Transport[];
  poolSizes?: { media: number; network: number; agent: number; capture: number };
}): Promise<Supervisor> {
  const sup = new Supervisor({ spareThreads: false,
    poolSizes: opts.poolSizes ?? { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log: opts.log,
    placement: 'call',
    kinds: { capture: captureKind, agent: agentKind, playback: playbackKind, ...opts.kinds },
    transports: [...(opts.transports ?? []), captureTransport({ agents: { defaultAgent: opts.defaultAgent ?? 'loopback' } })],
  });
  await sup.start();
  return sup;
}
