import { WasmBuffer } from './WasmBuffer.ts';
import type { CoreExports } from './wasm.ts';

/**
 * What one kernel wrapper owns in a WebAssembly instance's memory: at most
 * one kernel state block (made by the kernel's `…Create`, freed by its
 * `…Destroy`) and any buffers allocated beside it, each seen through a
 * `WasmBuffer`. `dispose()` frees them all and is safe to call twice.
 *
 * A wrapper dropped without `dispose()` is not a leak: its memory is
 * registered with a FinalizationRegistry under the wrapper, and freed once
 * the wrapper has been collected. The registry holds this object, never the
 * wrapper, so registering does not keep the wrapper alive. Instances freed
 * that way are the allocator's to reuse (the DSP core's TLSF allocator,
 * libopus's malloc): linear memory never shrinks, it stops growing.
 *
 * Thread-wide scratch (the codecs' shared buffers) is a KernelMemory with no
 * owner: it lives as long as the thread's instance.
 */
export class KernelMemory {
  readonly core: CoreExports;
  /** What the owner is, for errors: `Resampler`, `G722Encoder`… */
  readonly name: string;
  #state = 0;
  #destroyState: ((ptr: number) => void) | undefined;
  readonly #blocks: number[] = [];
  #disposed = false;

  /** Frees the memory of wrappers collected without `dispose()`. */
  static readonly #dropped = new FinalizationRegistry<KernelMemory>((memory) => memory.dispose());

  /** Memory of `owner` (registered for finalization), or thread scratch when there is none. */
  constructor(core: CoreExports, name: string, owner?: object) {
    this.core = core;
    this.name = name;
    if (owner !== undefined) KernelMemory.#dropped.register(owner, this, this);
  }

  /** The kernel state block; 0 before `adopt` and after `dispose`. Per-frame calls test it for 0. */
  get state(): number {
    return this.#state;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Takes `ptr`, a state block from a kernel's `…Create`, to be freed with
   * `destroy(ptr)`. Returns `ptr`. Throws when the kernel returned 0 (it
   * refused the arguments or the memory is exhausted).
   */
  adopt(ptr: number, destroy: (ptr: number) => void, context = ''): number {
    this.#check('op:adopt');
    if (this.#state !== 0) throw new Error(`${this.name} already holds a state block`);
    if (ptr === 0) throw new RangeError(`${this.name}: the DSP kernel refused to create its state${context === '' ? '' : ` [${context}]`}`);
    this.#state = ptr;
    this.#destroyState = destroy;
    return ptr;
  }

  /** Allocates `length` int16 elements, freed by `dispose`. */
  i16(length: number): WasmBuffer<Int16Array> {
    return WasmBuffer.i16(this.core.memory, this.#alloc(length * 2), length);
  }

  /** Allocates `length` bytes, freed by `dispose`. */
  u8(length: number): WasmBuffer<Uint8Array> {
    return WasmBuffer.u8(this.core.memory, this.#alloc(length), length);
  }

  /** A view of `length` int16 elements the kernel placed at `ptr` (inside the state block; not freed separately). */
  i16At(ptr: number, length: number): WasmBuffer<Int16Array> {
    this.#check('op:view');
    return WasmBuffer.i16(this.core.memory, ptr, length);
  }

  /**
   * Throws when disposed, naming the owner and `op` (`input:3`): control-time
   * methods (gains, views, set-up) call it; per-frame methods test `state`
   * instead and return a count.
   */
  assertLive(op: string): void {
    this.#check(op);
  }

  /** Frees the state block and every buffer; safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    KernelMemory.#dropped.unregister(this);
    const state = this.#state;
    this.#state = 0;
    if (state !== 0) this.#destroyState!(state);
    this.#destroyState = undefined;
    for (const ptr of this.#blocks) this.core.free(ptr);
    this.#blocks.length = 0;
  }

  #alloc(bytes: number): number {
    this.#check('op:allocate');
    if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`${this.name}: bad buffer size [bytes:${bytes}]`);
    const ptr = this.core.alloc(bytes);
    if (ptr === 0) throw new Error(`${this.name}: WebAssembly memory exhausted [bytes:${bytes}]`);
    this.#blocks.push(ptr);
    return ptr;
  }

  #check(op: string): void {
    if (this.#disposed) throw new Error(`${this.name} destroyed [${op}]`);
  }
}
