/**
 * Mono 16-bit samples between a byte stream (a pipe's chunks, cut anywhere,
 * even inside a sample) and 20 ms frames: a preallocated ring of samples.
 * Nothing here allocates after construction; `push` keeps the odd byte of a
 * chunk for the next one.
 */
export class SampleFifo {
  readonly #buf: Int16Array;
  #read = 0;
  #length = 0;
  #oddByte = -1;
  /** Samples refused because the FIFO was full. */
  dropped = 0;

  constructor(capacitySamples: number) {
    this.#buf = new Int16Array(capacitySamples);
  }

  get length(): number {
    return this.#length;
  }

  get capacity(): number {
    return this.#buf.length;
  }

  /** Appends the little-endian samples of `bytes`; what does not fit is counted in `dropped`. */
  push(bytes: Uint8Array): void {
    let i = 0;
    if (this.#oddByte >= 0 && bytes.length > 0) {
      this.#put(((bytes[0]! << 8) | this.#oddByte) << 16 >> 16);
      this.#oddByte = -1;
      i = 1;
    }
    for (; i + 1 < bytes.length; i += 2) this.#put(((bytes[i + 1]! << 8) | bytes[i]!) << 16 >> 16);
    if (i < bytes.length) this.#oddByte = bytes[i]!;
  }

  #put(sample: number): void {
    const buf = this.#buf;
    if (this.#length === buf.length) {
      this.dropped++;
      return;
    }
    let at = this.#read + this.#length;
    if (at >= buf.length) at -= buf.length;
    buf[at] = sample;
    this.#length++;
  }

  /** Moves `n` samples into `out` from index 0; false (nothing taken) when fewer are held. */
  take(out: Int16Array, n: number): boolean {
    if (n > this.#length || n > out.length) return false;
    const buf = this.#buf;
    let r = this.#read;
    for (let i = 0; i < n; i++) {
      out[i] = buf[r]!;
      if (++r === buf.length) r = 0;
    }
    this.#read = r;
    this.#length -= n;
    return true;
  }

  clear(): void {
    this.#read = 0;
    this.#length = 0;
    this.#oddByte = -1;
  }
}
