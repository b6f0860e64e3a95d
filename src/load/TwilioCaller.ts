import { randomBytes } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { base64Decode } from '../wire/base64.ts';
import { Caller, type CallerContext } from './Caller.ts';
import { CallRefusedError } from './daemonHttp.ts';
import type { CallResult } from './loadProtocol.ts';

/**
 * A caller as Twilio places it on a bidirectional Media Stream: a WebSocket
 * to `/twilio/media`, `connected`, then `start` (streamSid, callSid,
 * customParameters with the `agent`), µ-law in 160-byte `media` chunks every
 * 20 ms with string sequence numbers, chunk numbers and timestamps, `stop` at
 * the end. What the daemon sends is "played" in real time, 160 bytes a tick;
 * a `mark` is echoed once every byte queued before it has played, and
 * `clear` drops the queue and echoes the pending marks at once, as Twilio does.
 * @see https://www.twilio.com/docs/voice/media-streams/websocket-messages
 *
 * A daemon that is full closes the stream with 1013 (try again later), or
 * refuses the upgrade with 429/503: the call is counted as refused.
 */

const CHUNK_BYTES = 160;
const TRY_AGAIN_LATER = 1013;
const OPEN_TIMEOUT_MS = 10_000;

export function createTwilioCaller(ctx: CallerContext): Caller {
  return new TwilioCaller(ctx);
}

const sid = (prefix: string): string => prefix + randomBytes(16).toString('hex');

class TwilioCaller extends Caller {
  readonly transport = 'twilio' as const;
  protected readonly headerBytes = 0;
  readonly #streamSid = sid('MZ');
  readonly #callSid = sid('CA');
  readonly #accountSid = sid('AC');
  #ws: WebSocket | undefined;
  #seq = 0;
  /** One Buffer view per packet slot, made once, for base64 without a copy. */
  #views: Buffer[] = [];
  /** Bytes received (the returned stream's sample index: one µ-law byte a sample). */
  #rxBytes = 0;
  /** Playout, as Twilio's: bytes queued, played, and marks at the byte they follow. */
  #queuedBytes = 0;
  #playedBytes = 0;
  readonly #marks: Array<{ name: string; at: number }> = [];
  #marksEchoed = 0;
  #closed: Promise<void> = Promise.resolve();

  protected async connect(): Promise<void> {
    const url = `${this.ctx.run.baseUrl.replace(/^http/, 'ws')}/twilio/media`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.#ws = ws;
    this.#closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        if (this.counting && this.endedEarly === undefined) {
          this.endedEarly = { refused: code === TRY_AGAIN_LATER, reason: `stream closed by the daemon [code:${code}${reason.length > 0 ? `, ${reason.toString().slice(0, 80)}` : ''}]` };
        }
        resolve();
      }),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => this.#receive(data, isBinary));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Media Stream did not open in time')), OPEN_TIMEOUT_MS);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        const msg = `the upgrade was refused [status:${status}]`;
        reject(status === 429 || status === 503 ? new CallRefusedError(msg) : new Error(msg));
      });
    });
    ws.on('error', () => undefined);
    this.callId = this.#streamSid;
    this.#views = [];
    this.#send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    this.#send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: String(++this.#seq),
        start: {
          accountSid: this.#accountSid,
          streamSid: this.#streamSid,
          callSid: this.#callSid,
          tracks: ['inbound'],
          customParameters: { agent: this.ctx.run.agent },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
        streamSid: this.#streamSid,
      }),
    );
  }

  protected frame(_k: number, _buf: Uint8Array, payloadBytes: number): number {
    return payloadBytes;
  }

  protected transmit(_slot: number, buf: Uint8Array, len: number): void {
    const k = this.slotFrame[_slot]!;
    let view = this.#views[_slot];
    if (view === undefined || view.buffer !== buf.buffer) view = this.#views[_slot] = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#send(
      `{"event":"media","sequenceNumber":"${++this.#seq}","media":{"track":"inbound","chunk":"${k + 1}","timestamp":"${k * 20}","payload":"${view.toString('base64', 0, len)}"},"streamSid":"${this.#streamSid}"}`,
    );
  }

  #send(text: string): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  /** One tick of playout: 160 bytes play; marks behind them are echoed. */
  protected override onTick(): void {
    const n = this.#queuedBytes < CHUNK_BYTES ? this.#queuedBytes : CHUNK_BYTES;
    this.#queuedBytes -= n;
    this.#playedBytes += n;
    this.#echoPlayed();
  }

  #echoPlayed(): void {
    while (this.#marks.length > 0 && this.#marks[0]!.at <= this.#playedBytes) this.#echo(this.#marks.shift()!.name);
  }

  #echo(name: string): void {
    this.#marksEchoed++;
    this.#send(JSON.stringify({ event: 'mark', sequenceNumber: String(++this.#seq), streamSid: this.#streamSid, mark: { name } }));
  }

  #receive(data: RawData, isBinary: boolean): void {
    const now = this.ctx.now();
    if (isBinary) {
      this.returnedMalformed++;
      return;
    }
    let msg: { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    try {
      msg = JSON.parse(data.toString()) as typeof msg;
    } catch {
      this.returnedMalformed++;
      return;
    }
    if (typeof msg !== 'object' || msg === null || msg.streamSid !== this.#streamSid) {
      this.returnedMalformed++;
      return;
    }
    switch (msg.event) {
      case 'media': {
        const payload = msg.media?.payload;
        const n = typeof payload === 'string' ? base64Decode(payload, this.rxPayload) : -1;
        if (n <= 0) {
          this.returnedMalformed++;
          return;
        }
        const start = this.#rxBytes;
        this.#rxBytes += n;
        this.#queuedBytes += n;
        // The media time of a chunk is its place in the stream: µ-law at 8000 Hz, one byte a sample.
        this.returnedAudio(start, n, start, now);
        return;
      }
      case 'mark': {
        const name = msg.mark?.name;
        if (typeof name !== 'string') {
          this.returnedMalformed++;
          return;
        }
        this.#marks.push({ name, at: this.#playedBytes + this.#queuedBytes });
        this.#echoPlayed();
        return;
      }
      case 'clear':
        this.#queuedBytes = 0;
        for (const m of this.#marks.splice(0)) this.#echo(m.name);
        return;
      default:
        this.returnedMalformed++;
    }
  }

  protected async disconnect(): Promise<void> {
    const ws = this.#ws;
    if (ws === undefined) return;
    if (ws.readyState === WebSocket.OPEN) {
      this.#send(JSON.stringify({ event: 'stop', sequenceNumber: String(++this.#seq), streamSid: this.#streamSid, stop: { accountSid: this.#accountSid, callSid: this.#callSid } }));
      ws.close(1000);
    }
    const timer = setTimeout(() => ws.terminate(), 2000);
    await this.#closed;
    clearTimeout(timer);
  }

  protected override extraResult(): Partial<CallResult> {
    return { marksEchoed: this.#marksEchoed };
  }
}
