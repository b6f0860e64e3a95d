import { spawn, spawnSync } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { bindPair } from './rtpPeer.ts';

/** True when an ffmpeg that speaks RTP is on PATH. */
export function haveFfmpeg(): boolean {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-protocols'], { encoding: 'utf8' });
  return r.status === 0 && /\brtp\b/.test(r.stdout);
}

export function haveFfmpegSrtp(): boolean {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-protocols'], { encoding: 'utf8' });
  return r.status === 0 && /\bsrtp\b/.test(r.stdout);
}

/** Runs ffmpeg to completion; rejects with its stderr when it fails. */
export function runFfmpeg(args: string[], timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${code}: ${err.slice(0, 2000)} [args:${args.join(' ')}]`));
    });
  });
}

/**
 * A transparent UDP relay between two ffmpeg processes and the leg: one
 * ffmpeg sends, another receives, but the leg talks to one peer address
 * only. The relay's `legSide` pair is that peer; what ffmpeg sends to
 * `inPort` (RTP) and `inPort + 1` (RTCP) goes to the leg from there, and
 * what the leg sends there goes to `outPort` and `outPort + 1`, where the
 * receiving ffmpeg listens. Datagrams pass byte for byte.
 */
export class RtpRelay {
  /** The leg's RTP port; known once the call exists, which needs the relay's address first. */
  legPort = 0;

  constructor(
    readonly inPair: { rtp: Socket; rtcp: Socket; port: number },
    readonly legSide: { rtp: Socket; rtcp: Socket; port: number },
    readonly outPort: number,
  ) {}

  static async create(outPort: number): Promise<RtpRelay> {
    const inPair = await bindPair();
    const legSide = await bindPair();
    const relay = new RtpRelay(inPair, legSide, outPort);
    inPair.rtp.on('message', (m) => relay.legPort !== 0 && legSide.rtp.send(m, relay.legPort, '127.0.0.1'));
    inPair.rtcp.on('message', (m) => relay.legPort !== 0 && legSide.rtcp.send(m, relay.legPort + 1, '127.0.0.1'));
    legSide.rtp.on('message', (m) => inPair.rtp.send(m, outPort, '127.0.0.1'));
    legSide.rtcp.on('message', (m) => inPair.rtcp.send(m, outPort + 1, '127.0.0.1'));
    return relay;
  }

  close(): void {
    for (const s of [this.inPair.rtp, this.inPair.rtcp, this.legSide.rtp, this.legSide.rtcp]) s.close();
  }
}

/** A port pair that was free a moment ago (for ffmpeg to bind). */
export async function freePair(): Promise<number> {
  const p = await bindPair();
  p.rtp.close();
  p.rtcp.close();
  return p.port;
}

export interface SdpMedia {
  port: number;
  payloadType: number;
  rtpmap: string;
  crypto?: string;
}

export function sdp(m: SdpMedia): string {
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=switchboard interop',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${m.port} ${m.crypto ? 'RTP/SAVP' : 'RTP/AVP'} ${m.payloadType}`,
    `a=rtpmap:${m.payloadType} ${m.rtpmap}`,
    ...(m.crypto ? [`a=crypto:1 ${m.crypto}`] : []),
    '',
  ].join('\n');
}
