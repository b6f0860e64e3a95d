/**
 * The Opus decoder (opus.ts describes the codec and its contract): always the
 * WebAssembly build, the only one whose binding reaches libopus's concealment
 * and FEC modes on the one decoder state.
 */

import {
  MAX_FRAME_SAMPLES,
  MAX_PACKET_BYTES,
  OPUS_BUFFER_TOO_SMALL,
  OPUS_INVALID_PACKET,
  OPUS_INVALID_STATE,
  OpusCtl,
  opusErrorText,
  opusWasm,
} from './opusWasm.ts';
import type { OpusWasm } from './opusWasm.ts';
import { checkRate, leaked } from './opusShared.ts';

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
