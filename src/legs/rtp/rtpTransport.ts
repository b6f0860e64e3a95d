import { quote } from '../../wire/text.ts';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ActorConfig } from '../../protocol.ts';
import { RTP_LEG_CODECS, CODEC_AUDIO_RATE_HZ, type RtpLegCodec } from '../../actors/rtp/RtpLegConfig.ts';
import { agentActorConfig, type AgentSettings } from '../../supervisor/agentConfig.ts';
import { PortAllocator } from './PortAllocator.ts';
import { reservePair } from './portProbe.ts';
import { RequestError, type CallRequest } from '../../supervisor/Runtime.ts';
import { isRangeError, type CallSetup, type Transport, type TransportContext } from '../../calls/transports.ts';
import { legCall } from '../../calls/CallGraph.ts';
import { cidrListProblem } from '../../wire/cidr.ts';

/** Call request keys passed to the leg as they are (it validates them: a RangeError is a 422). */
const LEG_KEYS = ['srtp', 'payloadType', 'remoteRtcpPort', 'telephoneEventPt', 'opusDtx'] as const;

/**
 * The RTP transport, and for a signalling transport that must name its port
 * before it knows the peer's media (an outbound SIP offer): `reserve` a pair,
 * then `createOnPair` the call on it once the answer is in (the pair is
 * released when the call ends, or by the caller if it never is made).
 */
export interface RtpTransport extends Transport {
  readonly ports: PortAllocator;
  /** The address the legs bind. */
  readonly host: string;
  reserve(): Promise<number>;
  createOnPair(req: CallRequest, ctx: TransportContext, localPort: number): Promise<CallSetup>;
}

export interface RtpTransportOptions {
  portMin: number;
  portMax: number;
  /** Address the legs bind (default 127.0.0.1). */
  host?: string;
  /** The agents calls can name, and the default. */
  agents?: AgentSettings;
  /** A call whose peer sends neither RTP nor RTCP this long ends (default 60 s). */
  idleTimeoutMs?: number;
  /** Shortest RTCP interval for every leg, seconds (RFC 3550's 5 s by default; tests shorten it). */
  rtcpMinIntervalS?: number;
  /** `rtp.latchCidr`: the networks a `latch` call's peer may come from (a call may give its own); any when unset. */
  latchCidr?: string | readonly string[] | undefined;
  /** How long a port pair held by another process stays aside before it is tried again (PortAllocator's default). */
  heldRecheckMs?: number;
}

/** The call's `latchCidr`, else the configured one for a latch; a 422 for bad blocks or blocks on a fixed remote. */
function latchCidrOf(req: CallRequest, remote: string, configured: RtpTransportOptions['latchCidr']): unknown {
  const asked = req['latchCidr'];
  if (asked === undefined) return remote === 'latch' ? configured : undefined;
  if (remote !== 'latch') throw new RequestError(422, 'latchCidr: only for remote "latch" (a given remote is the only source heard)');
  const problem = cidrListProblem(asked);
  if (problem !== undefined) throw new RequestError(422, `latchCidr: ${problem}`);
  return asked;
}

/** `host:port` with the host resolved to an address once, at call set-up (never per packet). */
async function resolveRemote(remote: unknown): Promise<string> {
  if (remote === 'latch') return remote;
  if (typeof remote !== 'string') throw new RequestError(422, 'remote: expected "host:port" or "latch"');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(remote);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 1 && port <= 65535)) throw new RequestError(422, `remote: expected "host:port" with a port 1–65535, got ${quote(remote)}`);
  const host = m[1] ?? m[2]!;
  if (isIP(host) !== 0) return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const { address, family } = await lookup(host);
    return `${family === 6 ? `[${address}]` : address}:${port}`;
  } catch (err) {
    throw new RequestError(422, `remote: cannot resolve ${quote(host)} [${(err as Error).message}]`);
  }
}

/**
 * The `rtp` call transport (POST /v1/calls {transport:"rtp", remote, codec,
 * agent?, srtp?, payloadType?, latchCidr?, opusDtx?}): takes an even/odd
 * port pair that binds (reservePair: pairs other processes hold are
 * skipped; none left is a 503 with Retry-After), then builds
 * the call's chain at the codec's rate — jitter/PLC (its `in` fed by the
 * leg) → agent (its `in` is the jitter actor's `out`) → RTP leg (sends the
 * agent's `out`) — and answers `{ rtp: { localPort } }`. The pair goes back
 * to the allocator when the call ends.
 */
export function rtpTransport(opts: RtpTransportOptions): RtpTransport {
  const ports = new PortAllocator(opts.portMin, opts.portMax, opts.heldRecheckMs !== undefined ? { recheckMs: opts.heldRecheckMs } : {});
  const host = opts.host ?? '127.0.0.1';
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  const place = async (req: CallRequest, ctx: TransportContext, reserved: number | undefined): Promise<CallSetup> => {
    const codec = req['codec'];
    if (typeof codec !== 'string' || !(RTP_LEG_CODECS as readonly string[]).includes(codec)) {
      throw new RequestError(422, `codec: expected one of ${RTP_LEG_CODECS.join(', ')}, got ${quote(codec)}`);
    }
    const rateHz = CODEC_AUDIO_RATE_HZ[codec as RtpLegCodec];
    const agentConfig = agentActorConfig(req['agent'], rateHz, codec === 'PCMU', opts.agents ?? { defaultAgent: 'echo' });
    const agent = agentConfig['agent'];
    const remote = await resolveRemote(req['remote']);
    const latchCidr = latchCidrOf(req, remote, opts.latchCidr);
    // The pair first: a full range costs the call nothing else.
    let localPort = reserved ?? (await reservePair(ports, host));
    try {
      const config: ActorConfig = { codec, remote, host, idleTimeoutMs: idleMs };
      for (const key of LEG_KEYS) if (req[key] !== undefined) config[key] = req[key];
      if (latchCidr !== undefined) config['latchCidr'] = latchCidr as ActorConfig[string];
      if (opts.rtcpMinIntervalS !== undefined) config['rtcpMinIntervalS'] = opts.rtcpMinIntervalS;
      for (;;) {
        const graph = legCall({ kind: 'rtp', config: { ...config, localPort } }, { codec, rateHz }, agentConfig, { packets: true });
        try {
          await ctx.build(graph);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (!message.includes('cannot bind')) throw err;
          if (!message.includes('EADDRINUSE') || reserved !== undefined) throw new RequestError(503, message);
          // Taken by another process since the probe: set it aside like any held pair, take the next.
          ports.setAside(localPort);
          localPort = await reservePair(ports, host);
          continue;
        }
        const port = localPort;
        // The leg ends the call itself (RTCP BYE, or nothing from the peer for idleMs): its `peer.ended` event.
        return { answer: { rtp: { localPort: port, address: host }, codec, agent }, release: () => void ports.release(port) };
      }
    } catch (err) {
      ports.release(localPort);
      if (isRangeError(err)) throw new RequestError(422, err.message);
      throw err;
    }
  };
  return {
    name: 'rtp',
    ports,
    host,
    create: (req, ctx) => place(req, ctx, undefined),
    reserve: () => reservePair(ports, host),
    createOnPair: (req, ctx, localPort) => place(req, ctx, localPort),
  };
}
