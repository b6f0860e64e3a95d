import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isRtcp, parseRtpInto, RtpPacketView, RtpParse } from '../wire/rtp.ts';
import { Caller, type CallerContext } from './Caller.ts';
import { CallRefusedError, daemonRequest, errorText } from './daemonHttp.ts';

/**
 * A caller on an RTP leg: `POST /v1/calls {transport: "rtp", remote, codec,
 * agent}` names this caller's UDP socket as the remote; RTP (RFC 3550 §5.1,
 * payload types and clocks of RFC 3551 and RFC 7587) goes to the returned
 * local port from that one socket, and the daemon's RTP comes back to it.
 * `DELETE /v1/calls/:id` hangs up.
 *
 * What comes back is checked as a peer would: anything from another port
 * than the call's, and RTCP, is stray; a packet that does not parse, or of
 * another payload type, is malformed (counted, never thrown). Sequence
 * numbers give duplicates and reordering.
 */

export const CODEC_NAME = { pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722', opus: 'opus' } as const;
/** Sequence numbers remembered for duplicate detection. */
const SEEN_WINDOW = 1024;

export function createRtpCaller(ctx: CallerContext): Caller {
  return new RtpCaller(ctx);
}

export class RtpCaller extends Caller {
  readonly transport: 'rtp' | 'sip' = 'rtp';
  protected readonly headerBytes = 12;
  #socket: Socket | undefined;
  #daemonPort = 0;
  readonly #ssrc: number;
  readonly #seq0: number;
  readonly #ts0: number;
  readonly #view = new RtpPacketView();
  /** Returned stream: first timestamp, highest extended sequence number, and which of the last SEEN_WINDOW arrived. */
  #rxTs0 = -1;
  #rxMaxSeq = -1;
  readonly #seen = new Uint8Array(SEEN_WINDOW);
  readonly #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => this.#receive(msg, rinfo);

  constructor(ctx: CallerContext) {
    super(ctx);
    this.#ssrc = this.prng.u32();
    this.#seq0 = this.prng.u32() & 0xffff;
    this.#ts0 = this.prng.u32();
  }

  protected async connect(): Promise<void> {
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('error', () => undefined);
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const call = await this.setUp(socket.address().port);
    this.callId = call.callId;
    this.#daemonPort = call.daemonPort;
    socket.on('message', this.#onMessage);
  }

  /** Makes the call whose RTP goes to `rtpPort`: here over the HTTP API; the SIP caller overrides it. */
  protected async setUp(rtpPort: number): Promise<{ callId: string; daemonPort: number }> {
    const { run } = this.ctx;
    const res = await daemonRequest(run.baseUrl, 'POST', '/v1/calls', {
      ...(run.token !== undefined ? { token: run.token } : {}),
      body: { transport: 'rtp', remote: `127.0.0.1:${rtpPort}`, codec: CODEC_NAME[run.codec], agent: run.agent },
    });
    if (res.status === 503) throw new CallRefusedError(errorText(res));
    const body = res.json as { id?: unknown; rtp?: { localPort?: unknown } } | null;
    if (res.status !== 201 || typeof body?.id !== 'string' || typeof body.rtp?.localPort !== 'number') {
      throw new Error(`the daemon did not create the call [${errorText(res)}]`);
    }
    return { callId: body.id, daemonPort: body.rtp.localPort };
  }

  /** Hangs the call up (the daemon had not ended it). */
  protected async hangUp(): Promise<void> {
    const { run } = this.ctx;
    const res = await daemonRequest(run.baseUrl, 'DELETE', `/v1/calls/${this.callId}`, run.token !== undefined ? { token: run.token } : {});
    if (res.status !== 204 && res.status !== 404) throw new Error(`hang-up failed [${errorText(res)}]`);
  }

  protected frame(k: number, buf: Uint8Array, payloadBytes: number): number {
    const seq = (this.#seq0 + k) & 0xffff;
    const ts = (this.#ts0 + k * this.codec.tsPerFrame) >>> 0;
    buf[0] = 0x80; // V=2, no padding, extension or CSRCs
    // The first packet of the stream is marked (RFC 3551 §4.1: the start of a talkspurt).
    buf[1] = (k === 0 ? 0x80 : 0) | this.codec.format.payloadType;
    buf[2] = seq >>> 8;
    buf[3] = seq & 0xff;
    buf[4] = ts >>> 24;
    buf[5] = (ts >>> 16) & 0xff;
    buf[6] = (ts >>> 8) & 0xff;
    buf[7] = ts & 0xff;
    buf[8] = this.#ssrc >>> 24;
    buf[9] = (this.#ssrc >>> 16) & 0xff;
    buf[10] = (this.#ssrc >>> 8) & 0xff;
    buf[11] = this.#ssrc & 0xff;
    return 12 + payloadBytes;
  }

  protected transmit(_slot: number, buf: Uint8Array, len: number): void {
    this.#socket?.send(buf, 0, len, this.#daemonPort, '127.0.0.1');
  }

  #receive(msg: Buffer, rinfo: RemoteInfo): void {
    const now = this.ctx.now();
    if (rinfo.port !== this.#daemonPort || isRtcp(msg)) {
      this.returnedStray++;
      return;
    }
    const v = this.#view;
    if (parseRtpInto(msg, msg.length, v) !== RtpParse.OK || v.payloadType !== this.codec.format.payloadType || v.payloadLength > this.rxPayload.length) {
      this.returnedMalformed++;
      return;
    }
    // Extended sequence number (RFC 3550 A.1): the 16-bit number nearest the highest so far.
    let ext = v.sequenceNumber;
    if (this.#rxMaxSeq >= 0) {
      const base = this.#rxMaxSeq - (this.#rxMaxSeq & 0xffff);
      ext = base + v.sequenceNumber;
      if (ext - this.#rxMaxSeq > 0x8000) ext -= 0x10000;
      else if (this.#rxMaxSeq - ext > 0x8000) ext += 0x10000;
      if (ext < 0 || this.#rxMaxSeq - ext >= SEEN_WINDOW) {
        this.returnedOutOfOrder++;
        return;
      }
      if (ext <= this.#rxMaxSeq) {
        if (this.#seen[ext % SEEN_WINDOW] === 1) {
          this.returnedDuplicates++;
          return;
        }
        this.returnedOutOfOrder++;
      } else {
        for (let s = this.#rxMaxSeq + 1; s < ext && s <= this.#rxMaxSeq + SEEN_WINDOW; s++) this.#seen[s % SEEN_WINDOW] = 0;
      }
    }
    if (ext > this.#rxMaxSeq) this.#rxMaxSeq = ext;
    this.#seen[ext % SEEN_WINDOW] = 1;
    if (this.#rxTs0 < 0) this.#rxTs0 = v.timestamp;
    const tsDelta = (v.timestamp - this.#rxTs0) | 0;
    const len = v.payloadLength;
    for (let i = 0; i < len; i++) this.rxPayload[i] = msg[v.payloadOffset + i]!;
    const startSample = tsDelta < 0 ? -1 : (tsDelta * this.codec.frameSamples) / this.codec.tsPerFrame;
    this.returnedAudio(startSample, len, tsDelta, now);
  }

  protected async disconnect(): Promise<void> {
    const socket = this.#socket;
    try {
      if (this.callId !== null && this.endedEarly === undefined) await this.hangUp();
    } finally {
      if (socket !== undefined) {
        socket.off('message', this.#onMessage);
        socket.close();
      }
    }
  }
}
