/**
 * One block of a WebAssembly instance's memory seen as a typed array, with
 * the copies a kernel wrapper makes every frame: caller's array → block
 * before the kernel runs, block → caller's array after.
 *
 * Views are cached. Growing a (non-shared) WebAssembly.Memory detaches its
 * old ArrayBuffer, and every view over a detached buffer reads as length 0,
 * so a cached view of length 0 is the sign that `memory.buffer` changed: the
 * views are re-made then and only then. The check is one length load, where
 * reading `memory.buffer` costs a call into the engine on every frame. (A
 * shared memory never detaches; its old views still cover the blocks
 * allocated before the growth, so they stay right there too.)
 *
 * Copies are bulk (`TypedArray.prototype.set`, a memmove). Reading part of
 * the block needs a view of exactly that many elements; such views are kept
 * by length (the last one in a field, others in a map), so a stream in
 * steady state allocates nothing. Blocks are never empty.
 */

export type WasmElements = Int16Array | Uint8Array;

interface ElementsType<T extends WasmElements> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

export class WasmBuffer<T extends WasmElements> {
  /** Byte address of the block, what the kernel is passed. */
  readonly ptr: number;
  /** Elements in the block. */
  readonly length: number;
  readonly #memory: WebAssembly.Memory;
  readonly #type: ElementsType<T>;
  #all: T;
  // The most recent partial view, and every other one made since the last growth.
  #head: T;
  #headLength = 0;
  #heads: Map<number, T> | undefined;

  /** A view of `length` elements at byte address `ptr` of `memory` (allocates the view). */
  constructor(memory: WebAssembly.Memory, type: ElementsType<T>, ptr: number, length: number) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`a WebAssembly buffer holds at least one element [length:${length}]`);
    if (!Number.isInteger(ptr) || ptr <= 0 || ptr % type.BYTES_PER_ELEMENT !== 0) {
      throw new RangeError(`bad WebAssembly address [ptr:${ptr}, bytesPerElement:${type.BYTES_PER_ELEMENT}]`);
    }
    this.#memory = memory;
    this.#type = type;
    this.ptr = ptr;
    this.length = length;
    this.#all = new type(memory.buffer as ArrayBuffer, ptr, length);
    this.#head = this.#all;
  }

  static i16(memory: WebAssembly.Memory, ptr: number, length: number): WasmBuffer<Int16Array> {
    return new WasmBuffer(memory, Int16Array, ptr, length);
  }

  static u8(memory: WebAssembly.Memory, ptr: number, length: number): WasmBuffer<Uint8Array> {
    return new WasmBuffer(memory, Uint8Array, ptr, length);
  }

  /**
   * The whole block, current. It goes stale when the memory grows (anything
   * on this thread creating DSP state can grow it): ask again rather than
   * keep it across such calls.
   */
  get array(): T {
    if (this.#all.length === 0) this.#remake();
    return this.#all;
  }

  /**
   * Copies the first `count` elements of `src` (at most its length and the
   * block's) to the start of the block; returns the count. When all of `src`
   * fits, all of it is copied in one bulk call, which is cheaper than an
   * element loop even for a part: elements past `count` are left as scratch.
   * A longer `src` is copied element by element. Allocates nothing.
   */
  write(src: T, count: number = src.length): number {
    // Written so that a NaN count stays NaN and copies nothing.
    let n = count >= src.length ? src.length : count;
    if (n > this.length) n = this.length;
    if (!(n > 0)) return 0;
    const all = this.#all.length === 0 ? this.#remake() : this.#all;
    if (src.length <= this.length) all.set(src);
    else for (let k = 0; k < n; k++) all[k] = src[k]!;
    return n;
  }

  /**
   * Copies `count` elements of `src` from index `from` to the start of the
   * block (clamped as `write`); returns the count. For inputs longer than a
   * block, cut into chunks: a part at an offset needs a subarray, so this
   * allocates one view per call (none from offset 0). Frames go through
   * `write`.
   */
  writeChunk(src: T, from: number, count: number): number {
    let n = count >= src.length - from ? src.length - from : count;
    if (n > this.length) n = this.length;
    if (!(n > 0) || !(from >= 0)) return 0;
    if (from === 0) return this.write(src, n);
    this.array.set(src.subarray(from, from + n));
    return n;
  }

  /**
   * Copies the first `count` elements of the block into `dst` from index
   * `at`, clamped to what both hold; returns the count. Allocates only the
   * first time a count is read after the memory grew.
   */
  read(dst: T, count: number = this.length, at = 0): number {
    let n = count >= dst.length - at ? dst.length - at : count;
    if (n > this.length) n = this.length;
    if (!(n > 0) || !(at >= 0)) return 0;
    dst.set(this.head(n), at);
    return n;
  }

  /**
   * The first `n` elements of the block (1..length), current, for a caller
   * that copies out itself. Views are kept by length: this allocates only
   * the first time a length is asked for after the memory grew.
   */
  head(n: number): T {
    if (this.#all.length === 0) this.#remake();
    return n === this.length ? this.#all : n === this.#headLength ? this.#head : this.#headOf(n);
  }

  /** Sets elements [from, length) of the block to zero. */
  clearFrom(from: number): void {
    if (from < this.length) this.array.fill(0, from > 0 ? from : 0);
  }

  #headOf(n: number): T {
    let v = this.#heads?.get(n);
    if (v === undefined) {
      v = new this.#type(this.#all.buffer as ArrayBuffer, this.ptr, n);
      (this.#heads ??= new Map()).set(n, v);
    }
    this.#head = v;
    this.#headLength = n;
    return v;
  }

  /** The memory grew: new views over its new buffer; the partial ones are made again as needed. */
  #remake(): T {
    this.#all = new this.#type(this.#memory.buffer as ArrayBuffer, this.ptr, this.length);
    this.#head = this.#all;
    this.#headLength = 0;
    this.#heads?.clear();
    return this.#all;
  }
}
