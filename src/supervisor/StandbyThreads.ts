import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Logger } from 'pino';
import type { WorkerBoot, WorkerControl, WorkerEvent } from '../protocol.ts';
import { startWorker } from './workerEntry.ts';

/** A worker thread that has loaded its modules and waits to be put into service. */
export interface LoadedThread {
  readonly worker: Worker;
  readonly control: Comlink.Remote<WorkerControl>;
  /** Worker → main notifications. */
  readonly events: MessagePort;
}

export interface StandbyOptions {
  /** Worker entry relative to this file, without extension. */
  entry: string;
  boot: WorkerBoot;
  /** V8 heap cap of each thread: an allocation storm kills one worker, not the daemon. */
  maxOldGenerationSizeMb: number;
  log: Logger;
  /** Keep a loaded spare (default true); without, every restart loads a new thread. */
  keepSpare?: boolean;
}

/**
 * Keeps one loaded spare thread per actor kind. Starting a thread means
 * loading and compiling its modules and the WebAssembly core (100 ms and more,
 * far more under load); a restart that takes the spare instead only has to
 * re-create its actors, which keeps crash-to-serving time to a few ms. A new
 * spare starts loading as soon as one is taken.
 */
export class StandbyThreads {
  readonly #opts: StandbyOptions;
  #spare: Promise<LoadedThread> | undefined;
  #loaded = false;
  #closed = false;

  constructor(opts: StandbyOptions) {
    this.#opts = opts;
  }

  /** True when a spare is loaded and waiting: a restart now costs one message, not a thread start. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Starts loading the spare (idempotent); resolves when it is loaded (or failed to), at once when spares are off. */
  async warm(): Promise<void> {
    if (this.#closed || this.#opts.keepSpare === false) return;
    if (this.#spare === undefined) {
      const spare = this.#load();
      // A spare that dies while waiting is dropped; the next take() loads anew.
      spare.then(
        () => void (this.#loaded = this.#spare === spare),
        () => undefined,
      );
      this.#spare = spare;
    }
    await this.#spare.then(
      () => undefined,
      () => undefined,
    );
  }

  /** A loaded thread: the spare if there is one, else a new one; then a new spare loads. */
  async take(): Promise<LoadedThread> {
    if (this.#closed) throw new Error('standby threads closed');
    const spare = this.#spare ?? this.#load();
    this.#spare = undefined;
    this.#loaded = false;
    try {
      const thread = await spare;
      // A spare that died while it waited has threadId -1.
      return thread.worker.threadId >= 0 ? thread : await this.#load();
    } catch {
      return this.#load();
    } finally {
      void this.warm();
    }
  }

  /** Terminates the spare; no more threads are loaded. */
  async close(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined) {
      const t = await spare.catch(() => undefined);
      t?.events.close();
      await t?.worker.terminate();
    }
  }

  #load(): Promise<LoadedThread> {
    const { port1, port2 } = new MessageChannel();
    const worker = startWorker(import.meta.url, this.#opts.entry, {
      workerData: { ...this.#opts.boot, events: port2 },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.maxOldGenerationSizeMb },
    });
    return new Promise<LoadedThread>((resolve, reject) => {
      const fail = (why: string): void => {
        port1.close();
        this.#opts.log.warn({ kind: this.#opts.boot.kind, why }, 'worker thread did not load');
        reject(new Error(`worker thread did not load [kind:${this.#opts.boot.kind}]: ${why}`));
      };
      const onError = (err: Error): void => fail(`threw: ${err.message}`);
      const onExit = (code: number): void => fail(`exited with code ${code}`);
      worker.once('error', onError);
      worker.once('exit', onExit);
      port1.once('message', (e: WorkerEvent) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (e.type !== 'worker.loaded') {
          fail(`unexpected first event ${e.type}`);
          return;
        }
        resolve({ worker, control: Comlink.wrap<WorkerControl>(nodeEndpoint(worker)), events: port1 });
      });
    });
  }
}
