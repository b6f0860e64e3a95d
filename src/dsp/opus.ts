import {
  MAX_PACKET_BYTES,
  OPUS_APPLICATION_VOIP,
  OPUS_BAD_ARG,
  OPUS_BUFFER_TOO_SMALL,
  OPUS_INTERNAL_ERROR,
  OPUS_INVALID_STATE,
  OpusCtl,
  type OpusWasm,
  opusErrorText,
  opusWasm,
} from './opusWasm.ts';
import { loadNativeOpus, opusEncoderBackend, type NativeEncoder, type OpusBackend } from './opusNative.ts';
import { checkRate } from './opusShared.ts';
import { KernelMemory } from './KernelMemory.ts';

/**
 * Opus (RFC 6716) for one mono voice stream in 20 ms frames, through libopus
 * from `@evan/opus`.
 *
 * Decoding always runs in the WebAssembly build through our own binding
 * (opusWasm.ts): normal decoding, concealment and FEC recovery must advance
 * one decoder state, and only the direct binding reaches `opus_decode`'s
 * concealment (`data == NULL`) and FEC (`decode_fec`) modes. Encoding has no
 * such need, so it uses the package's native build where one loads (it encodes
 * about 1.7× faster) and the WebAssembly build otherwise, or when
 * `OPUS_FORCE_WASM` is set (the package's own switch). On worker threads each
 * thread opens its own copy of the addon, kept mapped (opusNative.ts says why).
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
} from './opusWasm.ts';

export { OPUS_FRAME_MS, OPUS_RATES_HZ } from './opusShared.ts';
export { loadNativeOpus, opusEncoderBackend, type NativeOpus, type OpusBackend } from './opusNative.ts';
export { OpusDecoder, type OpusDecoderCounters } from './OpusDecoder.ts';

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

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : Math.round(v);
}

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
  /** The WebAssembly encoder's state (none on the native backend); freed by destroy() or once collected. */
  readonly #memory: KernelMemory;
  #destroyed = false;

  constructor(opts: OpusEncoderOptions) {
    this.frameSamples = checkRate(opts.rateHz);
    this.rateHz = opts.rateHz;
    this.#wasm = opusWasm();
    this.#memory = new KernelMemory(this.#wasm.core, 'OpusEncoder', this);
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
      this.#memory.adopt(st, (ptr) => ex.free(ptr));
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
    const { exports, pcm: from, packet } = this.#wasm;
    from.write(pcm);
    const max = out.length < MAX_PACKET_BYTES ? out.length : MAX_PACKET_BYTES;
    const n = exports.opus_encode(this.#memory.state, from.ptr, this.frameSamples, packet.ptr, max);
    if (n < 0) {
      this.errors++;
      return n;
    }
    return packet.read(out, n);
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
    this.#memory.dispose();
  }

  #set(request: number, value: number): void {
    if (this.#destroyed) return;
    // Values are clamped to what libopus accepts, so neither backend fails here.
    if (this.#native !== undefined) this.#native.ctl(request, value);
    else this.#wasm.exports.opus_encoder_ctl_set(this.#memory.state, request, value);
  }

  #get(request: number): number {
    if (this.#destroyed) return 0;
    if (this.#native !== undefined) return this.#native.ctl(request);
    return this.#wasm.exports.opus_encoder_ctl_get(this.#memory.state, request);
  }
}
