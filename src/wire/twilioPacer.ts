/**
 * Outbound pacing and playout accounting for a Twilio Media Stream.
 *
 * Twilio plays what it receives in order, buffering whatever arrives early;
 * sending an agent's reply all at once would leave seconds in Twilio's buffer,
 * where only `clear` can reach it and where nothing tells us what the caller
 * heard. So audio waits here and leaves in 20 ms µ-law chunks (160 bytes),
 * only `leadMs` ahead of the estimated playout, each followed by a mark.
 *
 * Mark accounting: every byte accepted gets a place on one timeline (bytes
 * at 8 kHz; later-dropped bytes keep theirs, so places never repeat). A mark
 * is sent right after a chunk and remembers the place of the chunk's end;
 * Twilio echoes a mark once every byte before it has played, so the place of
 * the newest echoed mark is exactly what the caller has heard (`heardMs`),
 * never a guess from the wall clock. On `clear`, Twilio drops its buffer and
 * echoes all pending marks at once; those echoes say nothing about playout.
 * So `clear()` only drops the queue, and `fence()` — called once the `clear`
 * message has gone out on the socket, in order with the echoes read from it —
 * retires the marks outstanding at the clear without advancing `heardMs`:
 * every echo read before the fence left Twilio before it saw `clear`, so it
 * is a real playout. The caller also heard what played between the newest
 * echo and the `clear` (an echo in flight, a chunk part-played): `fence` is
 * told how long before the clear that echo came, and advances `heardMs` by
 * that much of continuous playout, to the nearest mark, never past what was
 * sent nor into a chunk that went out to an empty Twilio buffer (a new
 * talkspurt, whose start time the echo says nothing about). Without that
 * figure the estimate errs short by up to one chunk and one round trip.
 * `clearSettled()` says when every mark sent before the clear is back, i.e.
 * when `heardMs()` is final for the interrupted audio.
 *
 * Pure logic: no I/O, the clock is injected, and after construction nothing
 * allocates (mark names are made once and reused in a ring).
 * @see https://www.twilio.com/docs/voice/media-streams/websocket-messages#send-a-mark-message
 */

export const TWILIO_BYTES_PER_MS = 8;
/** One 20 ms frame of µ-law at 8 kHz. */
export const TWILIO_CHUNK_BYTES = 160;
const CHUNK_MS = TWILIO_CHUNK_BYTES / TWILIO_BYTES_PER_MS;

/** What `next` produced. */
export const PACER_IDLE = 0;
export const PACER_MEDIA = 1;
export const PACER_MARK = 2;
export type PacerAction = typeof PACER_IDLE | typeof PACER_MEDIA | typeof PACER_MARK;

/** What an echoed mark was. */
export const ECHO_PLAYED = 0;
export const ECHO_CLEARED = 1;
export const ECHO_UNKNOWN = 2;
export type EchoKind = typeof ECHO_PLAYED | typeof ECHO_CLEARED | typeof ECHO_UNKNOWN;

export interface TwilioPacerOptions {
  /** Milliseconds, monotonic. */
  clock?: () => number;
  /** How far ahead of playout audio may be sent: absorbs network jitter, bounds what `clear` must drop. */
  leadMs?: number;
  /** Audio the queue holds before `enqueue` refuses bytes. */
  capacityMs?: number;
  /** Marks outstanding at once; beyond it chunks go without marks (coarser accounting, never wrong). */
  maxMarks?: number;
  /** A mark after every n-th chunk: 1 gives 20 ms resolution. */
  markEveryChunks?: number;
  /** Mark names are `${markPrefix}${slot}`. */
  markPrefix?: string;
}

export class TwilioPacer {
  readonly #clock: () => number;
  readonly #leadMs: number;
  readonly #markEvery: number;
  /** Queued audio: a byte ring. */
  readonly #queue: Uint8Array;
  #head = 0;
  #queued = 0;
  /** Timeline places, in bytes. */
  #accepted = 0;
  #sent = 0;
  #heard = 0;
  #dropped = 0;
  /** Estimated clock time at which Twilio finishes playing what it was sent. */
  #playoutEndMs = -Infinity;
  #chunksSinceMark = 0;
  #markDue = false;
  #flushRequested = false;
  #lastCount = 0;
  /** Outstanding marks: a ring of timeline places and cleared flags, named by slot. */
  readonly #markPlace: Float64Array;
  readonly #markCleared: Uint8Array;
  /** Per mark: whether one of its chunks went out to a dry Twilio buffer (a talkspurt began). */
  readonly #markDry: Uint8Array;
  #groupDry = false;
  /** `#sent` when the last `clear()` came: the end of what Twilio could have played. */
  #sentAtClear = 0;
  readonly #markNames: readonly string[];
  readonly #slotOf: ReadonlyMap<string, number>;
  #markHead = 0;
  #markCount = 0;
  /** Marks ever created and ever retired (echoed or skipped past): absolute indices of the ring's marks. */
  #marksCreated = 0;
  #marksRetired = 0;
  /** Marks created before the last `clear()` (absolute), and whether its `fence()` is still due. */
  #clearBoundary = 0;
  #fenceDue = false;
  #lastMark = '';
  #lastMarkSlot = 0;
  #marksSkipped = 0;

  constructor(options: TwilioPacerOptions = {}) {
    this.#clock = options.clock ?? (() => performance.now());
    this.#leadMs = Math.max(CHUNK_MS, options.leadMs ?? 60);
    this.#markEvery = Math.max(1, Math.floor(options.markEveryChunks ?? 1));
    const capacityMs = Math.max(CHUNK_MS, options.capacityMs ?? 60_000);
    this.#queue = new Uint8Array(Math.ceil(capacityMs * TWILIO_BYTES_PER_MS));
    const maxMarks = Math.max(1, Math.floor(options.maxMarks ?? 1024));
    this.#markPlace = new Float64Array(maxMarks);
    this.#markCleared = new Uint8Array(maxMarks);
    this.#markDry = new Uint8Array(maxMarks);
    const prefix = options.markPrefix ?? 'sb';
    const names: string[] = [];
    const slotOf = new Map<string, number>();
    for (let i = 0; i < maxMarks; i++) {
      names.push(`${prefix}${i}`);
      slotOf.set(names[i]!, i);
    }
    this.#markNames = names;
    this.#slotOf = slotOf;
  }

  /** Appends µ-law bytes; returns how many fit (the rest is refused, not queued). */
  enqueue(codes: Uint8Array, count = codes.length): number {
    const cap = this.#queue.length;
    const n = Math.max(0, Math.min(count, codes.length, cap - this.#queued));
    let tail = (this.#head + this.#queued) % cap;
    for (let i = 0; i < n; i++) {
      this.#queue[tail] = codes[i]!;
      tail = tail + 1 === cap ? 0 : tail + 1;
    }
    this.#queued += n;
    this.#accepted += n;
    this.#flushRequested = false;
    return n;
  }

  /** Lets a trailing partial chunk (the end of a reply) go out short instead of waiting for more audio. */
  flush(): void {
    this.#flushRequested = true;
  }

  /**
   * The next thing to send: PACER_MEDIA (µ-law in `out`, `lastCount` bytes),
   * PACER_MARK (`lastMark`) or PACER_IDLE. Call until idle on every tick.
   */
  next(out: Uint8Array): PacerAction {
    if (this.#markDue) {
      this.#markDue = false;
      if (this.#markCount === this.#markPlace.length) {
        this.#marksSkipped++;
        return this.next(out);
      }
      const slot = (this.#markHead + this.#markCount) % this.#markPlace.length;
      this.#markPlace[slot] = this.#sent;
      this.#markCleared[slot] = 0;
      this.#markDry[slot] = this.#groupDry ? 1 : 0;
      this.#groupDry = false;
      this.#markCount++;
      this.#marksCreated++;
      this.#lastMark = this.#markNames[slot]!;
      this.#lastMarkSlot = slot;
      return PACER_MARK;
    }
    const size = Math.min(TWILIO_CHUNK_BYTES, this.#queued, out.length);
    if (size === 0 || (size < TWILIO_CHUNK_BYTES && !this.#flushRequested && size === this.#queued)) return PACER_IDLE;
    const now = this.#clock();
    if (this.#playoutEndMs - now >= this.#leadMs) return PACER_IDLE;
    const cap = this.#queue.length;
    let head = this.#head;
    for (let i = 0; i < size; i++) {
      out[i] = this.#queue[head]!;
      head = head + 1 === cap ? 0 : head + 1;
    }
    this.#head = head;
    if (this.#playoutEndMs < now) this.#groupDry = true;
    this.#queued -= size;
    this.#sent += size;
    this.#lastCount = size;
    // Twilio starts a chunk when its buffer runs dry or when the one before ends.
    this.#playoutEndMs = Math.max(this.#playoutEndMs, now) + size / TWILIO_BYTES_PER_MS;
    if (++this.#chunksSinceMark >= this.#markEvery || this.#queued === 0) {
      this.#chunksSinceMark = 0;
      this.#markDue = true;
    }
    return PACER_MEDIA;
  }

  /** Bytes written by the last PACER_MEDIA. */
  get lastCount(): number {
    return this.#lastCount;
  }
  /** Slot of the mark to send after the last PACER_MARK (its name is the prefix and this number). */
  get lastMarkSlot(): number {
    return this.#lastMarkSlot;
  }
  /** Name of the mark to send after the last PACER_MARK. */
  get lastMark(): string {
    return this.#lastMark;
  }

  /**
   * Takes Twilio's echo of a mark. Twilio echoes in order, so older
   * outstanding marks are retired with it.
   */
  onMarkEcho(name: string): EchoKind {
    const slot = this.#slotOf.get(name);
    return slot === undefined ? ECHO_UNKNOWN : this.onMarkEchoSlot(slot);
  }

  /** `onMarkEcho` by the mark's slot number (the digits after the prefix): no string on the path. */
  onMarkEchoSlot(slot: number): EchoKind {
    if (!(slot >= 0 && slot < this.#markPlace.length) || slot % 1 !== 0) return ECHO_UNKNOWN;
    const size = this.#markPlace.length;
    const age = (slot - this.#markHead + size) % size;
    if (age >= this.#markCount) return ECHO_UNKNOWN;
    const cleared = this.#markCleared[slot] === 1;
    if (!cleared) this.#heard = Math.max(this.#heard, this.#markPlace[slot]!);
    this.#markHead = (slot + 1) % size;
    this.#markCount -= age + 1;
    this.#marksRetired += age + 1;
    return cleared ? ECHO_CLEARED : ECHO_PLAYED;
  }

  /**
   * Drops the queued audio (send `clear` to Twilio alongside, then `fence()`); returns the
   * milliseconds dropped that were never sent. Twilio drops what it was sent
   * and had not played: `sentMs() - heardMs()` read just before this call.
   */
  clear(): number {
    const droppedBytes = this.#queued;
    this.#head = 0;
    this.#queued = 0;
    this.#dropped += droppedBytes;
    this.#markDue = false;
    this.#chunksSinceMark = 0;
    this.#flushRequested = false;
    this.#clearBoundary = this.#marksCreated;
    this.#fenceDue = true;
    this.#groupDry = false;
    this.#sentAtClear = this.#sent;
    // The sent position becomes the end of what Twilio could have played.
    this.#sent = this.#accepted;
    this.#playoutEndMs = -Infinity;
    return droppedBytes / TWILIO_BYTES_PER_MS;
  }

  /**
   * The `clear` has been sent: the marks still outstanding from before it can
   * only come back as Twilio's flush of its buffer, so their echoes will not
   * count as heard. `sinceEchoMs`: how long before the clear went out the
   * newest mark echo came (NaN when none has); what played in that time
   * counts as heard (see the top of this file).
   */
  fence(sinceEchoMs = Number.NaN): void {
    if (!this.#fenceDue) return;
    this.#fenceDue = false;
    const size = this.#markPlace.length;
    const pending = Math.min(this.#markCount, this.#clearBoundary - this.#marksRetired);
    if (sinceEchoMs > 0) this.#extrapolate(pending, this.#heard + sinceEchoMs * TWILIO_BYTES_PER_MS);
    for (let i = 0; i < pending; i++) this.#markCleared[(this.#markHead + i) % size] = 1;
  }

  /** Moves `#heard` to the pending mark nearest `estimate`, through continuous playout only. */
  #extrapolate(pending: number, estimate: number): void {
    const size = this.#markPlace.length;
    let best = this.#heard;
    for (let i = 0; i < pending; i++) {
      const slot = (this.#markHead + i) % size;
      const place = this.#markPlace[slot]!;
      if (this.#markDry[slot] === 1 || place > this.#sentAtClear) break;
      if (Math.abs(place - estimate) < Math.abs(best - estimate)) best = place;
      else if (place > estimate) break;
    }
    this.#heard = best;
  }

  /** After a clear: fenced, and every mark sent before it is back, so `heardMs()` is final for the interrupted audio. */
  clearSettled(): boolean {
    return !this.#fenceDue && this.#marksRetired >= this.#clearBoundary;
  }

  /** Timeline place of the next accepted byte, in ms: where a new reply starts. */
  positionMs(): number {
    return this.#accepted / TWILIO_BYTES_PER_MS;
  }
  /** Timeline place up to which the caller has heard, in ms (from echoed marks only). */
  heardMs(): number {
    return this.#heard / TWILIO_BYTES_PER_MS;
  }
  /** Timeline place up to which audio was sent (or, after `clear`, given up), in ms. */
  sentMs(): number {
    return this.#sent / TWILIO_BYTES_PER_MS;
  }
  /** Audio waiting here, in ms. */
  queuedMs(): number {
    return this.#queued / TWILIO_BYTES_PER_MS;
  }
  /** Audio dropped by `clear` before it was sent, in ms. */
  droppedMs(): number {
    return this.#dropped / TWILIO_BYTES_PER_MS;
  }
  /** Marks sent and not yet echoed. */
  outstandingMarks(): number {
    return this.#markCount;
  }
  /** Chunks that went without a mark because `maxMarks` were outstanding. */
  marksSkipped(): number {
    return this.#marksSkipped;
  }
}
