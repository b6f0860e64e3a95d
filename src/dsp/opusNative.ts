/**
 * `@evan/opus`'s native libopus addon, which OpusEncoder uses where it loads
 * (see opus.ts), and the choice of encoder backend.
 *
 * The addon is not safe to load as a plain `require` in worker threads, for
 * two reasons (both measured against the shipped x64-linux.node, a Rust
 * build of libopus 1.x with mimalloc linked in):
 *
 * 1. Worker exit crashes the process (SIGSEGV). Loading the addon runs
 *    mimalloc's initializer, which registers a pthread key whose destructor
 *    lies in the addon's code. When a worker's environment is freed, Node
 *    dlclose()s the addons it loaded (`node::binding::DLib::Close` from
 *    `~Environment`); if no other thread holds the library it is unmapped,
 *    and when the thread then ends glibc calls the key's destructor
 *    (`__nptl_deallocate_tsd`) at an address no longer mapped. Loading alone
 *    is enough — no encoder need exist — and every way a worker ends
 *    (return, uncaught exception, process.exit, terminate(), heap limit)
 *    passes through that teardown. Fix: open it with RTLD_NODELETE, so the
 *    library stays mapped and the destructor stays callable.
 * 2. Encoders on two threads corrupt each other's packets. Every encoder
 *    writes its packet into one static buffer (`buffers.encoder()`), and
 *    every decoder its PCM into another, shared by the whole process; two
 *    threads encoding at once overwrite each other (about 2% of packets with
 *    two threads). Fix: every worker opens a private copy of the file —
 *    the dynamic loader keys loaded objects by file identity, so a copy is
 *    a separate library with its own buffers. The main thread opens the
 *    package's own file.
 *
 * What the copies cost: each stays mapped until the process ends (RTLD_NODELETE),
 * about 0.8 MB of RSS per worker that ever loaded one; and each takes a few
 * bytes of glibc's static TLS surplus, which runs out after about 100 loads —
 * later workers then fall back to the WebAssembly build, with the reason.
 * The copy is unlinked as soon as it is open, so nothing is left on disk.
 */

import { isMainThread, threadId } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export type OpusBackend = 'native' | 'wasm';

/** The native addon's classes, below the package's JavaScript subclasses. */
export interface NativeEncoder {
  ctl(request: number, value?: number): number;
  /** Encodes one frame into the binding's output buffer; returns bytes, throws on error. */
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
  /** Where every native encoder of this thread writes its packet. */
  encoderOut: Uint8Array;
  /** Where every native decoder of this thread writes its PCM (bytes of s16). */
  decoderOut: Uint8Array;
}

/**
 * dlopen(3)'s RTLD_NODELETE, which `os.constants.dlopen` does not export:
 * glibc's <bits/dlfcn.h> and macOS's <dlfcn.h>. Where it is unknown the
 * addon is loaded on the main thread only.
 */
const RTLD_NODELETE: Partial<Record<NodeJS.Platform, number>> = { linux: 0x1000, darwin: 0x80 };

let native: { binding: NativeOpus | undefined; reason: string } | undefined;

/** Walks up to the addon's own class: the package's JS wrapper may have subclassed it in place. */
function baseClass<T extends abstract new (...args: never[]) => unknown>(cls: T): T {
  let c = cls;
  while (!Object.hasOwn(c.prototype as object, 'ctl')) c = Object.getPrototypeOf(c) as T;
  return c;
}

/** Opens the addon at `path`, never to be unmapped. */
function dlopenKept(path: string, nodelete: number): NativeBinding {
  const mod = { exports: {} as NativeBinding };
  process.dlopen(mod, path, constants.dlopen.RTLD_NOW | nodelete);
  return mod.exports;
}

/** A worker's private copy of the addon (reason 2 above), opened and already unlinked. */
function dlopenPrivateCopy(path: string, file: string, nodelete: number): NativeBinding {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-opus-'));
  try {
    const copy = join(dir, `${threadId}-${file}`);
    copyFileSync(path, copy);
    return dlopenKept(copy, nodelete);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The package's native addon for this platform, opened for this thread (once;
 * allocates and touches the file system: call it when a codec is created),
 * or why there is none.
 */
export function loadNativeOpus(): { binding: NativeOpus | undefined; reason: string } {
  if (native !== undefined) return native;
  const file = `${process.arch}-${process.platform}.node`;
  const nodelete = RTLD_NODELETE[process.platform];
  try {
    if (nodelete === undefined && !isMainThread) {
      throw new Error(`RTLD_NODELETE is unknown on ${process.platform}, so a worker's exit could unload it`);
    }
    const path = createRequire(import.meta.url).resolve(`@evan/opus/node/${file}`);
    const b =
      nodelete === undefined
        ? (createRequire(import.meta.url)(path) as NativeBinding)
        : isMainThread
          ? dlopenKept(path, nodelete)
          : dlopenPrivateCopy(path, file, nodelete);
    native = {
      binding: {
        Encoder: baseClass(b.Encoder),
        Decoder: baseClass(b.Decoder),
        encoderOut: b.buffers.encoder(),
        decoderOut: b.buffers.decoder(),
      },
      reason: `native libopus addon (${file}${isMainThread ? '' : ', this thread\'s own copy'}) loaded`,
    };
  } catch (err) {
    native = { binding: undefined, reason: `no native libopus addon (${file}): ${(err as Error).message}` };
  }
  return native;
}

/** The encoder backend used when none is asked for, and why. */
export function opusEncoderBackend(): { backend: OpusBackend; reason: string } {
  if (process.env['OPUS_FORCE_WASM']) return { backend: 'wasm', reason: 'OPUS_FORCE_WASM is set' };
  const { binding, reason } = loadNativeOpus();
  return binding === undefined
    ? { backend: 'wasm', reason }
    : { backend: 'native', reason: `${reason}; it encodes faster than the WebAssembly build` };
}
