import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KernelMemory } from './KernelMemory.ts';
import type { WasmBuffer } from './WasmBuffer.ts';
import type { CoreExports } from './wasm.ts';

/**
 * A direct binding to the libopus build that ships inside `@evan/opus`
 * (`wasm/simd.wasm`, or `wasm/opus.wasm` where WebAssembly SIMD is missing).
 *
 * The package's own wrapper hides what a real-time decoder needs: it has no
 * packet-loss concealment and no in-band FEC decode, and every call returns a
 * freshly sliced array. Calling `opus_decode` ourselves gives both (libopus:
 * `data == NULL` conceals, `decode_fec = 1` reads the LBRR data of the next
 * packet) and lets the per-frame path copy through preallocated buffers.
 *
 * One instance per thread, like the DSP core: the codec states of every stream
 * on the thread live in its memory, and calls are synchronous, so all of them
 * share one packet buffer and one PCM buffer. Each codec's state is held in
 * a KernelMemory over `core` (libopus's malloc and free).
 */

/** The module's exports (Emscripten standalone build of libopus 1.x). */
export interface OpusWasmExports {
  readonly memory: WebAssembly.Memory;
  _initialize?(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, rateHz: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_decoder_ctl_set(st: number, request: number, value: number): number;
  opus_decoder_ctl_get(st: number, request: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, rateHz: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, data: number, maxDataBytes: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_encoder_ctl_get(st: number, request: number): number;
}

/** libopus return codes (opus_defines.h): negative values are errors. */
export const OPUS_OK = 0;
export const OPUS_BAD_ARG = -1;
export const OPUS_BUFFER_TOO_SMALL = -2;
export const OPUS_INTERNAL_ERROR = -3;
export const OPUS_INVALID_PACKET = -4;
export const OPUS_UNIMPLEMENTED = -5;
export const OPUS_INVALID_STATE = -6;
export const OPUS_ALLOC_FAIL = -7;

/** `OPUS_APPLICATION_VOIP`: favours speech intelligibility (opus_defines.h). */
export const OPUS_APPLICATION_VOIP = 2048;

/** CTL request numbers (opus_defines.h); the binding splits get and set. */
export const OpusCtl = {
  setBitrate: 4002,
  getBitrate: 4003,
  setComplexity: 4010,
  getComplexity: 4011,
  setInbandFec: 4012,
  getInbandFec: 4013,
  setPacketLossPct: 4014,
  getPacketLossPct: 4015,
  setDtx: 4016,
  getDtx: 4017,
  getLookahead: 4027,
  resetState: 4028,
  getSampleRate: 4029,
  getLastPacketDuration: 4039,
  getInDtx: 4049,
} as const;

/** A packet is at most 3 frames of 1275 bytes plus framing (RFC 6716 §3.2); libopus suggests 4000. */
export const MAX_PACKET_BYTES = 4000;
/** The longest packet decodes to 120 ms (RFC 6716 §3.2.5): 5760 samples at 48 kHz. */
export const MAX_FRAME_SAMPLES = 5760;

export interface OpusWasm {
  readonly exports: OpusWasmExports;
  /** The instance's memory with libopus's malloc and free, for KernelMemory. */
  readonly core: CoreExports;
  /** Shared per-thread buffers: MAX_PACKET_BYTES of packet, MAX_FRAME_SAMPLES of s16 PCM. */
  readonly packet: WasmBuffer<Uint8Array>;
  readonly pcm: WasmBuffer<Int16Array>;
  /** Which file was loaded and why. */
  readonly build: 'simd' | 'scalar';
}

/**
 * `(func (result v128) (i8x16.splat (i32.const 0)))`: validates only where the
 * engine supports WebAssembly SIMD.
 */
const SIMD_PROBE = Uint8Array.of(
  ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // magic, version
  ...[1, 5, 1, 0x60, 0, 1, 0x7b], // type section: () -> v128
  ...[3, 2, 1, 0], // function section
  ...[10, 8, 1, 6, 0, 0x41, 0, 0xfd, 15, 0x0b], // code: i32.const 0; i8x16.splat; end
);

let module: { mod: WebAssembly.Module; build: 'simd' | 'scalar' } | undefined;
let instance: OpusWasm | undefined;

function compile(): { mod: WebAssembly.Module; build: 'simd' | 'scalar' } {
  if (module === undefined) {
    const build = WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'scalar';
    const file = createRequire(import.meta.url).resolve(
      `@evan/opus/wasm/${build === 'simd' ? 'simd' : 'opus'}.wasm`,
    );
    module = { mod: new WebAssembly.Module(readFileSync(file)), build };
  }
  return module;
}

/**
 * This thread's libopus instance (created on first use). Allocates: call it
 * when a codec is created, not per frame.
 */
export function opusWasm(): OpusWasm {
  if (instance !== undefined) return instance;
  const { mod, build } = compile();
  const inst = new WebAssembly.Instance(mod, {
    // libopus never does I/O; these satisfy the C library the build links.
    wasi_snapshot_preview1: {
      fd_seek: (): number => 0,
      fd_write: (): number => 0,
      fd_close: (): number => 0,
      proc_exit(code: number): never {
        throw new Error(`libopus exited [code:${code}]`);
      },
    },
    // Views notice a growth themselves (WasmBuffer).
    env: { emscripten_notify_memory_growth: (): void => undefined },
  });
  const exports = inst.exports as unknown as OpusWasmExports;
  // A WASI reactor runs its static constructors here before any other call.
  exports._initialize?.();
  const core: CoreExports = {
    memory: exports.memory,
    alloc: (bytes) => exports.malloc(bytes),
    free: (ptr) => exports.free(ptr),
  };
  const scratch = new KernelMemory(core, 'libopus scratch');
  instance = { exports, core, packet: scratch.u8(MAX_PACKET_BYTES), pcm: scratch.i16(MAX_FRAME_SAMPLES), build };
  return instance;
}

/** libopus's message for an error code (allocates: for logs and exceptions only). */
export function opusErrorText(code: number): string {
  const { exports } = opusWasm();
  const u8 = new Uint8Array(exports.memory.buffer);
  let s = '';
  for (let at = exports.opus_strerror(code); u8[at] !== 0 && s.length < 64; at++) {
    s += String.fromCharCode(u8[at]!);
  }
  return s;
}
