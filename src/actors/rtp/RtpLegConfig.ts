import type { ActorConfig } from '../../protocol.ts';
import { payloadFormat, type RtpPayloadFormat } from '../../wire/rtpPayloadTypes.ts';
import { parseSdesInline, type SrtpKeys } from '../../wire/srtpKeys.ts';
import type { SrtpProfile } from '../../wire/srtp.ts';
import { parseCidrList, type CidrBlock } from '../../wire/cidr.ts';

export const RTP_LEG_CODECS = ['PCMU', 'PCMA', 'G722', 'opus'] as const;
export type RtpLegCodec = (typeof RTP_LEG_CODECS)[number];

/** Audio rate each codec runs the call at (no resampling at the edges). */
export const CODEC_AUDIO_RATE_HZ: Readonly<Record<RtpLegCodec, number>> = { PCMU: 8000, PCMA: 8000, G722: 16000, opus: 48000 };

export interface RtpLegSrtp {
  profile: SrtpProfile;
  /** Protects what we send. */
  localKeys: SrtpKeys;
  /** Unprotects what the peer sends. */
  remoteKeys: SrtpKeys;
  srtcpTagBytes: 4 | 10;
}

export interface RtpLegConfig {
  codec: RtpLegCodec;
  format: RtpPayloadFormat;
  rateHz: number;
  /** Address to bind (both sockets). */
  host: string;
  localPort: number;
  /** The peer, or undefined with `latch`: the first source to pass probation (LatchProbation.ts) becomes the peer, for the whole call. */
  remote: { address: string; port: number } | undefined;
  /** With `latch`: the only networks the peer may be latched from (undefined: any). */
  latchCidr: CidrBlock[] | undefined;
  /** The peer's RTCP port (RTP port + 1 unless given: RFC 3550 §11). */
  remoteRtcpPort: number | undefined;
  telephoneEventPt: number;
  srtp: RtpLegSrtp | undefined;
  /** Shortest RTCP interval, seconds (RFC 3550 §6.2 allows a reduced minimum; tests shorten it). */
  rtcpMinIntervalS: number;
  cname: string;
  opusStartBps: number;
  /**
   * Opus DTX (RFC 7587 §3.1.3, the peer's `usedtx=1`): in silence libopus
   * yields 1–2 byte packets that are not sent, and the next packet starts a
   * talkspurt.
   */
  opusDtx: boolean;
  /** A peer that sends neither RTP nor RTCP this long is gone (crashed, unplugged): the leg ends the call. */
  idleTimeoutMs: number;
}

const SUITES: readonly SrtpProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

function fail(message: string): never {
  throw new RangeError(`rtp: ${message}`);
}

function num(config: ActorConfig, key: string, dflt: number, lo: number, hi: number): number {
  const v = config[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(`${key} must be a number in ${lo}–${hi} [got:${JSON.stringify(v)}]`);
  return v;
}

/** "host:port" or "latch"; the host must already be an address (the transport resolves names). */
export function parseRemote(remote: unknown): { address: string; port: number } | undefined {
  if (remote === 'latch') return undefined;
  if (typeof remote !== 'string') fail(`remote must be "host:port" or "latch" [got:${JSON.stringify(remote)}]`);
  const m = HOST_PORT.exec(remote);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 1 && port <= 65535)) fail(`remote must be "host:port" with a port 1–65535 [got:${JSON.stringify(remote)}]`);
  return { address: m[1] ?? m[2]!, port };
}

function parseSrtp(v: unknown): RtpLegSrtp | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) fail('srtp must be an object { suite?, localKey, remoteKey? }');
  const o = v as Record<string, unknown>;
  const suite = o['suite'] ?? 'AES_CM_128_HMAC_SHA1_80';
  if (!SUITES.includes(suite as SrtpProfile)) fail(`srtp.suite must be one of ${SUITES.join(', ')} [got:${JSON.stringify(suite)}]`);
  const key = (name: string, value: unknown): SrtpKeys => {
    if (typeof value !== 'string') fail(`srtp.${name} must be an "inline:<base64>" key [got:${JSON.stringify(value)}]`);
    try {
      return parseSdesInline(value);
    } catch (err) {
      fail(`srtp.${name}: ${(err as Error).message}`);
    }
  };
  const localKeys = key('localKey', o['localKey']);
  const remoteKeys = o['remoteKey'] === undefined ? localKeys : key('remoteKey', o['remoteKey']);
  const tag = o['srtcpTagBytes'] ?? 10;
  if (tag !== 4 && tag !== 10) fail(`srtp.srtcpTagBytes must be 4 or 10 [got:${JSON.stringify(tag)}]`);
  return { profile: suite as SrtpProfile, localKeys, remoteKeys, srtcpTagBytes: tag };
}

export function parseRtpLegConfig(config: ActorConfig): RtpLegConfig {
  const codec = config['codec'];
  if (typeof codec !== 'string' || !(RTP_LEG_CODECS as readonly string[]).includes(codec)) {
    fail(`codec must be one of ${RTP_LEG_CODECS.join(', ')} [got:${JSON.stringify(codec)}]`);
  }
  const c = codec as RtpLegCodec;
  const pt = config['payloadType'];
  if (pt !== undefined && c !== 'opus') fail(`payloadType is fixed for ${c} (RFC 3551)`);
  let format: RtpPayloadFormat;
  try {
    format = payloadFormat(c, typeof pt === 'number' ? pt : undefined);
  } catch (err) {
    fail((err as Error).message);
  }
  const host = config['host'] ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) fail('host must be an address');
  const localPort = num(config, 'localPort', -1, 0, 65534);
  if (localPort % 2 !== 0) fail(`localPort must be even (RTCP takes the odd port above it) [got:${localPort}]`);
  const remote = parseRemote(config['remote']);
  const rtcpPort = config['remoteRtcpPort'];
  const cname = config['cname'] ?? `switchboard@${host}`;
  const opusDtx = config['opusDtx'] ?? false;
  if (typeof opusDtx !== 'boolean') fail(`opusDtx must be true or false [got:${JSON.stringify(opusDtx)}]`);
  if (opusDtx && c !== 'opus') fail(`opusDtx is for opus only [codec:${c}]`);
  let latchCidr: CidrBlock[] | undefined;
  try {
    latchCidr = config['latchCidr'] === undefined ? undefined : parseCidrList(config['latchCidr']);
  } catch (err) {
    fail(`latchCidr: ${(err as Error).message}`);
  }
  if (typeof cname !== 'string' || cname.length === 0 || cname.length > 255) fail('cname must be 1–255 characters');
  return {
    codec: c,
    format,
    rateHz: CODEC_AUDIO_RATE_HZ[c],
    host,
    localPort,
    remote,
    latchCidr,
    remoteRtcpPort: rtcpPort === undefined ? undefined : num(config, 'remoteRtcpPort', 0, 1, 65535),
    telephoneEventPt: num(config, 'telephoneEventPt', 101, 96, 127),
    srtp: parseSrtp(config['srtp']),
    rtcpMinIntervalS: num(config, 'rtcpMinIntervalS', 5, 0.05, 60),
    cname,
    opusStartBps: num(config, 'opusStartBps', 32_000, 6_000, 128_000),
    opusDtx,
    idleTimeoutMs: num(config, 'idleTimeoutMs', 60_000, 100, 3_600_000),
  };
}
