import { GapTracker } from './GapTracker.ts';
import { burstRatio, mosFromR, rFactor, type EModelCodec } from '../qos/emodel.ts';
import { createCallerCodec, type CallerCodec } from './callerCodec.ts';
import { Impairments } from './impairments.ts';
import { LatencyAligner } from './LatencyAligner.ts';
import type { CallResult, ThreadRun } from './loadProtocol.ts';
import { Prng } from './prng.ts';
import type { TransportName } from './transports.ts';

/**
 * One synthetic caller, whatever its leg: speaks its speech source frame by
 * frame on its thread's clock, puts each frame through the impairments on
 * the way in, and measures what comes back. A leg (RtpCaller, TwilioCaller)
 * sets the call up, writes and sends a frame's packet, and hands each
 * returned payload to `returnedAudio`.
 *
 * Per frame (`tick`) and per returned packet nothing is allocated by this
 * code: packets are built in a ring of buffers, one per frame a packet may
 * wait for its release (jitter, reordering), and decoded into one PCM buffer.
 */

export interface ThreadSpeech {
  rateHz: number;
  /** The source cut into 20 ms frames (views, made once per thread). */
  frames: readonly Int16Array[];
  /** Its envelope for alignment (LatencyAligner.sourceEnvelope). */
  envelope: Float32Array;
}

export interface CallerContext {
  index: number;
  seed: number;
  run: ThreadRun;
  speech: ThreadSpeech;
  /** Epoch ms, sub-millisecond (performance.timeOrigin + performance.now()). */
  now(): number;
}

const EMODEL_CODEC: Readonly<Record<string, EModelCodec>> = { pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722', opus: 'opus' };
const FRAME_MS = 20;
const RX_LEAD_FRAMES = 1000;
/** After its last frame a caller keeps listening this long before it hangs up: the packets of its last frames are still on their way. */
const TAIL_MS = 300;


export abstract class Caller {
  abstract readonly transport: TransportName;
  /** Bytes before the payload in a packet buffer (the RTP header). */
  protected abstract readonly headerBytes: number;
  readonly index: number;
  readonly totalFrames: number;
  protected readonly ctx: CallerContext;
  protected readonly codec: CallerCodec;
  protected readonly prng: Prng;
  callId: string | null = null;
  /** Set when the daemon ends or refuses the call before the caller is done. */
  endedEarly: { refused: boolean; reason: string } | undefined;

  readonly #impairments: Impairments;
  readonly #aligner: LatencyAligner | undefined;
  readonly #baseFrame: number;
  #slots = 0;
  #bufs: Uint8Array[] = [];
  #payloads: Uint8Array[] = [];
  #len = new Int32Array(0);
  #release = new Float64Array(0);
  #dup = new Uint8Array(0);
  #queued = 0;
  readonly #pcm: Int16Array;
  protected readonly rxPayload: Uint8Array;
  /** The frame a slot holds. */
  protected slotFrame = new Int32Array(0);

  #counting = false;
  #startedAtMs = 0;
  #setupMs = 0;
  #firstTickMs = 0;
  #lastTickMs = 0;
  framesSent = 0;
  #lost = 0;
  #duplicated = 0;
  #reordered = 0;
  #overruns = 0;
  returnExpected = 0;
  /** Returned frames while the caller spoke, counted at the end (#countReturned). */
  returned = 0;
  /** Returned packets so far while the caller speaks: the progress line's live figure. */
  receivedLive = 0;
  protected returnedDuplicates = 0;
  protected returnedOutOfOrder = 0;
  protected returnedMalformed = 0;
  protected returnedStray = 0;
  #decodeErrors = 0;
  /**
   * Which frames of the returned stream arrived (by its own clock: timestamp or chunk number),
   * and the earliest arrival less its media time: the stream's clock against ours.
   */
  readonly #rxFrames: Uint8Array;
  #rxAnchorMs = Infinity;
  #jitterUnits = 0;
  #lastTransit = Number.NaN;
  readonly #gaps = new GapTracker(FRAME_MS);

  constructor(ctx: CallerContext) {
    this.ctx = ctx;
    this.index = ctx.index;
    this.prng = new Prng(ctx.seed);
    this.codec = createCallerCodec(ctx.run.codec);
    this.totalFrames = Math.round((ctx.run.durationS * 1000) / FRAME_MS);
    // The daemon's stream starts at the call's creation, before the caller's first frame: room for 20 s of that.
    this.#rxFrames = new Uint8Array(this.totalFrames + RX_LEAD_FRAMES);
    this.#impairments = new Impairments(ctx.run.impairments, ctx.seed ^ 0x5bd1e995, FRAME_MS);
    this.#baseFrame = Math.floor(this.prng.next() * ctx.speech.frames.length);
    this.#aligner = ctx.run.agent === 'loopback' ? new LatencyAligner(this.codec.rateHz, this.codec.frameSamples, ctx.speech.envelope, this.#baseFrame) : undefined;
    this.#pcm = new Int16Array(Math.max(this.codec.frameSamples * 6, 5760));
    // A payload longer than the codec's 20 ms frame is not what the daemon sends: counted as malformed.
    this.rxPayload = new Uint8Array(this.codec.maxPayloadBytes);
  }

  /** Sets the call up; throws CallRefusedError when the daemon refuses it (503), another Error when it fails. */
  async open(): Promise<void> {
    this.#startedAtMs = this.ctx.now();
    // A packet waits at most the jitter plus a reordering hold: one buffer per frame of that, and two spare.
    const { jitterMs, reorderPct } = this.ctx.run.impairments;
    this.#slots = Math.ceil((jitterMs + (reorderPct > 0 ? FRAME_MS + jitterMs + 1 : 0)) / FRAME_MS) + 2;
    const size = this.headerBytes + this.codec.maxPayloadBytes;
    this.#bufs = Array.from({ length: this.#slots }, () => new Uint8Array(size));
    this.#payloads = this.#bufs.map((b) => b.subarray(this.headerBytes));
    this.#len = new Int32Array(this.#slots);
    this.#release = new Float64Array(this.#slots).fill(-1);
    this.#dup = new Uint8Array(this.#slots);
    this.slotFrame = new Int32Array(this.#slots);
    await this.connect();
    this.#setupMs = this.ctx.now() - this.#startedAtMs;
  }

  protected abstract connect(): Promise<void>;
  /** Writes what precedes the payload of frame `k` into `buf` (header); returns the packet's full length. */
  protected abstract frame(k: number, buf: Uint8Array, payloadBytes: number): number;
  /** Puts the packet in slot `slot` (`buf[0, len)`) on the wire. */
  protected abstract transmit(slot: number, buf: Uint8Array, len: number): void;
  /** Hangs up and releases the leg's sockets. */
  protected abstract disconnect(): Promise<void>;
  /** Each 20 ms while running (a Twilio caller plays what it received and echoes marks). */
  protected onTick(_nowMs: number): void {}

  /** Frame `k` is due now: encode it, impair it, send it or queue it for release. */
  tick(k: number, now: number): void {
    if (k === 0) {
      this.#counting = true;
      this.#firstTickMs = now;
    }
    this.#lastTickMs = now;
    this.framesSent++;
    this.returnExpected++;
    this.#aligner?.sent(k, now);
    const slot = k % this.#slots;
    if (this.#release[slot]! >= 0) {
      // Still held: the ring was sized for the longest wait, so this is a late clock; send it now.
      this.#overruns++;
      this.#send(slot);
    }
    const frames = this.ctx.speech.frames;
    const n = this.codec.encode(frames[(this.#baseFrame + k) % frames.length]!, this.#payloads[slot]!);
    const len = this.frame(k, this.#bufs[slot]!, n);
    this.slotFrame[slot] = k;
    this.#len[slot] = len;
    const release = this.#impairments.decide(now);
    this.onTick(now);
    if (release < 0) {
      this.#lost++;
      return;
    }
    if (this.#impairments.reordered) this.#reordered++;
    this.#dup[slot] = this.#impairments.duplicate ? 1 : 0;
    if (this.#impairments.duplicate) this.#duplicated++;
    this.#release[slot] = release;
    if (release <= now) this.#send(slot);
    else this.#queued++;
  }

  /** Whether packets wait for release (the thread then wakes each millisecond). */
  get hasQueued(): boolean {
    return this.#queued > 0;
  }

  /** Sends every held packet whose release time has come (the thread calls this each millisecond while any is held). */
  releaseDue(now: number): void {
    if (this.#queued === 0) return;
    for (let i = 0; i < this.#slots; i++) {
      const r = this.#release[i]!;
      if (r >= 0 && r <= now) {
        this.#queued--;
        this.#send(i);
      }
    }
  }

  #send(slot: number): void {
    const buf = this.#bufs[slot]!;
    const len = this.#len[slot]!;
    this.#release[slot] = -1;
    this.transmit(slot, buf, len);
    if (this.#dup[slot] === 1) this.transmit(slot, buf, len);
  }

  /**
   * A returned payload (`rxPayload[0, len)`), first sample `startSample` of
   * the returned stream, media time `mediaUnits` in RTP clock units, arrived at `atMs`.
   */
  protected returnedAudio(startSample: number, len: number, mediaUnits: number, atMs: number): void {
    if (this.#counting) {
      this.receivedLive++;
      this.#gaps.arrived(atMs);
    }
    if (startSample >= 0) {
      const j = Math.floor(startSample / this.codec.frameSamples);
      if (j < this.#rxFrames.length) this.#rxFrames[j] = 1;
      const anchor = atMs - j * FRAME_MS;
      if (anchor < this.#rxAnchorMs) this.#rxAnchorMs = anchor;
    }
    const n = this.codec.decode(this.rxPayload, len, this.#pcm);
    if (n <= 0) {
      this.#decodeErrors++;
      return;
    }
    // RFC 3550 §6.4.1: J += (|D(i−1, i)| − J)/16, D from the transit times in timestamp units.
    const transit = (atMs * this.codec.format.clockRateHz) / 1000 - mediaUnits;
    if (!Number.isNaN(this.#lastTransit)) this.#jitterUnits += (Math.abs(transit - this.#lastTransit) - this.#jitterUnits) / 16;
    this.#lastTransit = transit;
    if (startSample >= 0) this.#aligner?.returned(startSample, this.#pcm, n, atMs);
  }

  /** The caller has said everything: send what is held, listen a moment longer, hang up. */
  async finish(): Promise<void> {
    for (let i = 0; i < this.#slots; i++) if (this.#release[i]! >= 0) this.#send(i);
    this.#queued = 0;
    if (this.#counting && this.endedEarly === undefined) await new Promise((r) => setTimeout(r, TAIL_MS + this.ctx.run.impairments.jitterMs));
    this.#counting = false;
    this.#countReturned();
    try {
      await this.disconnect();
    } finally {
      this.codec.destroy();
    }
  }

  /**
   * Returned frames while the caller spoke: those of the returned stream whose media time —
   * its clock anchored at its least-delayed packet — falls between the caller's first and last
   * frames. By the stream's own clock, not by arrival, so a late tick's bunched packets count
   * where they belong, and a frame the daemon never sent is missing.
   */
  #countReturned(): void {
    if (this.framesSent === 0 || this.#rxAnchorMs === Infinity) return;
    const from = Math.max(0, Math.round((this.#firstTickMs - this.#rxAnchorMs) / FRAME_MS));
    const to = Math.min(this.#rxFrames.length, from + this.returnExpected);
    let n = 0;
    for (let j = from; j < to; j++) n += this.#rxFrames[j]!;
    this.returned = n;
  }

  /** Releases what a caller that never started holds. */
  abandon(): void {
    this.codec.destroy();
  }

  get counting(): boolean {
    return this.#counting;
  }

  /** The call's figures; `outcome` and `error` as the thread decided. */
  result(outcome: CallResult['outcome'], error?: string): { result: CallResult; latencyBins: Uint32Array } {
    const h = this.#aligner?.histogram;
    const latency =
      h !== undefined && h.count > 0
        ? { count: h.count, p50Ms: h.quantile(0.5)!, p95Ms: h.quantile(0.95)!, p99Ms: h.quantile(0.99)!, maxMs: h.maxMs, meanMs: h.meanMs()! }
        : null;
    const returnedPct = this.returnExpected > 0 ? (100 * Math.min(this.returned, this.returnExpected)) / this.returnExpected : 0;
    const lossIn = this.framesSent > 0 ? this.#lost / this.framesSent : 0;
    const lossPct = 100 * (1 - (1 - lossIn) * (returnedPct / 100));
    const { burstPackets } = this.ctx.run.impairments;
    let r: number | null = null;
    if (outcome === 'completed' && this.returnExpected > 0) {
      r = rFactor({
        // The round trip as the one-way delay: conservative, and what a caller hears of its own voice through loopback.
        oneWayDelayMs: latency?.meanMs ?? 0,
        lossPct,
        burstRatio: burstPackets === undefined ? 1 : burstRatio(lossIn, burstPackets),
        codec: EMODEL_CODEC[this.ctx.run.codec]!,
      });
    }
    const result: CallResult = {
      index: this.index,
      transport: this.transport,
      callId: this.callId,
      outcome,
      ...(error !== undefined ? { error } : {}),
      startedAtMs: this.#startedAtMs,
      setupMs: this.#setupMs,
      durationMs: this.framesSent > 0 ? this.#lastTickMs - this.#firstTickMs + FRAME_MS : 0,
      framesSent: this.framesSent,
      packetsLost: this.#lost,
      packetsDuplicated: this.#duplicated,
      packetsReordered: this.#reordered,
      returnExpected: this.returnExpected,
      returned: this.returned,
      returnedPct,
      returnedDuplicates: this.returnedDuplicates,
      returnedOutOfOrder: this.returnedOutOfOrder,
      returnedMalformed: this.returnedMalformed,
      returnedStray: this.returnedStray,
      decodeErrors: this.#decodeErrors,
      jitterMs: !Number.isNaN(this.#lastTransit) ? (this.#jitterUnits * 1000) / this.codec.format.clockRateHz : null,
      latency,
      alignedWindows: this.#aligner?.alignedWindows ?? 0,
      unalignedWindows: this.#aligner?.unalignedWindows ?? 0,
      longestGapMs: this.#gaps.longestMs,
      longestGapEndedAtMs: this.#gaps.longestEndedAtMs,
      gaps: this.#gaps.gaps(),
      rFactor: r,
      mos: r === null ? null : mosFromR(r),
      ...this.extraResult(),
    };
    return { result, latencyBins: h?.bins ?? new Uint32Array(0) };
  }

  protected extraResult(): Partial<CallResult> {
    return {};
  }

  /** Send-side overruns (a packet still held when its buffer was needed): a late clock. */
  get overruns(): number {
    return this.#overruns;
  }
}
