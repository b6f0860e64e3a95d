import {
  CONTROL_BYTES,
  Ctl,
  DEFAULT_MAX_SAMPLES,
  FrameFlags,
  RING_MAGIC,
  RING_VERSION,
  Slot,
  geometryError,
  ringByteLength,
  slotByteOffset,
  slotBytes,
  slotPcmByteOffset,
} from './layout.ts';
import type { FrameMeta } from './FrameMeta.ts';
import { waitFrame, waitFrameSync, waitSpaceSync, type WaitResult } from './ringWait.ts';

export { FrameFlags };
export { FrameMeta } from './FrameMeta.ts';
export type { WaitResult } from './ringWait.ts';

/** Frames in a row of one new length after which `read` makes views of that length. */
const READ_VIEW_ADOPT = 16;

/**
 * One edge between two actors: a single-producer single-consumer ring of
 * fixed-size frame slots in a SharedArrayBuffer (layout in `layout.ts`).
 * Exactly one thread writes and exactly one thread reads; each side attaches
 * its own `FrameRing` to the same buffer.
 *
 * `write` and `read` are the real-time path: they never throw, and report
 * trouble as a `false` return plus a counter in the shared control block
 * (`overflows`, `underflows`, `oversize`), which any thread can read. They
 * allocate nothing, except that `read` remakes its per-slot views when a
 * stream settles on a new frame length (see `#readView`): once per format
 * change, never per frame. Small slots have no per-slot views at all: each
 * view is ~60 bytes of heap on each side, 7.6 KB a 64-slot ring, more than a
 * narrowband call's frames are worth copying by memcpy. The waits block or return a promise and are for
 * the consumer (data) or the producer (space) of this ring only.
 */
/**
 * Slots of fewer samples (a 20 ms frame under 16 kHz: G.711 calls, packet
 * and wire slots) are read with an element loop, without per-slot views.
 */
const READ_VIEW_MIN_SAMPLES = 320;

export class FrameRing {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly maxSamples: number;

  /** The control words, as Int32 because Atomics.wait/notify work only on Int32Array. */
  readonly #ctl: Int32Array;
  /** The same memory as u32, for the slot headers (sequence and timestamp are unsigned). */
  readonly #words: Uint32Array;
  readonly #mask: number;
  readonly #slotWords: number;
  readonly #firstSlotWord: number;
  /** The whole buffer as samples: `write` copies into a slot with one `set` at its offset (a memcpy). */
  readonly #all: Int16Array;
  readonly #firstSample: number;
  readonly #slotSamples: number;
  /**
   * Per slot, a view as long as the stream's steady frame length, so `read`
   * copies with one `set` too (a memcpy, several times faster than an element
   * loop over shared memory). Frames of other lengths take the element loop;
   * the views are remade only when a new length holds for a while. Empty for
   * slots under READ_VIEW_MIN_SAMPLES: those frames always take the loop.
   */
  readonly #readView: Int16Array[];
  /**
   * The other side's index as this side last saw it. A stale value only
   * understates the room (producer) or the frames ready (consumer), so each
   * side re-reads the other's cache line only when its copy says full or
   * empty, instead of pulling that line across cores on every frame.
   */
  #readSeen: number;
  #writeSeen: number;
  /** The length of the last frame read through the slow path, and how many in a row had it. */
  #lastLength = -1;
  #sameLength = 0;

  private constructor(buffer: SharedArrayBuffer, slots: number, maxSamples: number) {
    this.buffer = buffer;
    this.slots = slots;
    this.maxSamples = maxSamples;
    this.#ctl = new Int32Array(buffer);
    this.#words = new Uint32Array(buffer);
    this.#mask = slots - 1;
    this.#slotWords = slotBytes(maxSamples) >> 2;
    this.#firstSlotWord = slotByteOffset(0, maxSamples) >> 2;
    this.#all = new Int16Array(buffer);
    this.#firstSample = slotPcmByteOffset(0, maxSamples) >> 1;
    this.#slotSamples = slotBytes(maxSamples) >> 1;
    this.#readView = [];
    if (maxSamples >= READ_VIEW_MIN_SAMPLES) {
      for (let s = 0; s < slots; s++) this.#readView.push(new Int16Array(buffer, slotPcmByteOffset(s, maxSamples), maxSamples));
    }
    this.#readSeen = Atomics.load(this.#ctl, Ctl.READ_INDEX);
    this.#writeSeen = Atomics.load(this.#ctl, Ctl.WRITE_INDEX);
  }

  /** Bytes of the SharedArrayBuffer a ring of this geometry needs. */
  static byteLength(slots: number, maxSamples: number = DEFAULT_MAX_SAMPLES): number {
    const err = geometryError(slots, maxSamples);
    if (err !== undefined) throw new RangeError(`FrameRing: ${err}`);
    return ringByteLength(slots, maxSamples);
  }

  /**
   * Allocates and formats a ring (control time). `slots` must be a power of two
   * so the free-running u32 indices map onto slots continuously across 2^32.
   */
  static create(slots: number, maxSamples: number = DEFAULT_MAX_SAMPLES): FrameRing {
    const buffer = new SharedArrayBuffer(FrameRing.byteLength(slots, maxSamples));
    const ctl = new Int32Array(buffer);
    ctl[Ctl.MAGIC] = RING_MAGIC;
    ctl[Ctl.VERSION] = RING_VERSION;
    ctl[Ctl.SLOT_COUNT] = slots;
    ctl[Ctl.MAX_SAMPLES] = maxSamples;
    ctl[Ctl.SLOT_BYTES] = slotBytes(maxSamples);
    // The buffer reaches other threads only by postMessage, which orders these
    // plain stores before anything the receiver does with it.
    return new FrameRing(buffer, slots, maxSamples);
  }

  /**
   * Attaches to a ring another thread created (control time). Throws a
   * RangeError naming what does not match when the buffer is not a ring of
   * this version, so a mismatched build fails at set-up, not mid-call.
   */
  static attach(sab: SharedArrayBuffer): FrameRing {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new TypeError(`FrameRing.attach: not a SharedArrayBuffer [got:${describe(sab)}]`);
    }
    if (sab.byteLength < CONTROL_BYTES) {
      throw new RangeError(`FrameRing.attach: buffer shorter than the control block [bytes:${sab.byteLength}, need:${CONTROL_BYTES}]`);
    }
    const u32 = new Uint32Array(sab);
    const magic = u32[Ctl.MAGIC]!;
    if (magic !== RING_MAGIC) {
      throw new RangeError(`FrameRing.attach: bad magic [expected:${hex(RING_MAGIC)}, got:${hex(magic)}]`);
    }
    const version = u32[Ctl.VERSION]!;
    if (version !== RING_VERSION) {
      throw new RangeError(`FrameRing.attach: unsupported version [expected:${RING_VERSION}, got:${version}]`);
    }
    const slots = u32[Ctl.SLOT_COUNT]!;
    const maxSamples = u32[Ctl.MAX_SAMPLES]!;
    const err = geometryError(slots, maxSamples);
    if (err !== undefined) throw new RangeError(`FrameRing.attach: ${err}`);
    const stride = u32[Ctl.SLOT_BYTES]!;
    if (stride !== slotBytes(maxSamples)) {
      throw new RangeError(`FrameRing.attach: slot size mismatch [expected:${slotBytes(maxSamples)}, got:${stride}]`);
    }
    const need = ringByteLength(slots, maxSamples);
    if (sab.byteLength !== need) {
      throw new RangeError(
        `FrameRing.attach: buffer size does not match its geometry [bytes:${sab.byteLength}, expected:${need}, slots:${slots}, maxSamples:${maxSamples}]`,
      );
    }
    const used = (Atomics.load(u32, Ctl.WRITE_INDEX) - Atomics.load(u32, Ctl.READ_INDEX)) >>> 0;
    if (used > slots) {
      throw new RangeError(`FrameRing.attach: indices hold more frames than slots [frames:${used}, slots:${slots}]`);
    }
    return new FrameRing(sab, slots, maxSamples);
  }

  /**
   * Producer: copies one frame into the next free slot. Returns false, and
   * counts it, when the ring is full (`overflows`) or when `sampleCount` is
   * not an integer in [0, min(maxSamples, samples.length)] (`oversize`: a
   * frame is never clipped). Numbers for the u32 header fields wrap like u32.
   * The stamp words (layout.ts) are left as they are: see `writeStamped`.
   */
  write(
    samples: Int16Array,
    sampleCount: number,
    sequence: number,
    timestamp: number,
    rateHz: number,
    flags: number,
  ): boolean {
    const ctl = this.#ctl;
    const maxSamples = this.maxSamples;
    if (!(sampleCount >= 0 && sampleCount <= maxSamples && sampleCount <= samples.length) || sampleCount % 1 !== 0) {
      ctl[Ctl.OVERSIZE]!++;
      return false;
    }
    // Only this thread stores WRITE_INDEX, so a plain read of it is current.
    const w = ctl[Ctl.WRITE_INDEX]!;
    if ((w - this.#readSeen) >>> 0 >= this.slots) {
      // Looks full from the cached copy: look again. This acquire load pairs
      // with the consumer's release store of READ_INDEX after it copied a
      // frame out, so once we see a slot freed, the consumer is done with it
      // and we may overwrite it.
      this.#readSeen = Atomics.load(ctl, Ctl.READ_INDEX);
      if ((w - this.#readSeen) >>> 0 >= this.slots) {
        ctl[Ctl.OVERFLOWS]!++;
        return false;
      }
    }
    const slot = w & this.#mask;
    const words = this.#words;
    const base = this.#firstSlotWord + slot * this.#slotWords;
    words[base + Slot.SEQUENCE] = sequence;
    words[base + Slot.TIMESTAMP] = timestamp;
    words[base + Slot.RATE_HZ] = rateHz;
    words[base + Slot.SAMPLE_COUNT] = sampleCount;
    words[base + Slot.FLAGS] = flags;
    if (samples.length <= maxSamples) {
      // Copies the whole source (a memcpy); samples past sampleCount land in
      // the slot's spare room, where no reader looks.
      this.#all.set(samples, this.#firstSample + slot * this.#slotSamples);
    } else {
      const all = this.#all;
      const at = this.#firstSample + slot * this.#slotSamples;
      for (let i = 0; i < sampleCount; i++) all[at + i] = samples[i]!;
    }
    // Publish. Atomics.store is sequentially consistent, so every plain store
    // above (header and PCM) happens-before any thread's Atomics.load that
    // sees the new WRITE_INDEX: the consumer can never read a half-written
    // slot. u32 wrap: `w + 1` is stored modulo 2^32 by the Int32Array.
    Atomics.store(ctl, Ctl.WRITE_INDEX, w + 1);
    // Waking a thread is a system call; skip it unless the consumer said it
    // is asleep (or about to be). The flag and the index are both seq-cst: if
    // the consumer set its flag before this load we see it and wake it; if
    // not, its own re-check of WRITE_INDEX after setting the flag (waitSync)
    // sees our store above and it does not sleep. Either way no wake-up is lost.
    if (Atomics.load(ctl, Ctl.CONSUMER_WAITING) !== 0) Atomics.notify(ctl, Ctl.WRITE_INDEX);
    return true;
  }

  /**
   * Consumer: copies the oldest frame into `out` and its header into `meta`.
   * Returns false, and counts an underflow, when the ring is empty. If `out` is
   * shorter than the frame, the frame is consumed and only `out.length`
   * samples are copied; `meta.sampleCount` still says how long it was.
   */
  read(out: Int16Array, meta: FrameMeta): boolean {
    const ctl = this.#ctl;
    // Only this thread stores READ_INDEX, so a plain read of it is current.
    const r = ctl[Ctl.READ_INDEX]!;
    let ready = (this.#writeSeen - r) >>> 0;
    if (ready === 0 || ready > this.slots) {
      // Looks empty from the cached copy: look again. This acquire load pairs
      // with the producer's release store of WRITE_INDEX, so the header and
      // PCM of every slot below the value we see are complete and visible.
      this.#writeSeen = Atomics.load(ctl, Ctl.WRITE_INDEX);
      ready = (this.#writeSeen - r) >>> 0;
      if (ready === 0 || ready > this.slots) {
        ctl[Ctl.UNDERFLOWS]!++;
        return false;
      }
    }
    const slot = r & this.#mask;
    const n = this.#readHeader(slot, meta);
    const view = this.#readView[slot];
    if (view !== undefined && view.length === n && out.length >= n) {
      out.set(view);
    } else {
      // A frame of another length (or a small slot): copied element by element,
      // so frames whose length keeps changing (Opus packets) allocate nothing.
      // A new length that holds for READ_VIEW_ADOPT frames in a row gets views
      // of its own, where the ring has views.
      const all = this.#all;
      const at = this.#firstSample + slot * this.#slotSamples;
      const m = Math.min(n, out.length);
      for (let i = 0; i < m; i++) out[i] = all[at + i]!;
      if (this.#readView.length > 0) this.#trackLength(n);
    }
    // Hand the slot back. The release store orders our copies out of the slot
    // before the producer's acquire load that lets it overwrite the slot.
    Atomics.store(ctl, Ctl.READ_INDEX, r + 1);
    // As in write: wake the producer only if it said it sleeps for room.
    if (Atomics.load(ctl, Ctl.PRODUCER_WAITING) !== 0) Atomics.notify(ctl, Ctl.READ_INDEX);
    return true;
  }

  #trackLength(n: number): void {
    if (n === this.#lastLength) {
      if (++this.#sameLength === READ_VIEW_ADOPT) this.#adoptReadLength(n);
    } else {
      this.#lastLength = n;
      this.#sameLength = 1;
    }
  }

  /** A steady new frame length: every slot's read view takes it (once per change of stream format). */
  #adoptReadLength(n: number): void {
    for (let s = 0; s < this.slots; s++) this.#readView[s] = new Int16Array(this.buffer, slotPcmByteOffset(s, this.maxSamples), n);
  }

  /** Consumer: fills `meta` with the oldest frame's header without consuming it; false when empty (not counted). */
  peek(meta: FrameMeta): boolean {
    const slot = this.#readySlot();
    if (slot < 0) return false;
    this.#readHeader(slot, meta);
    return true;
  }

  /**
   * Producer, on a ring whose slots carry the stamp words (ARRIVAL_MS,
   * BYTE_LENGTH, SOURCE in layout.ts: the packet and wire rings): `write`
   * with those. Such a ring's producer writes every slot this way. `write`
   * itself never touches them, so a PCM ring's stay 0 and its frames cost
   * nothing more.
   */
  writeStamped(
    samples: Int16Array,
    sampleCount: number,
    sequence: number,
    timestamp: number,
    rateHz: number,
    flags: number,
    arrivalMs: number,
    byteLength: number,
    source: number,
  ): boolean {
    const slot = this.#freeSlot();
    if (slot >= 0) {
      // The slot is free and unpublished: `write` publishes these words with
      // the rest of it, or refuses the frame and leaves it unpublished.
      const words = this.#words;
      const base = this.#firstSlotWord + slot * this.#slotWords;
      words[base + Slot.ARRIVAL_MS] = arrivalMs;
      words[base + Slot.BYTE_LENGTH] = byteLength;
      words[base + Slot.SOURCE] = source;
    }
    // When full, `write` refuses and counts the overflow.
    return this.write(samples, sampleCount, sequence, timestamp, rateHz, flags);
  }

  /** Consumer, on a ring whose slots carry the stamp words: `read`, with those in `meta` too. */
  readStamped(out: Int16Array, meta: FrameMeta): boolean {
    const slot = this.#readySlot();
    if (slot >= 0) {
      // Published (#readySlot's acquire load) and ours until `read` hands it back.
      const words = this.#words;
      const base = this.#firstSlotWord + slot * this.#slotWords;
      meta.arrivalMs = words[base + Slot.ARRIVAL_MS]!;
      meta.byteLength = words[base + Slot.BYTE_LENGTH]!;
      meta.source = words[base + Slot.SOURCE]!;
    }
    // When empty, `read` counts the underflow.
    return this.read(out, meta);
  }

  /** Producer: refuses a frame for want of room, counted as `write` counts it (for a writer of several slots at once). */
  refuse(): false {
    this.#ctl[Ctl.OVERFLOWS]!++;
    return false;
  }

  /** Producer: the slot the next write fills, or -1 when the ring is full (looked at as `write` does). */
  #freeSlot(): number {
    const w = this.#ctl[Ctl.WRITE_INDEX]!;
    if ((w - this.#readSeen) >>> 0 >= this.slots) {
      // The acquire load of `write`: a slot seen freed is one the consumer is done with.
      this.#readSeen = Atomics.load(this.#ctl, Ctl.READ_INDEX);
      if ((w - this.#readSeen) >>> 0 >= this.slots) return -1;
    }
    return w & this.#mask;
  }

  /** Consumer: the slot the next read takes, or -1 when the ring is empty (acquire load of WRITE_INDEX). */
  #readySlot(): number {
    const r = this.#ctl[Ctl.READ_INDEX]!;
    this.#writeSeen = Atomics.load(this.#ctl, Ctl.WRITE_INDEX);
    const ready = (this.#writeSeen - r) >>> 0;
    return ready === 0 || ready > this.slots ? -1 : r & this.#mask;
  }

  /** Fills `meta` from a slot's header; returns the sample count, bounded by the slot. */
  #readHeader(slot: number, meta: FrameMeta): number {
    const words = this.#words;
    const base = this.#firstSlotWord + slot * this.#slotWords;
    meta.sequence = words[base + Slot.SEQUENCE]!;
    meta.timestamp = words[base + Slot.TIMESTAMP]!;
    meta.rateHz = words[base + Slot.RATE_HZ]!;
    meta.flags = words[base + Slot.FLAGS]!;
    // `write` never stores more than maxSamples; the bound keeps a corrupted
    // header from making `read` throw.
    const n = Math.min(words[base + Slot.SAMPLE_COUNT]!, this.maxSamples);
    meta.sampleCount = n;
    return n;
  }

  /** Frames ready to read (any thread; a snapshot). */
  available(): number {
    const used = (Atomics.load(this.#ctl, Ctl.WRITE_INDEX) - Atomics.load(this.#ctl, Ctl.READ_INDEX)) >>> 0;
    return used > this.slots ? 0 : used;
  }

  /** Free slots (any thread; a snapshot). */
  space(): number {
    return this.slots - this.available();
  }

  get overflows(): number {
    return Atomics.load(this.#ctl, Ctl.OVERFLOWS) >>> 0;
  }

  get underflows(): number {
    return Atomics.load(this.#ctl, Ctl.UNDERFLOWS) >>> 0;
  }

  get oversize(): number {
    return Atomics.load(this.#ctl, Ctl.OVERSIZE) >>> 0;
  }

  /**
   * Zeroes the counters. Each counter has one writer (the side that counts
   * it), so a reset racing with that side's increment may lose that one count.
   */
  resetCounters(): void {
    Atomics.store(this.#ctl, Ctl.OVERFLOWS, 0);
    Atomics.store(this.#ctl, Ctl.OVERSIZE, 0);
    Atomics.store(this.#ctl, Ctl.UNDERFLOWS, 0);
  }

  /**
   * Consumer, on a thread that may block (a worker): sleeps until a frame is
   * ready or `timeoutMs` passes. Returns at once when a frame is ready.
   */
  waitSync(timeoutMs: number = Infinity): WaitResult {
    return waitFrameSync(this.#ctl, timeoutMs);
  }

  /**
   * Consumer, on a thread that must not block (the main thread, an event
   * loop with other work): resolves when a frame is ready or `timeoutMs`
   * passes, without polling; the pending wait keeps the event loop alive.
   * Allocates a promise and a timer per call. At most one wait
   * per ring at a time: the ring has one consumer.
   */
  waitForData(timeoutMs: number = Infinity): Promise<WaitResult> {
    return waitFrame(this.#ctl, timeoutMs);
  }

  /**
   * Producer, on a thread that may block: sleeps until a slot is free or
   * `timeoutMs` passes (for a producer that must not drop frames, e.g. a
   * file source or a test). Returns at once when a slot is free.
   */
  waitSpaceSync(timeoutMs: number = Infinity): WaitResult {
    return waitSpaceSync(this.#ctl, this.slots, timeoutMs);
  }
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
