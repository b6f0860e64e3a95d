import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../log.ts';
import { readWavDataBytes } from './wavHeader.ts';
import { EMPTY_FIGURES, RECORDING_FORMATS, RECORDING_ID, type RecordingFormat, type RecordingInfo } from './RecordingInfo.ts';

const DAY_MS = 86_400_000;

/**
 * The recordings directory: `<id>.wav` written live, `<id>.opus` and
 * `<id>.mp3` from the post-call jobs, `<id>.json` the metadata. Every path
 * is made here from an id the daemon generated (a UUID it holds in memory);
 * a client's id is only ever a key looked up in that map, never part of a
 * path, so `../` and friends find nothing.
 */
export class RecordingStore {
  readonly dir: string;
  readonly #log: Logger;
  readonly #items = new Map<string, RecordingInfo>();
  /** Metadata writes in flight per id, chained so the file ends with the last state. */
  readonly #saving = new Map<string, Promise<void>>();

  #made = false;
  /** One line per window however many calls find the directory unusable. */
  readonly #dirLog: RateLimitedLog;

  /** The directory is made with the first recording (a daemon that never records leaves no trace). */
  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.#log = log;
    this.#dirLog = new RateLimitedLog(log);
  }

  /** Reads the metadata the directory holds (the daemon restarted); a recording still `recording` was cut: `interrupted`. */
  load(): number {
    if (!existsSync(this.dir)) return 0;
    for (const name of readdirSync(this.dir)) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (!RECORDING_ID.test(id)) continue;
      try {
        const info = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as RecordingInfo;
        if (info.id !== id) continue;
        if (info.state === 'recording') this.#interrupted(info);
        this.#items.set(id, info);
      } catch (err) {
        this.#log.warn({ file: name, err }, 'recording metadata unreadable; left alone');
      }
    }
    return this.#items.size;
  }

  #interrupted(info: RecordingInfo): void {
    info.state = 'interrupted';
    try {
      const dataBytes = readWavDataBytes(this.path(info.id, 'wav'));
      info.figures = { ...EMPTY_FIGURES, ...info.figures, dataBytes };
      info.durationS = dataBytes / (2 * info.channels.length * info.rateHz);
      info.files.wav = dataBytes + 44;
    } catch (err) {
      this.#log.warn({ recording: info.id, err }, 'interrupted recording unreadable');
    }
    this.save(info);
  }

  /** The file of a recording in a format: made from the id, which must be one of ours. */
  path(id: string, format: RecordingFormat | 'json'): string {
    if (!RECORDING_ID.test(id)) throw new RangeError(`not a recording id [id:${JSON.stringify(id.slice(0, 64))}]`);
    return join(this.dir, `${id}.${format}`);
  }

  /** Holds a new recording; a directory that cannot be made is left for the writer's open to report (the call goes on). */
  add(info: RecordingInfo): void {
    if (!this.#made) {
      try {
        mkdirSync(this.dir, { recursive: true });
        this.#made = true;
      } catch (err) {
        this.#dirLog.warn('recording-dir', { dir: this.dir, err }, 'recording directory cannot be made');
      }
    }
    this.#items.set(info.id, info);
    this.save(info);
  }

  get(id: string): RecordingInfo | undefined {
    return this.#items.get(id);
  }

  list(): RecordingInfo[] {
    return [...this.#items.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  byCall(callId: string): RecordingInfo | undefined {
    for (const r of this.#items.values()) if (r.callId === callId) return r;
    return undefined;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Writes the metadata beside the audio (atomically: a temporary file renamed over it). */
  save(info: RecordingInfo): Promise<void> {
    const file = this.path(info.id, 'json');
    const previous = this.#saving.get(info.id) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!this.#items.has(info.id)) return;
      try {
        await writeFile(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`);
        await rename(`${file}.tmp`, file);
      } catch (err) {
        this.#log.warn({ recording: info.id, err }, 'recording metadata not saved');
      }
    });
    this.#saving.set(info.id, next);
    void next.then(() => {
      if (this.#saving.get(info.id) === next) this.#saving.delete(info.id);
    });
    return next;
  }

  /** Removes a recording and its files; false when there is none. */
  async delete(id: string): Promise<boolean> {
    const info = this.#items.get(id);
    if (info === undefined) return false;
    this.#items.delete(id);
    await this.#saving.get(id);
    await Promise.all(
      [...RECORDING_FORMATS, 'json' as const].map((f) => rm(this.path(id, f), { force: true }).catch((err: unknown) => this.#log.warn({ recording: id, err }, 'recording file not removed'))),
    );
    return true;
  }

  /** Deletes finished recordings older than `retentionDays` (by their end, else their start); answers how many. */
  async sweep(retentionDays: number, nowMs: number, busy: (id: string) => boolean): Promise<number> {
    let n = 0;
    for (const info of [...this.#items.values()]) {
      const at = Date.parse(info.endedAt ?? info.startedAt);
      if (info.state === 'recording' || busy(info.id) || !(nowMs - at > retentionDays * DAY_MS)) continue;
      if (await this.delete(info.id)) n++;
    }
    return n;
  }

  /** Bytes of a recording's file in a format, or undefined when it has none. */
  async fileBytes(id: string, format: RecordingFormat): Promise<number | undefined> {
    try {
      return (await stat(this.path(id, format))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
