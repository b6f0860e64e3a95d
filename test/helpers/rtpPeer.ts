import { vi } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { parseRtp, serializeRtp, type RtpPacket } from '../../src/wire/rtp.ts';

export { setTimeout as sleep } from 'node:timers/promises';

/** Waits (vitest's waitFor, every 5 ms) until `cond` holds; fails naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!cond()) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 5 },
  );
}

function bind(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** A pair of sockets on an even port and the next one, as a real RTP peer has. */
export async function bindPair(): Promise<{ rtp: Socket; rtcp: Socket; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await bind(0);
    const p = probe.address().port;
    probe.close();
    const port = p % 2 === 0 ? p : p + 1;
    if (port > 65534) continue;
    try {
      const rtp = await bind(port);
      try {
        return { rtp, rtcp: await bind(port + 1), port };
      } catch {
        rtp.close();
      }
    } catch {
      // taken meanwhile: try another
    }
  }
  throw new Error('no free UDP port pair');
}

/** A test peer: sends RTP to the leg from a fixed pair and records what comes back. */
export class TestPeer {
  readonly received: RtpPacket[] = [];
  readonly rtcpReceived: Uint8Array[] = [];
  constructor(
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly port: number,
  ) {
    rtp.on('message', (m) => {
      try {
        this.received.push(parseRtp(new Uint8Array(m)));
      } catch {
        // not RTP: ignored
      }
    });
    rtcp.on('message', (m) => this.rtcpReceived.push(new Uint8Array(m)));
  }

  static async create(): Promise<TestPeer> {
    const { rtp, rtcp, port } = await bindPair();
    return new TestPeer(rtp, rtcp, port);
  }

  send(bytes: Uint8Array, toPort: number, socket: Socket = this.rtp): void {
    socket.send(bytes, toPort, '127.0.0.1');
  }

  sendRtp(p: Partial<RtpPacket> & { payload: Uint8Array }, toPort: number): void {
    this.send(
      serializeRtp({ marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0x1234, csrc: [], paddingLength: 0, ...p }),
      toPort,
    );
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

/**
 * Alignment that follows a jitter buffer's time-stretching: each segment of
 * `ref` (of `segment` samples, skipping near-silent ones) is aligned on its
 * own within 0…maxLag, and the result is the energy-weighted mean of the
 * segments' normalized cross-correlations.
 */
export function segmentedCorrelation(ref: Int16Array, got: Int16Array, segment: number, maxLag: number, step = 1): number {
  let energy = 0;
  for (let i = 0; i < ref.length; i++) energy += ref[i]! * ref[i]!;
  const floor = (0.05 * energy * segment) / ref.length;
  let sum = 0;
  let weight = 0;
  for (let at = 0; at + segment <= ref.length; at += segment) {
    const seg = ref.subarray(at, at + segment);
    let e = 0;
    for (let i = 0; i < seg.length; i++) e += seg[i]! * seg[i]!;
    if (e < floor) continue;
    const best = coarseBest(seg, got, at, maxLag, step);
    sum += e * best;
    weight += e;
  }
  return weight > 0 ? sum / weight : 0;
}

function coarseBest(seg: Int16Array, got: Int16Array, at: number, maxLag: number, step: number): number {
  const nccAt = (lag: number): number => {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < seg.length; i += step) {
      const x = seg[i]!;
      const y = got[at + lag + i] ?? 0;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
  };
  let bestLag = 0;
  let best = -1;
  for (let lag = 0; lag <= maxLag; lag += step) {
    const c = nccAt(lag);
    if (c > best) [best, bestLag] = [c, lag];
  }
  if (step === 1) return best;
  // Refine around the coarse peak at full resolution.
  const saved = step;
  step = 1;
  for (let lag = Math.max(0, bestLag - saved); lag <= bestLag + saved; lag++) best = Math.max(best, nccAt(lag));
  return best;
}
