import { ulawEncode } from '../../src/dsp/g711.ts';
import { epochMs } from '../../src/frames/epochClock.ts';
import { serializeRtcpCompound } from '../../src/wire/rtcp.ts';
import { ntpFromUnixMs } from '../../src/wire/rtpStats.ts';
import { TestPeer } from './rtpPeer.ts';

const CLOCK = 8000;
const FRAME = 160;

/** One 20 ms PCMU frame of a 200 Hz voice-like tone (four whole periods, so frames join seamlessly). */
function tonePayload(): Uint8Array {
  const pcm = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) {
    const t = i / CLOCK;
    pcm[i] = Math.round(6000 * Math.sin(2 * Math.PI * 200 * t) + 3000 * Math.sin(2 * Math.PI * 400 * t));
  }
  const out = new Uint8Array(FRAME);
  ulawEncode(pcm, out);
  return out;
}

export interface ScaledClockOptions {
  /** How fast its clock runs against the true (our) clock, ppm. */
  ppm: number;
  /** Its wallclock's lead over ours, ms (the NTP time its SRs carry). */
  aheadMs: number;
  /** Extra one-way delay, ms: every packet and SR leaves this long after it was taken. */
  delayMs: number;
  /** An SR every this many ms of its clock. */
  srEveryMs: number;
  ssrc: number;
  rtpBase: number;
  /** The sample it takes at its own sample index `n` (8 kHz, from its start); without it, a steady voice-like tone. */
  pcm?: (n: number) => number;
}

/**
 * An RTP peer whose clock runs `ppm` fast and `aheadMs` ahead: it takes
 * 20 ms of audio per 20 ms of its own time and sends RTP with SRs (RFC 3550
 * §6.4.1, NTP and RTP timestamps of the same instant of its clock), `delayMs`
 * late. It knows the true instant each RTP timestamp was taken at, so a test
 * can check what the engine made of its stream.
 */
export class ScaledClockPeer {
  readonly peer: TestPeer;
  readonly o: ScaledClockOptions;
  #t0 = 0;
  #timer: NodeJS.Timeout | undefined;
  #k = 0;
  #sr = 0;
  readonly #payload = tonePayload();
  readonly #frame = new Int16Array(FRAME);
  readonly #encoded = new Uint8Array(FRAME);

  private constructor(peer: TestPeer, o: ScaledClockOptions) {
    this.peer = peer;
    this.o = o;
  }

  static async create(o: ScaledClockOptions): Promise<ScaledClockPeer> {
    return new ScaledClockPeer(await TestPeer.create(), o);
  }

  get port(): number {
    return this.peer.port;
  }

  /** Its clock (ms since start) at true epoch time `trueMs`. */
  #own(trueMs: number): number {
    return (trueMs - this.#t0) * (1 + this.o.ppm / 1e6);
  }

  /** Its own sample index (8 kHz, from its start, fractional) of the sample taken at true epoch time `trueMs`. */
  ownSampleAt(trueMs: number): number {
    return (this.#own(trueMs) * CLOCK) / 1000;
  }

  /** The true epoch time at which the sample stamped `rtpTimestamp` was taken. */
  takenAtMs(rtpTimestamp: number): number {
    const ownMs = ((((rtpTimestamp >>> 0) - this.o.rtpBase) | 0) / CLOCK) * 1000;
    return this.#t0 + ownMs / (1 + this.o.ppm / 1e6);
  }

  /** Starts sending to the leg's RTP port (and RTCP to the next) from true time `t0Ms`. */
  start(toPort: number, t0Ms: number): void {
    this.#t0 = t0Ms;
    const step = (): void => {
      const now = epochMs();
      // Packets taken by now (own time k·20 ms) that have spent their delay on the way.
      for (;;) {
        const takenAt = this.#t0 + (this.#k * 20) / (1 + this.o.ppm / 1e6);
        if (takenAt + this.o.delayMs > now) break;
        const k = this.#k++;
        this.peer.sendRtp(
          { payloadType: 0, sequenceNumber: (1000 + k) & 0xffff, timestamp: (this.o.rtpBase + k * FRAME) >>> 0, ssrc: this.o.ssrc, marker: k === 0, payload: this.#payloadOf(k) },
          toPort,
        );
      }
      for (;;) {
        const ownMs = (this.#sr + 1) * this.o.srEveryMs;
        const takenAt = this.#t0 + ownMs / (1 + this.o.ppm / 1e6);
        if (takenAt + this.o.delayMs > now) break;
        this.#sr++;
        const ntp = ntpFromUnixMs(this.#t0 + this.o.aheadMs + this.#own(takenAt));
        const sr = serializeRtcpCompound([
          {
            type: 'sr',
            ssrc: this.o.ssrc,
            ntpSeconds: ntp.seconds,
            ntpFraction: ntp.fraction,
            rtpTimestamp: (this.o.rtpBase + Math.round((ownMs * CLOCK) / 1000)) >>> 0,
            packetCount: this.#k,
            octetCount: this.#k * FRAME,
            reports: [],
          },
          { type: 'sdes', chunks: [{ ssrc: this.o.ssrc, items: [{ type: 1, text: `peer-${this.o.ssrc}` }] }] },
        ]);
        this.peer.send(sr, toPort + 1, this.peer.rtcp);
      }
      this.#timer = setTimeout(step, 2);
    };
    step();
  }

  #payloadOf(k: number): Uint8Array {
    const pcm = this.o.pcm;
    if (pcm === undefined) return this.#payload;
    for (let i = 0; i < FRAME; i++) this.#frame[i] = pcm(k * FRAME + i);
    ulawEncode(this.#frame, this.#encoded);
    return this.#encoded;
  }

  /** Sends one raw RTCP datagram from its RTCP port (hostile-input tests). */
  sendRtcp(bytes: Uint8Array, toPort: number): void {
    this.peer.send(bytes, toPort + 1, this.peer.rtcp);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.peer.close();
  }
}
