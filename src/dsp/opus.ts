import { isMainThread } from 'node:worker_threads';
import { createRequire } from 'node:module';
import {
  MAX_FRAME_SAMPLES,
  MAX_PACKET_BYTES,
  OPUS_APPLICATION_VOIP,
  OPUS_BAD_ARG,
  OPUS_BUFFER_TOO_SMALL,
  OPUS_INTERNAL_ERROR,
  OPUS_INVALID_PACKET,
  OPUS_INVALID_STATE,
  OpusCtl,
  type OpusWasm,
  opusErrorText,
  opusWasm,
} from './opusWasm.ts';

/**
 * Opus (RFC 6716) for one mono voice stream in 20 ms frames, through libopus
 * from `@evan/opus`.
 *
 * Decoding always runs in the WebAssembly build through our own binding
 * (opusWasm.ts): normal decoding, concealment and FEC recovery must advance
 * one decoder state, and only the direct binding reaches `opus_decode`'s
 * concealment (`data == NULL`) and FEC (`decode_fec`) modes. Encoding has no
 * such need, so it uses the package's native build where one loads (it encodes
 * about 1.8× faster) and the WebAssembly build otherwise, or when
 * `OPUS_FORCE_WASM` is set (the package's own switch).
 *
 * Per-frame calls (`encode`, `decode`, `conceal`, `decodeFec`) allocate
 * nothing and never throw: they return a count, or a negative libopus error
 * code (`OPUS_*` below), and count the failure on the codec.
 */

export {
  OPUS_BAD_ARG,
  OPUS_BUFFER_TOO_SMALL,
  OPUS_INTERNAL_ERROR,
  OPUS_INVALID_PACKET,
  OPUS_INVALID_STATE,
  MAX_PACKET_BYTES,
  opusErrorText,
};

/** Rates libopus encodes and decodes natively (RFC 6716 §2). */
export const OPUS_RATES_HZ: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** The engine's frame duration. */
export const OPUS_FRAME_MS = 20;

export type OpusBackend = 'native' | 'wasm';

export interface OpusEncoderOptions {
  rateHz: number;
  /** Target bitrate; libopus chooses one from the rate when omitted. */
  bitrateBps?: number;
  /** 0–10; libopus's default (9) when omitted. */
  complexity?: number;
  /** In-band FEC (LBRR): each packet carries a low-rate copy of the previous frame. */
  fec?: boolean;
  /** Discontinuous transmission: in silence, a 1–2 byte packet every 400 ms or less. */
  dtx?: boolean;
  /** Expected loss; libopus spends FEC bits only when this is above 0. */
  packetLossPct?: number;
  /** Overrides the automatic choice (tests and benchmarks compare both). */
  backend?: OpusBackend;
}

/** The native addon's classes, below the package's JavaScript subclasses. */
interface NativeEncoder {
  ctl(request: number, value?: number): number;
  /** Encodes one frame into the binding's shared output buffer; returns bytes, throws on error. */
  encode(pcm: Int16Array): number;
}
interface NativeDecoder {
  ctl(request: number, value?: number): number;
  decode(packet: Uint8Array): number;
}
interface NativeBinding {
  Encoder: new (opts: { channels: number; sample_rate: number; application: string }) => NativeEncoder;
  Decoder: new (opts: { channels: number; sample_rate: number }) => NativeDecoder;
  buffers: { encoder(): Uint8Array; decoder(): Uint8Array };
}

export interface NativeOpus {
  Encoder: NativeBinding['Encoder'];
  Decoder: NativeBinding['Decoder'];
  /** Where every native encoder writes its packet. */
  encoderOut: Uint8Array;
  /** Where every native decoder writes its PCM (bytes of s16). */
  decoderOut: Uint8Array;
}

let native: { binding: NativeOpus | undefined; reason: string } | undefined;

/** Walks up to the addon's own class: the package's JS wrapper may have subclassed it in place. */
function baseClass<T extends abstract new (...args: never[]) => unknown>(cls: T): T {
  let c = cls;
  while (!Object.hasOwn(c.prototype as object, 'ctl')) c = Object.getPrototypeOf(c) as T;
  return c;
}

/** The package's native addon for this platform, or why there is none. */
export function loadNativeOpus(): { binding: NativeOpus | undefined; reason: string } {
  if (native !== undefined) return native;
  const file = `${process.arch}-${process.platform}.node`;
  try {
    const b = createRequire(import.meta.url)(`@evan/opus/node/${file}`) as NativeBinding;
    native = {
      binding: {
        Encoder: baseClass(b.Encoder),
        Decoder: baseClass(b.Decoder),
        encoderOut: b.buffers.encoder(),
        decoderOut: b.buffers.decoder(),
      },
      reason: `native libopus addon (${file}) loaded`,
    };
  } catch (err) {
    native = { binding: undefined, reason: `no native libopus addon (${file}): ${(err as Error).message}` };
  }
  return native;
}

/** The encoder backend used when none is asked for, and why. */
export function opusEncoderBackend(): { backend: OpusBackend; reason: string } {
  if (process.env['OPUS_FORCE_WASM']) return { backend: 'wasm', reason: 'OPUS_FORCE_WASM is set' };
  // The native addon's encoder takes the whole process down when a worker
  // thread that holds one exits (seen on supervisor stop and restarts), so
  // workers, where the legs run, use the WebAssembly build.
  if (!isMainThread) return { backend: 'wasm', reason: 'worker thread: the native addon is not safe across worker exits' };
  const { binding, reason } = loadNativeOpus();
  return binding === undefined
    ? { backend: 'wasm', reason }
    : { backend: 'native', reason: `${reason}; it encodes faster than the WebAssembly build` };
}

function checkRate(rateHz: number): number {
  if (!OPUS_RATES_HZ.includes(rateHz)) {
    throw new RangeError(`unsupported Opus rate [rateHz:${rateHz}]: use one of ${OPUS_RATES_HZ.join(', ')}`);
  }
  return (rateHz * OPUS_FRAME_MS) / 1000;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : Math.round(v);
}

/** Frees the WebAssembly state of a codec its owner forgot to destroy. */
const leaked = new FinalizationRegistry<number>((ptr) => opusWasm().exports.free(ptr));

export class OpusEncoder {
  readonly rateHz: number;
  /** Samples in the one frame `encode` takes (20 ms). */
  readonly frameSamples: number;
  readonly backend: OpusBackend;
  /** Encoder delay at `rateHz` (an Ogg Opus pre-skip, scaled to 48 kHz). */
  readonly lookaheadSamples: number;
  /** Frames that failed to encode (wrong length, or a libopus error). */
  errors = 0;

  #native: NativeEncoder | undefined;
  #nativeOut: Uint8Array | undefined;
  readonly #wasm: OpusWasm;
  #state = 0;
  #destroyed = false;

  constructor(opts: OpusEncoderOptions) {
    this.frameSamples = checkRate(opts.rateHz);
    this.rateHz = opts.rateHz;
    this.#wasm = opusWasm();
    this.backend = opts.backend ?? opusEncoderBackend().backend;
    if (this.backend === 'native') {
      const { binding, reason } = loadNativeOpus();
      if (binding === undefined) throw new Error(`native Opus encoder unavailable: ${reason}`);
      this.#native = new binding.Encoder({ channels: 1, sample_rate: opts.rateHz, application: 'voip' });
      this.#nativeOut = binding.encoderOut;
    } else {
      const ex = this.#wasm.exports;
      const st = ex.malloc(ex.opus_encoder_get_size(1));
      if (st === 0) throw new Error('libopus: cannot allocate an encoder');
      const rc = ex.opus_encoder_init(st, opts.rateHz, 1, OPUS_APPLICATION_VOIP);
      if (rc < 0) {
        ex.free(st);
        throw new Error(`libopus: opus_encoder_init failed [code:${rc}, ${opusErrorText(rc)}]`);
      }
      this.#state = st;
      leaked.register(this, st, this);
    }
    if (opts.bitrateBps !== undefined) this.setBitrate(opts.bitrateBps);
    if (opts.complexity !== undefined) this.setComplexity(opts.complexity);
    if (opts.fec !== undefined) this.setFec(opts.fec);
    if (opts.dtx !== undefined) this.setDtx(opts.dtx);
    if (opts.packetLossPct !== undefined) this.setPacketLossPct(opts.packetLossPct);
    this.lookaheadSamples = this.#get(OpusCtl.getLookahead);
  }

  /**
   * Encodes one 20 ms frame into `out`; returns the packet's length in bytes
   * (1–2 during DTX silence), or a negative `OPUS_*` code: OPUS_BAD_ARG for a
   * frame of the wrong length, OPUS_BUFFER_TOO_SMALL when `out` cannot hold
   * the packet, OPUS_INVALID_STATE after destroy().
   */
  encode(pcm: Int16Array, out: Uint8Array): number {
    if (this.#destroyed) return OPUS_INVALID_STATE;
    if (pcm.length !== this.frameSamples) {
      this.errors++;
      return OPUS_BAD_ARG;
    }
    if (this.#native !== undefined) return this.#encodeNative(this.#native, pcm, out);
    const w = this.#wasm;
    const view = w.view;
    view.refresh();
    view.i16.set(pcm, w.pcmPtr >> 1);
    const max = out.length < MAX_PACKET_BYTES ? out.length : MAX_PACKET_BYTES;
    const n = w.exports.opus_encode(this.#state, w.pcmPtr, this.frameSamples, w.packetPtr, max);
    if (n < 0) {
      this.errors++;
      return n;
    }
    view.refresh();
    const u8 = view.u8;
    const from = w.packetPtr;
    for (let i = 0; i < n; i++) out[i] = u8[from + i]!;
    return n;
  }

  #encodeNative(enc: NativeEncoder, pcm: Int16Array, out: Uint8Array): number {
    let n: number;
    try {
      n = enc.encode(pcm);
    } catch {
      // The addon throws where libopus returns a code; the frame is lost either way.
      this.errors++;
      return OPUS_INTERNAL_ERROR;
    }
    if (n > out.length) {
      this.errors++;
      return OPUS_BUFFER_TOO_SMALL;
    }
    const src = this.#nativeOut!;
    for (let i = 0; i < n; i++) out[i] = src[i]!;
    return n;
  }

  /** Target bitrate, clamped to libopus's 500–512000 bit/s. */
  setBitrate(bps: number): void {
    this.#set(OpusCtl.setBitrate, clamp(bps, 500, 512_000));
  }

  setComplexity(complexity: number): void {
    this.#set(OpusCtl.setComplexity, clamp(complexity, 0, 10));
  }

  /** Expected packet loss (0–100 %); with FEC on, higher values spend more bits on LBRR. */
  setPacketLossPct(pct: number): void {
    this.#set(OpusCtl.setPacketLossPct, clamp(pct, 0, 100));
  }

  setFec(on: boolean): void {
    this.#set(OpusCtl.setInbandFec, on ? 1 : 0);
  }

  setDtx(on: boolean): void {
    this.#set(OpusCtl.setDtx, on ? 1 : 0);
  }

  get bitrateBps(): number {
    return this.#get(OpusCtl.getBitrate);
  }

  get complexity(): number {
    return this.#get(OpusCtl.getComplexity);
  }

  get packetLossPct(): number {
    return this.#get(OpusCtl.getPacketLossPct);
  }

  get fec(): boolean {
    return this.#get(OpusCtl.getInbandFec) !== 0;
  }

  get dtx(): boolean {
    return this.#get(OpusCtl.getDtx) !== 0;
  }

  /** Safe to call more than once. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#native = undefined;
    if (this.#state !== 0) {
      leaked.unregister(this);
      this.#wasm.exports.free(this.#state);
      this.#state = 0;
    }
  }

  #set(request: number, value: number): void {
    if (this.#destroyed) return;
    // Values are clamped to what libopus accepts, so neither backend fails here.
    if (this.#native !== undefined) this.#native.ctl(request, value);
    else this.#wasm.exports.opus_encoder_ctl_set(this.#state, request, value);
  }

  #get(request: number): number {
    if (this.#destroyed) return 0;
    if (this.#native !== undefined) return this.#native.ctl(request);
    return this.#wasm.exports.opus_encoder_ctl_get(this.#state, request);
  }
}

/** What a decoder has seen; fields only grow. */
export interface OpusDecoderCounters {
  /** Packets decoded. */
  decoded: number;
  /** Packets rejected: empty, larger than MAX_PACKET_BYTES, or refused by libopus. */
  corrupt: number;
  /** Frames synthesized by concealment (including FEC calls that fell back to it). */
  concealed: number;
  /** Frames recovered through `decodeFec` from the next packet. */
  fec: number;
}

export class OpusDecoder {
  readonly rateHz: number;
  /** Samples in one 20 ms frame: what `conceal` and `decodeFec` produce. */
  readonly frameSamples: number;
  readonly counters: OpusDecoderCounters = { decoded: 0, corrupt: 0, concealed: 0, fec: 0 };

  readonly #wasm: OpusWasm;
  #state = 0;

  constructor(opts: { rateHz: number }) {
    this.frameSamples = checkRate(opts.rateHz);
    this.rateHz = opts.rateHz;
    this.#wasm = opusWasm();
    const ex = this.#wasm.exports;
    const st = ex.malloc(ex.opus_decoder_get_size(1));
    if (st === 0) throw new Error('libopus: cannot allocate a decoder');
    // A mono decoder also decodes stereo packets (libopus downmixes them).
    const rc = ex.opus_decoder_init(st, opts.rateHz, 1);
    if (rc < 0) {
      ex.free(st);
      throw new Error(`libopus: opus_decoder_init failed [code:${rc}, ${opusErrorText(rc)}]`);
    }
    this.#state = st;
    leaked.register(this, st, this);
  }

  /**
   * Decodes one packet into `out`; returns the samples written (the packet's
   * duration, 2.5–120 ms), or a negative `OPUS_*` code for a packet that is
   * empty, oversized or corrupt (OPUS_INVALID_PACKET), too long for `out`
   * (OPUS_BUFFER_TOO_SMALL), or after destroy() (OPUS_INVALID_STATE).
   * On a failure the caller conceals the frame.
   */
  decode(packet: Uint8Array, out: Int16Array): number {
    if (this.#state === 0) return OPUS_INVALID_STATE;
    const len = packet.length;
    // RFC 6716 §3.4 [R1]: a packet has at least one byte; libopus would read
    // an empty one as a loss and conceal 120 ms.
    if (len === 0 || len > MAX_PACKET_BYTES) {
      this.counters.corrupt++;
      return OPUS_INVALID_PACKET;
    }
    const w = this.#wasm;
    w.view.refresh();
    w.view.u8.set(packet, w.packetPtr);
    const cap = out.length < MAX_FRAME_SAMPLES ? out.length : MAX_FRAME_SAMPLES;
    const n = w.exports.opus_decode(this.#state, w.packetPtr, len, w.pcmPtr, cap, 0);
    if (n < 0) {
      this.counters.corrupt++;
      return n;
    }
    this.counters.decoded++;
    return this.#copyOut(n, out);
  }

  /**
   * 20 ms of packet-loss concealment continuing the audio decoded so far
   * (libopus extrapolates the last pitch period and fades it out over a
   * long loss). Returns frameSamples, or a negative `OPUS_*` code.
   */
  conceal(out: Int16Array): number {
    if (this.#state === 0) return OPUS_INVALID_STATE;
    if (out.length < this.frameSamples) return OPUS_BUFFER_TOO_SMALL;
    const w = this.#wasm;
    const n = w.exports.opus_decode(this.#state, 0, 0, w.pcmPtr, this.frameSamples, 0);
    if (n < 0) return n;
    this.counters.concealed++;
    return this.#copyOut(n, out);
  }

  /**
   * The 20 ms frame lost just before `nextPacket`, rebuilt from the in-band
   * FEC (LBRR) data `nextPacket` carries (RFC 6716 §4.2.4); libopus conceals
   * instead when it has none. Decode `nextPacket` itself afterwards. A corrupt
   * `nextPacket` is counted and the frame concealed. Returns frameSamples, or
   * a negative `OPUS_*` code.
   */
  decodeFec(nextPacket: Uint8Array, out: Int16Array): number {
    if (this.#state === 0) return OPUS_INVALID_STATE;
    if (out.length < this.frameSamples) return OPUS_BUFFER_TOO_SMALL;
    const len = nextPacket.length;
    if (len === 0 || len > MAX_PACKET_BYTES) {
      this.counters.corrupt++;
      return this.conceal(out);
    }
    const w = this.#wasm;
    w.view.refresh();
    w.view.u8.set(nextPacket, w.packetPtr);
    const n = w.exports.opus_decode(this.#state, w.packetPtr, len, w.pcmPtr, this.frameSamples, 1);
    if (n < 0) {
      this.counters.corrupt++;
      return this.conceal(out);
    }
    this.counters.fec++;
    return this.#copyOut(n, out);
  }

  /** Forgets the stream's history (a new talk spurt from another source). */
  reset(): void {
    if (this.#state !== 0) this.#wasm.exports.opus_decoder_ctl_set(this.#state, OpusCtl.resetState, 0);
  }

  /** Safe to call more than once. */
  destroy(): void {
    if (this.#state === 0) return;
    leaked.unregister(this);
    this.#wasm.exports.free(this.#state);
    this.#state = 0;
  }

  #copyOut(n: number, out: Int16Array): number {
    const w = this.#wasm;
    w.view.refresh();
    const i16 = w.view.i16;
    const from = w.pcmPtr >> 1;
    for (let i = 0; i < n; i++) out[i] = i16[from + i]!;
    return n;
  }
}
