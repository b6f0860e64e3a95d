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
import { checkRate } from './opusShared.ts';
import { KernelMemory } from './KernelMemory.ts';

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
  readonly #memory: KernelMemory;

  /** Allocates the decoder's state; one dropped without destroy() is freed once collected (KernelMemory). */
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
    this.#memory = new KernelMemory(this.#wasm.core, 'OpusDecoder', this);
    this.#memory.adopt(st, (ptr) => ex.free(ptr));
  }

  /**
   * Decodes one packet into `out`; returns the samples written (the packet's
   * duration, 2.5–120 ms), or a negative `OPUS_*` code for a packet that is
   * empty, oversized or corrupt (OPUS_INVALID_PACKET), too long for `out`
   * (OPUS_BUFFER_TOO_SMALL), or after destroy() (OPUS_INVALID_STATE).
   * On a failure the caller conceals the frame. `length` (default: all of
   * `packet`) lets a caller pass the first bytes of a larger packet store.
   */
  decode(packet: Uint8Array, out: Int16Array, length = packet.length): number {
    const state = this.#memory.state;
    if (state === 0) return OPUS_INVALID_STATE;
    const len = length >= packet.length ? packet.length : length;
    // RFC 6716 §3.4 [R1]: a packet has at least one byte; libopus would read
    // an empty one as a loss and conceal 120 ms.
    if (!(len > 0) || len > MAX_PACKET_BYTES) {
      this.counters.corrupt++;
      return OPUS_INVALID_PACKET;
    }
    const { exports, packet: into, pcm } = this.#wasm;
    into.write(packet, len);
    const cap = out.length < MAX_FRAME_SAMPLES ? out.length : MAX_FRAME_SAMPLES;
    const n = exports.opus_decode(state, into.ptr, len, pcm.ptr, cap, 0);
    if (n < 0) {
      this.counters.corrupt++;
      return n;
    }
    this.counters.decoded++;
    return pcm.read(out, n);
  }

  /**
   * 20 ms of packet-loss concealment continuing the audio decoded so far
   * (libopus extrapolates the last pitch period and fades it out over a
   * long loss). Returns frameSamples, or a negative `OPUS_*` code.
   */
  conceal(out: Int16Array): number {
    const state = this.#memory.state;
    if (state === 0) return OPUS_INVALID_STATE;
    if (out.length < this.frameSamples) return OPUS_BUFFER_TOO_SMALL;
    const { exports, pcm } = this.#wasm;
    const n = exports.opus_decode(state, 0, 0, pcm.ptr, this.frameSamples, 0);
    if (n < 0) return n;
    this.counters.concealed++;
    return pcm.read(out, n);
  }

  /**
   * The 20 ms frame lost just before `nextPacket`, rebuilt from the in-band
   * FEC (LBRR) data `nextPacket` carries (RFC 6716 §4.2.4); libopus conceals
   * instead when it has none. Decode `nextPacket` itself afterwards. A corrupt
   * `nextPacket` is counted and the frame concealed. Returns frameSamples, or
   * a negative `OPUS_*` code. `length` as for `decode`.
   */
  decodeFec(nextPacket: Uint8Array, out: Int16Array, length = nextPacket.length): number {
    const state = this.#memory.state;
    if (state === 0) return OPUS_INVALID_STATE;
    if (out.length < this.frameSamples) return OPUS_BUFFER_TOO_SMALL;
    const len = length >= nextPacket.length ? nextPacket.length : length;
    if (!(len > 0) || len > MAX_PACKET_BYTES) {
      this.counters.corrupt++;
      return this.conceal(out);
    }
    const { exports, packet: into, pcm } = this.#wasm;
    into.write(nextPacket, len);
    const n = exports.opus_decode(state, into.ptr, len, pcm.ptr, this.frameSamples, 1);
    if (n < 0) {
      this.counters.corrupt++;
      return this.conceal(out);
    }
    this.counters.fec++;
    return pcm.read(out, n);
  }

  /** Forgets the stream's history (a new talk spurt from another source). */
  reset(): void {
    const state = this.#memory.state;
    if (state !== 0) this.#wasm.exports.opus_decoder_ctl_set(state, OpusCtl.resetState, 0);
  }

  /** Safe to call more than once. */
  destroy(): void {
    this.#memory.dispose();
  }
}
