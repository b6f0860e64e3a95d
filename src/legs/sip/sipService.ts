import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { cidrMatcher, parseCidrList } from '../../wire/cidr.ts';
import type { RtpTransport } from '../rtp/rtpTransport.ts';
import { DigestGuard } from './DigestGuard.ts';
import { SipStack, type SipRuntime } from './SipStack.ts';
import { sipTransport } from './sipTransport.ts';
import type { Transport } from '../../calls/transports.ts';
import type { SipTimers } from './transactions.ts';
import { Registration } from './Registration.ts';
import { OutboundCall } from './OutboundCall.ts';
import { parseSipUri } from '../../wire/sipHeaders.ts';

/** The configuration keys SIP reads (src/config/schema.ts `sip`, `tls`). */
export interface SipConfig {
  enabled: boolean;
  port: number;
  tlsPort: number;
  bindHost?: string | undefined;
  advertise?: string | undefined;
  routes?: string | undefined;
  allow?: string | string[] | undefined;
  authUsers?: string | undefined;
  authRealm: string;
  invitesPerSecond: number;
  trunk?: { username: string; password: string } | undefined;
  register?: { registrar: string; user: string; expiresS: number } | undefined;
}

/** "a=b,c=d" → { a: "b", c: "d" } (split at the first `sep` of each pair). */
function pairs(text: string | undefined, sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of text?.split(',') ?? []) {
    const i = p.indexOf(sep);
    if (i > 0) out[p.slice(0, i).trim()] = p.slice(i + 1);
  }
  return out;
}

/**
 * SIP in the daemon: the `sip` call transport (always there, so an outbound
 * call without SIP enabled is a clear 503) and, when `sip.enabled`, the stack
 * listening on `sip.port` (UDP and TCP) and `sip.tlsPort` when `tls.cert` and
 * `tls.key` are set.
 */
export function sipService(
  config: SipConfig | undefined,
  tls: { cert?: string | undefined; key?: string | undefined } | undefined,
  host: string,
  rtp: RtpTransport,
  log: Logger,
  /** RFC 3261's T1/T2 (tests shorten them). */
  timers?: SipTimers,
) {
  let stack: SipStack | undefined;
  let registration: Registration | undefined;
  const transport: Transport = sipTransport({ rtp, stack: () => stack, trunk: config?.trunk });
  return {
    transport,
    async start(runtime: SipRuntime): Promise<{ port: number; tlsPort: number | undefined } | undefined> {
      if (config?.enabled !== true) return undefined;
      const bind = config.bindHost ?? host;
      const users = pairs(config.authUsers, ':');
      const withTls = tls?.cert !== undefined && tls.key !== undefined;
      stack = new SipStack({
        host: bind,
        port: config.port,
        ...(withTls ? { tlsPort: config.tlsPort, tls: { cert: readFileSync(tls.cert!), key: readFileSync(tls.key!) } } : {}),
        ...(config.advertise !== undefined ? { advertise: config.advertise } : {}),
        // Calls to the registered user (the registrar routes them to our Contact) reach the default agent unless routed.
        routes: { ...(config.register !== undefined ? { [config.register.user]: '' } : {}), ...pairs(config.routes, '=') },
        ...(config.allow !== undefined ? { allow: cidrMatcher(parseCidrList(config.allow)) } : {}),
        ...(Object.keys(users).length > 0 ? { digest: new DigestGuard(config.authRealm, users) } : {}),
        invitesPerSecond: config.invitesPerSecond,
        ...(timers !== undefined ? { timers } : {}),
        log,
      });
      const ports = await stack.listen(runtime);
      log.info({ host: bind, ...ports }, 'SIP listening');
      if (config.register !== undefined) {
        const registrar = parseSipUri(config.register.registrar)!;
        registration = new Registration(stack, {
          registrar,
          peer: await OutboundCall.peerOf(registrar),
          user: config.register.user,
          expiresS: config.register.expiresS,
          credentials: config.trunk,
          log,
        });
        registration.start();
      }
      return ports;
    },
    /** The registration, when `sip.register` is set (for status and tests). */
    registration: (): Registration | undefined => registration,
    stop(): void {
      registration?.stop();
      registration = undefined;
      stack?.close();
      stack = undefined;
    },
  };
}
