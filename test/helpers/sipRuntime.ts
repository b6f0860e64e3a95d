import { agentKind } from '../../src/actors/agent/kind.ts';
import { jitterKind } from '../../src/actors/jitter/kind.ts';
import { rtpKind } from '../../src/actors/rtp/kind.ts';
import { rtpTransport } from '../../src/legs/rtp/rtpTransport.ts';
import { sipService, type SipConfig } from '../../src/legs/sip/sipService.ts';
import type { SipTimers } from '../../src/legs/sip/transactions.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from './logger.ts';

/** A real supervisor taking SIP calls (and RTP ones over its API) with SIP listening on 127.0.0.1 at a free port. */
export async function startSipRuntime(opts: { portMin: number; portMax: number; sip?: Partial<SipConfig>; maxCalls?: number; mediaWorkers?: number; timers?: SipTimers; tls?: { cert: string; key: string } }) {
  const logger = memoryLogger();
  const rtp = rtpTransport({ portMin: opts.portMin, portMax: opts.portMax, rtcpMinIntervalS: 0.5, agents: { defaultAgent: 'loopback' } });
  const sip = sipService({ enabled: true, port: 0, tlsPort: 0, authRealm: 'switchboard', invitesPerSecond: 50, ...opts.sip }, opts.tls, '127.0.0.1', rtp, logger.log, opts.timers);
  const sup = new Supervisor({ spareThreads: false,
    poolSizes: { media: opts.mediaWorkers ?? 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'warn',
    log: logger.log,
    kinds: { jitter: jitterKind, agent: agentKind, rtp: rtpKind },
    transports: [rtp, sip.transport],
    placement: 'call',
    ...(opts.maxCalls !== undefined ? { maxCalls: opts.maxCalls } : {}),
  });
  await sup.start();
  const ports = (await sip.start(sup))!;
  return {
    sup,
    rtp,
    sip,
    port: ports.port,
    tlsPort: ports.tlsPort,
    logs: logger,
    async stop() {
      sip.stop();
      await sup.stop();
    },
  };
}
