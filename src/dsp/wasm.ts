import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The WebAssembly DSP core: one compiled module per process, one instance per
 * thread (WebAssembly instances are not shareable across workers, and
 * per-stream state lives in the instance's memory).
 *
 * Kernels exchange data through buffers allocated in the instance's memory
 * with `alloc`/`free`. A wrapper holds what it allocated in a `KernelMemory`
 * (freed by its destroy(), or by a FinalizationRegistry when it is dropped)
 * and copies frames through `WasmBuffer`s, whose views are re-made only when
 * the memory has grown.
 */

/** Exports every kernel shares; each wrapper declares its own kernel's exports. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
}

export type Build = 'release' | 'debug';

const WASM_FILES: Record<Build, string> = {
  release: '../../build/dsp.wasm',
  debug: '../../build/dsp.debug.wasm',
};

const modules = new Map<Build, WebAssembly.Module>();
const instances = new Map<Build, CoreExports>();

function compile(build: Build): WebAssembly.Module {
  let mod = modules.get(build);
  if (mod === undefined) {
    // SWITCHBOARD_DSP_WASM points the release build at another file (a kernel
    // built alone while it is being developed, or the debug build in the field).
    const override = build === 'release' ? process.env['SWITCHBOARD_DSP_WASM'] : undefined;
    const path = override ?? fileURLToPath(new URL(WASM_FILES[build], import.meta.url));
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new Error(`DSP core not built [file:${path}]: run \`npm run build:wasm\``, { cause: err });
    }
    mod = new WebAssembly.Module(bytes);
    modules.set(build, mod);
  }
  return mod;
}

/** AssemblyScript's abort(message, file, line, column): strings are UTF-16 with a length header. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

function instantiate(build: Build): CoreExports {
  let memory: WebAssembly.Memory | undefined;
  const instance = new WebAssembly.Instance(compile(build), {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        const m = memory === undefined ? '' : readAsString(memory, msg);
        const f = memory === undefined ? '' : readAsString(memory, file);
        throw new Error(`DSP core abort: ${m} [${f}:${line}:${col}]`);
      },
      seed(): number {
        return Date.now();
      },
    },
  });
  const exports = instance.exports as unknown as CoreExports;
  memory = exports.memory;
  return exports;
}

/** This thread's instance of the DSP core (created on first use). */
export function dsp<T extends CoreExports = CoreExports>(build: Build = 'release'): T {
  let inst = instances.get(build);
  if (inst === undefined) {
    inst = instantiate(build);
    instances.set(build, inst);
  }
  return inst as T;
}

/** A fresh, private instance (tests that need isolated memory). */
export function newDspInstance<T extends CoreExports = CoreExports>(build: Build = 'release'): T {
  return instantiate(build) as T;
}

/**
 * Typed views over the whole of one instance's memory, refreshed only when
 * the memory has grown; for code that indexes the heap in place (the mixer's
 * `heap`, benchmarks). Call `refresh()` before indexing `i16`/`f32`/`u8`
 * with `ptr >> shift`. Frames copied in and out go through `WasmBuffer`.
 */
export class DspView {
  readonly #memory: WebAssembly.Memory;
  readonly #shared: boolean;
  #buffer: ArrayBuffer;
  u8: Uint8Array;
  i16: Int16Array;
  i32: Int32Array;
  f32: Float32Array;

  constructor(core: CoreExports) {
    this.#memory = core.memory;
    this.#buffer = core.memory.buffer;
    this.#shared = !(this.#buffer instanceof ArrayBuffer);
    this.u8 = new Uint8Array(this.#buffer);
    this.i16 = new Int16Array(this.#buffer);
    this.i32 = new Int32Array(this.#buffer);
    this.f32 = new Float32Array(this.#buffer);
  }

  /**
   * Re-creates the views if the memory grew; allocates only in that case.
   * Growth detaches the old buffer (views of it read as length 0), which is
   * cheaper to test than reading `memory.buffer`; a shared memory does not
   * detach, so for one the buffer itself is compared.
   */
  refresh(): void {
    if (this.u8.length !== 0 && !this.#shared) return;
    const buf = this.#memory.buffer;
    if (buf !== this.#buffer) {
      this.#buffer = buf;
      this.u8 = new Uint8Array(buf);
      this.i16 = new Int16Array(buf);
      this.i32 = new Int32Array(buf);
      this.f32 = new Float32Array(buf);
    }
  }
}

/** One instance per view cache: all wrappers on a thread share it. */
const views = new WeakMap<CoreExports, DspView>();
export function viewOf(core: CoreExports): DspView {
  let v = views.get(core);
  if (v === undefined) {
    v = new DspView(core);
    views.set(core, v);
  }
  return v;
}
