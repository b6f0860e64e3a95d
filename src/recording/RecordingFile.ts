import { closeSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { FrameMeta, type FrameRing } from '../frames/FrameRing.ts';
import { WAV_DATA_SIZE_AT, WAV_HEADER_BYTES, WAV_RIFF_SIZE_AT, wavHeader } from '../wire/wav.ts';

/** The engine's frame (DESIGN: audio frames); a tap writes one per tick. */
const FRAME_MS = 20;
/** Frames held per channel until every channel has them: 5.12 s, twice a tap ring. */
const WINDOW_FRAMES = 256;
/** A channel this far behind the others (or not started) is written as silence rather than held: 1 s. */
const LAG_FRAMES = 50;
/** The header's sizes are rewritten at least this often, so a killed process leaves a WAV valid to within a second. */
export const HEADER_EVERY_MS = 1000;

/** What a recording has written and lost so far. */
export interface RecordingFigures {
  /** Frames (of every channel at once) in the file. */
  frames: number;
  /** Bytes of samples in the file. */
  dataBytes: number;
  /** Frames a tap could not put in its ring (the writer or the disk fell behind): silence in the file. */
  droppedFrames: number;
  /** Frames that came after their place was written (a channel that started late). */
  lateFrames: number;
  /** Frames of a wrong rate or length, skipped. */
  badFrames: number;
}

export interface RecordingError {
  /** The system error code (ENOSPC: the disk is full), or `EIO`. */
  code: string;
  message: string;
}

export interface RecordingFileOptions {
  /** Opens the file for writing and answers its descriptor (default: create it, failing if it exists). */
  open?: (path: string) => number;
}

/**
 * A recording being written: N channels, each a `record` ring one actor
 * fills with one frame per tick (actors/RecordTap.ts), interleaved into a
 * 16-bit PCM WAV file. Runs on the recording writer thread, never on a tick.
 *
 * Placement: a channel's first frame is placed against the recording's first
 * frame by the stamps both carry (when each was made, to the nearest frame);
 * every later frame by its tick index, so both channels stay sample-aligned
 * whatever the rings drop. A window of frames waits until every channel has
 * delivered them; a channel that lags a second or more is written as silence.
 *
 * Crash safety: samples go to the file before the header says they are
 * there, and the header is rewritten at least every HEADER_EVERY_MS, so a
 * process killed at any moment leaves a valid WAV of everything but the last
 * second at most (the data after the declared size is ignored by readers).
 */
export class RecordingFile {
  readonly channels: number;
  readonly rateHz: number;
  readonly #rings: readonly FrameRing[];
  readonly #spf: number;
  readonly #fd: number;
  /** Per channel: WINDOW_FRAMES frames of samples, by frame index mod the window. */
  readonly #stage: Int16Array[];
  /** Per channel: which window slots hold a frame. */
  readonly #have: Uint8Array[];
  readonly #out: Int16Array;
  readonly #frame: Int16Array;
  readonly #meta = new FrameMeta();
  /** Per channel: its first frame's tick and place, once it has one; the highest place + 1 seen. */
  readonly #firstTick: number[];
  readonly #firstIndex: number[];
  readonly #hi: number[];
  /** The made stamp (a tap frame's timestamp: µs, mod 2^32) of the recording's frame 0, once there is one. */
  #refStamp: number | undefined;
  /** The next frame index to write. */
  #next = 0;
  #headerAt = 0;
  #closed = false;
  error: RecordingError | undefined;
  readonly figures: RecordingFigures = { frames: 0, dataBytes: 0, droppedFrames: 0, lateFrames: 0, badFrames: 0 };

  constructor(path: string, rings: readonly FrameRing[], rateHz: number, opts: RecordingFileOptions = {}) {
    if (endianness() !== 'LE') throw new RangeError('recording: WAV samples are written as this machine stores them, little-endian only');
    if (rings.length < 1 || rings.length > 8) throw new RangeError(`recording: 1–8 channels [got:${rings.length}]`);
    const spf = (rateHz * FRAME_MS) / 1000;
    if (!Number.isInteger(spf) || spf < 1) throw new RangeError(`recording: no whole 20 ms frame at ${rateHz} Hz`);
    this.channels = rings.length;
    this.rateHz = rateHz;
    this.#rings = rings;
    this.#spf = spf;
    this.#stage = rings.map(() => new Int16Array(WINDOW_FRAMES * spf));
    this.#have = rings.map(() => new Uint8Array(WINDOW_FRAMES));
    this.#out = new Int16Array(WINDOW_FRAMES * spf * rings.length);
    this.#frame = new Int16Array(Math.max(...rings.map((r) => r.maxSamples)));
    this.#firstTick = rings.map(() => -1);
    this.#firstIndex = rings.map(() => 0);
    this.#hi = rings.map(() => 0);
    this.#fd = (opts.open ?? ((p: string) => openSync(p, 'wx')))(path);
    try {
      writeSync(this.#fd, wavHeader(this.channels, rateHz, 0), 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      closeSync(this.#fd);
      throw err;
    }
  }

  /** Takes what the taps wrote since the last call and writes every frame all channels have (or that waited too long). */
  drain(nowMs: number): void {
    if (this.#closed) return;
    this.#takeFrames();
    this.#commit(this.#commitTarget());
    this.#countDrops();
    if (nowMs - this.#headerAt >= HEADER_EVERY_MS) this.#writeSizes(nowMs);
  }

  /** Writes what is left, the final sizes, and closes the file; safe to call twice. */
  close(nowMs: number): RecordingFigures {
    if (this.#closed) return this.figures;
    this.#takeFrames();
    this.#commit(Math.max(...this.#hi));
    this.#countDrops();
    this.#writeSizes(nowMs);
    this.#closed = true;
    try {
      closeSync(this.#fd);
    } catch (err) {
      this.#fail(err);
    }
    return this.figures;
  }

  #takeFrames(): void {
    const meta = this.#meta;
    // Channels not started yet: the earliest first frame among them is frame 0 when nothing is placed yet.
    if (this.#refStamp === undefined) {
      for (const ring of this.#rings) {
        if (!ring.peek(meta)) continue;
        if (this.#refStamp === undefined || ((meta.timestamp - this.#refStamp) | 0) < 0) this.#refStamp = meta.timestamp;
      }
    }
    for (let c = 0; c < this.#rings.length; c++) {
      const ring = this.#rings[c]!;
      while (ring.read(this.#frame, meta)) {
        if (meta.rateHz !== this.rateHz || meta.sampleCount !== this.#spf) {
          this.figures.badFrames++;
          continue;
        }
        if (this.#firstTick[c]! < 0) {
          this.#refStamp ??= meta.timestamp;
          this.#firstTick[c] = meta.sequence;
          this.#firstIndex[c] = Math.max(0, Math.round(((meta.timestamp - this.#refStamp!) | 0) / (FRAME_MS * 1000)));
        }
        this.#place(c, this.#firstIndex[c]! + ((meta.sequence - this.#firstTick[c]!) >>> 0));
      }
    }
  }

  #place(c: number, index: number): void {
    if (index < this.#next) {
      this.figures.lateFrames++;
      return;
    }
    // Beyond the window: what it holds is written first (a channel that stalled gets silence there).
    if (index >= this.#next + WINDOW_FRAMES) this.#commit(index - WINDOW_FRAMES + 1);
    const slot = index % WINDOW_FRAMES;
    this.#stage[c]!.set(this.#frame.subarray(0, this.#spf), slot * this.#spf);
    this.#have[c]![slot] = 1;
    if (index + 1 > this.#hi[c]!) this.#hi[c] = index + 1;
  }

  /** Everything every started channel has; what one has held for more than LAG_FRAMES regardless. */
  #commitTarget(): number {
    const most = Math.max(...this.#hi);
    let all = most;
    for (let c = 0; c < this.#rings.length; c++) all = Math.min(all, this.#firstTick[c]! < 0 ? this.#next : this.#hi[c]!);
    return Math.max(all, most - LAG_FRAMES);
  }

  /** Writes frames [next, upTo) interleaved, silence where a channel has none. */
  #commit(upTo: number): void {
    const spf = this.#spf;
    const n = this.channels;
    while (this.#next < upTo) {
      const count = Math.min(upTo - this.#next, WINDOW_FRAMES - (this.#next % WINDOW_FRAMES));
      const out = this.#out;
      for (let f = 0; f < count; f++) {
        const slot = (this.#next + f) % WINDOW_FRAMES;
        for (let c = 0; c < n; c++) {
          const have = this.#have[c]![slot] === 1;
          const stage = this.#stage[c]!;
          const from = slot * spf;
          for (let i = 0; i < spf; i++) out[(f * spf + i) * n + c] = have ? stage[from + i]! : 0;
          this.#have[c]![slot] = 0;
        }
      }
      this.#next += count;
      this.#writeSamples(out, count * spf * n);
    }
  }

  #writeSamples(samples: Int16Array, count: number): void {
    if (this.error !== undefined) return;
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, count * 2);
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(this.#fd, bytes, at, bytes.length - at, WAV_HEADER_BYTES + this.figures.dataBytes + at);
      this.figures.dataBytes += bytes.length;
      this.figures.frames += count / (this.#spf * this.channels);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The RIFF and data sizes, after the samples they cover are in the file. */
  #writeSizes(nowMs: number): void {
    this.#headerAt = nowMs;
    if (this.error !== undefined) return;
    const word = new Uint8Array(4);
    const view = new DataView(word.buffer);
    try {
      view.setUint32(0, 36 + this.figures.dataBytes, true);
      writeSync(this.#fd, word, 0, 4, WAV_RIFF_SIZE_AT);
      view.setUint32(0, this.figures.dataBytes, true);
      writeSync(this.#fd, word, 0, 4, WAV_DATA_SIZE_AT);
    } catch (err) {
      this.#fail(err);
    }
  }

  #countDrops(): void {
    let dropped = 0;
    for (const r of this.#rings) dropped += r.overflows;
    this.figures.droppedFrames = dropped;
  }

  #fail(err: unknown): void {
    if (this.error !== undefined) return;
    const code = typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code! : 'EIO';
    this.error = { code, message: code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : (err as Error).message };
  }
}
