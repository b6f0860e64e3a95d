import { randomBytes } from 'node:crypto';
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { RtpLegCodec } from '../../actors/rtp/RtpLegConfig.ts';
import { parseSdesInline, sdesInline } from '../../wire/srtpKeys.ts';

/**
 * SDP offer/answer for a SIP call's one audio stream (RFC 3264), read and
 * written with sdp-transform. The answer takes the offer's first codec the
 * RTP leg speaks (§6.1: the offerer's preference order), telephone-event
 * (RFC 4733) at the codec's clock when offered, ptime 20, and mirrors the
 * direction (§6.1: sendonly → recvonly, inactive → inactive). `RTP/SAVP`
 * with `a=crypto` (RFC 4568 §6.1) gets a crypto line of ours with a fresh key.
 */

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MediaChoice {
  codec: RtpLegCodec;
  /** The payload type the peer gave it (fixed for the static codecs). */
  payloadType: number;
  telephoneEventPt: number | undefined;
  /** `address:port` the peer receives RTP on. */
  remote: string;
  /** The peer's direction as offered or answered. */
  direction: Direction;
  /** SDES keys (RFC 4568): ours and the peer's, when the stream is RTP/SAVP. */
  srtp: { suite: string; tag: number; localKey: string; remoteKey: string } | undefined;
}

const STATIC: Readonly<Record<number, RtpLegCodec>> = { 0: 'PCMU', 8: 'PCMA', 9: 'G722' };
const BY_NAME: Readonly<Record<string, RtpLegCodec>> = { pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722', opus: 'opus' };
/** The RTP clock of each codec as SDP states it (G.722 keeps 8000: RFC 3551 §4.5.2). */
const CLOCK: Readonly<Record<RtpLegCodec, number>> = { PCMU: 8000, PCMA: 8000, G722: 8000, opus: 48000 };
const SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];
const OPUS_PT = 111;
const EVENT_PT = 101;

/** Why an offer or answer cannot be taken (a 488, or a failed call). */
export class SdpError extends Error {
  override name = 'SdpError';
}

function audioOf(sdp: SessionDescription): MediaDescription {
  const audio = sdp.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (audio === undefined) throw new SdpError('no audio stream offered');
  return audio;
}

function codecOf(m: MediaDescription, pt: number): RtpLegCodec | undefined {
  const rtp = m.rtp.find((r) => r.payload === pt);
  if (rtp !== undefined) return BY_NAME[rtp.codec.toLowerCase()];
  return STATIC[pt];
}

/** Reads an offer (inbound INVITE) or an answer (our INVITE's 200) into the call's media; throws SdpError. */
export function readSdp(text: string, srtpOffered?: MediaChoice['srtp']): MediaChoice {
  let sdp: SessionDescription;
  try {
    sdp = parse(text);
  } catch (err) {
    throw new SdpError(`SDP does not parse [${(err as Error).message}]`);
  }
  const m = audioOf(sdp);
  const address = m.connection?.ip ?? sdp.connection?.ip;
  // sdp-transform types what it read by its grammar, not by what was there: check the shapes used here.
  if (typeof address !== 'string' || !(m.port > 0 && m.port < 65536)) throw new SdpError('the audio stream has no address or port');
  if (typeof m.protocol !== 'string') throw new SdpError('the audio stream has no transport protocol');
  if (!m.rtp.every((r) => typeof r.codec === 'string') || !(m.crypto ?? []).every((c) => typeof c.suite === 'string' && typeof c.config === 'string')) {
    throw new SdpError('an a=rtpmap or a=crypto line does not parse');
  }
  const pts = String(m.payloads ?? '').split(' ').map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n < 128);
  let codec: RtpLegCodec | undefined;
  let payloadType = -1;
  for (const pt of pts) {
    codec = codecOf(m, pt);
    if (codec !== undefined) {
      payloadType = pt;
      break;
    }
  }
  if (codec === undefined) throw new SdpError(`no codec in common [offered:${pts.join(' ')}; ours: PCMU PCMA G722 opus]`);
  const event = m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === CLOCK[codec]);
  const direction = (m.direction ?? sdp.direction ?? 'sendrecv') as Direction;
  let srtp: MediaChoice['srtp'];
  if (m.protocol.toUpperCase() === 'RTP/SAVP') {
    const crypto = m.crypto?.find((c) => SUITES.includes(c.suite) && (srtpOffered === undefined || c.suite === srtpOffered.suite));
    if (crypto === undefined) throw new SdpError('RTP/SAVP without an AES_CM_128 crypto line');
    try {
      parseSdesInline(crypto.config);
    } catch (err) {
      throw new SdpError(`a=crypto: ${(err as Error).message}`);
    }
    const localKey = srtpOffered?.localKey ?? sdesInline({ masterKey: randomBytes(16), masterSalt: randomBytes(14) });
    srtp = { suite: crypto.suite, tag: crypto.id, localKey, remoteKey: crypto.config.split('|')[0]! };
  } else if (srtpOffered !== undefined) {
    throw new SdpError('the answer dropped SRTP');
  }
  const host = address.includes(':') ? `[${address}]` : address;
  return { codec, payloadType, telephoneEventPt: event?.payload, remote: `${host}:${m.port}`, direction, srtp };
}

const MIRROR: Readonly<Record<Direction, Direction>> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

function session(address: string, version: number, sessionId: number): SessionDescription {
  const ipVer = address.includes(':') ? 6 : 4;
  return {
    version: 0,
    origin: { username: 'switchboard', sessionId, sessionVersion: version, netType: 'IN', ipVer, address },
    name: '-',
    connection: { version: ipVer, ip: address },
    timing: { start: 0, stop: 0 },
    media: [],
  };
}

function rtpmap(codec: RtpLegCodec, pt: number): MediaDescription['rtp'][number] {
  if (codec === 'opus') return { payload: pt, codec: 'opus', rate: 48000, encoding: 2 };
  return { payload: pt, codec: codec, rate: CLOCK[codec] };
}

/** Our answer: the chosen codec (and telephone-event) at our port, the direction mirrored. */
export function writeAnswer(choice: MediaChoice, address: string, port: number, sessionId: number, version: number): string {
  const sdp = session(address, version, sessionId);
  const pts = [choice.payloadType, ...(choice.telephoneEventPt !== undefined ? [choice.telephoneEventPt] : [])];
  const rtp = [rtpmap(choice.codec, choice.payloadType)];
  if (choice.telephoneEventPt !== undefined) rtp.push({ payload: choice.telephoneEventPt, codec: 'telephone-event', rate: CLOCK[choice.codec] });
  sdp.media.push({
    type: 'audio',
    port,
    protocol: choice.srtp !== undefined ? 'RTP/SAVP' : 'RTP/AVP',
    payloads: pts.join(' '),
    rtp,
    fmtp: choice.telephoneEventPt !== undefined ? [{ payload: choice.telephoneEventPt, config: '0-16' }] : [],
    ptime: 20,
    direction: MIRROR[choice.direction],
    ...(choice.srtp !== undefined ? { crypto: [{ id: choice.srtp.tag, suite: choice.srtp.suite, config: choice.srtp.localKey }] } : {}),
  });
  return write(sdp);
}

/** Our offer (an outbound INVITE): PCMU, PCMA, G722, opus and telephone-event at 8 kHz. */
export function writeOffer(address: string, port: number, sessionId: number): string {
  const sdp = session(address, 1, sessionId);
  sdp.media.push({
    type: 'audio',
    port,
    protocol: 'RTP/AVP',
    payloads: `0 8 9 ${OPUS_PT} ${EVENT_PT}`,
    rtp: [rtpmap('PCMU', 0), rtpmap('PCMA', 8), rtpmap('G722', 9), rtpmap('opus', OPUS_PT), { payload: EVENT_PT, codec: 'telephone-event', rate: 8000 }],
    fmtp: [{ payload: EVENT_PT, config: '0-16' }],
    ptime: 20,
    direction: 'sendrecv',
  });
  return write(sdp);
}

/**
 * The RTP transport's request fields for the chosen media (the leg validates
 * them). The leg latches its peer (symmetric RTP, RFC 4961) from the SDP's
 * address or the signalling's source only: a peer behind NAT, or one that
 * binds its SIP to loopback but writes its interface address into SDP,
 * sends from an address its SDP does not name, and anyone else is refused.
 */
export function rtpRequestOf(choice: MediaChoice, signallingFrom: string): Record<string, unknown> {
  const sdpHost = choice.remote.slice(0, choice.remote.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const blocks = [...new Set([sdpHost, signallingFrom])].map((a) => `${a}/${a.includes(':') ? 128 : 32}`);
  const req: Record<string, unknown> = { codec: choice.codec, remote: 'latch', latchCidr: blocks.join(',') };
  if (choice.codec === 'opus') req['payloadType'] = choice.payloadType;
  if (choice.telephoneEventPt !== undefined && choice.telephoneEventPt >= 96) req['telephoneEventPt'] = choice.telephoneEventPt;
  if (choice.srtp !== undefined) {
    // RFC 4568 §6.2.1–2: both suites tag SRTCP with 80 bits.
    req['srtp'] = { suite: choice.srtp.suite, localKey: choice.srtp.localKey, remoteKey: choice.srtp.remoteKey, srtcpTagBytes: 10 };
  }
  return req;
}
