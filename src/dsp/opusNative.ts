/**
 * `@evan/opus`'s native libopus addon, which OpusEncoder uses where it loads
 * (see opus.ts for when and why), and the choice of encoder backend.
 */

import { isMainThread } from 'node:worker_threads';
import { createRequire } from 'node:module';

export type OpusBackend = 'native' | 'wasm';

/** The native addon's classes, below the package's JavaScript subclasses. */
export interface NativeEncoder {
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
