import { codecRateHz } from './callerCodec.ts';
import type { Caller, CallerContext, ThreadSpeech } from './Caller.ts';
import { CallRefusedError } from './daemonHttp.ts';
import { sourceEnvelope } from './LatencyAligner.ts';
import type { CallerPlan, FromCallerThread, ThreadProgress, ThreadRun } from './loadProtocol.ts';
import { loadSpeech } from './speechSource.ts';
import { loadTransport, type TransportName } from './transports.ts';

/**
 * The callers of one thread and their clock. Each caller speaks at its own
 * phase within the 20 ms frame (its index modulo 20, in milliseconds), so a
 * thread's packets leave spread over the frame rather than in one burst. The
 * clock is drift-free: frame k of a caller is due at its start + 20·k ms,
 * and a late wake-up sends every frame that fell due (a real sender's audio
 * clock does not skip either); each frame is stamped with the time it
 * actually left. While any packet is held by the jitter or reordering
 * impairments the thread wakes every millisecond to release it.
 */

const FRAME_MS = 20;
const PROGRESS_EVERY_MS = 1000;

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

interface Live {
  caller: Caller;
  k: number;
  /** Millisecond (of the thread's clock) frame k is due at. */
  dueMs: number;
}

export class CallerThread {
  readonly #thread: number;
  readonly #plans: readonly CallerPlan[];
  readonly #run: ThreadRun;
  readonly #post: (m: FromCallerThread) => void;
  #speech: ThreadSpeech | undefined;
  readonly #factories = new Map<TransportName, (ctx: CallerContext) => Caller>();
  readonly #t0 = Math.floor(nowMs());
  /** Live callers by phase (ms within the frame). */
  readonly #slots: Live[][] = Array.from({ length: FRAME_MS }, () => []);
  #live = 0;
  #lastMs = -1;
  #timer: NodeJS.Timeout | undefined;
  #startTimers: NodeJS.Timeout[] = [];
  #progressTimer: NodeJS.Timeout | undefined;
  #pending: number;
  #stopping = false;
  #started = 0;
  readonly #progress: ThreadProgress;
  /** Figures of callers that have finished, so progress counts them once they leave. */
  #doneFrames = 0;
  #doneReturned = 0;
  #doneExpected = 0;
  readonly #finishing = new Set<Promise<void>>();

  constructor(thread: number, plans: readonly CallerPlan[], run: ThreadRun, post: (m: FromCallerThread) => void) {
    this.#thread = thread;
    this.#plans = plans;
    this.#run = run;
    this.#post = post;
    this.#pending = plans.length;
    this.#progress = { thread, live: 0, completed: 0, refused: 0, failed: 0, framesSent: 0, returned: 0, returnExpected: 0 };
  }

  async start(): Promise<void> {
    const rateHz = codecRateHz(this.#run.codec);
    const source = loadSpeech(this.#run.speechDir, rateHz);
    const frameSamples = (rateHz * FRAME_MS) / 1000;
    const frames: Int16Array[] = [];
    for (let at = 0; at + frameSamples <= source.samples.length; at += frameSamples) frames.push(source.samples.subarray(at, at + frameSamples));
    this.#speech = { rateHz, frames, envelope: sourceEnvelope(source.samples, rateHz) };
    for (const name of new Set(this.#plans.map((p) => p.transport))) this.#factories.set(name, await loadTransport(name));
    if (this.#plans.length === 0) {
      this.#post({ type: 'done', thread: this.#thread });
      return;
    }
    for (const plan of this.#plans) {
      this.#startTimers.push(setTimeout(() => void this.#startCaller(plan), Math.max(0, plan.startAtMs - nowMs())));
    }
    this.#progressTimer = setInterval(() => this.#postProgress(), PROGRESS_EVERY_MS);
  }

  /** Ends the run early: callers not yet started are dropped, live ones hang up now. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of this.#startTimers) clearTimeout(t);
    // Callers whose start had not come will not report.
    this.#pending -= this.#plans.length - this.#started;
    for (const slot of this.#slots) for (const live of slot.splice(0)) this.#finish(live.caller);
    this.#live = 0;
    await Promise.allSettled([...this.#finishing]);
    this.#maybeDone();
  }

  async #startCaller(plan: CallerPlan): Promise<void> {
    if (this.#stopping) return;
    this.#started++;
    const factory = this.#factories.get(plan.transport)!;
    let caller: Caller;
    try {
      caller = factory({ index: plan.index, seed: plan.seed, run: this.#run, speech: this.#speech!, now: nowMs });
    } catch (err) {
      this.#post({ type: 'fatal', message: `cannot create caller ${plan.index}: ${(err as Error).message}` });
      return;
    }
    try {
      await caller.open();
    } catch (err) {
      const refused = err instanceof CallRefusedError;
      caller.abandon();
      this.#report(caller, refused ? 'refused' : 'failed', (err as Error).message);
      return;
    }
    if (this.#stopping) {
      this.#finish(caller);
      return;
    }
    const phase = plan.index % FRAME_MS;
    const nowIdx = Math.floor(nowMs() - this.#t0);
    const dueMs = nowIdx + ((phase - (nowIdx % FRAME_MS) + FRAME_MS) % FRAME_MS);
    this.#slots[phase]!.push({ caller, k: 0, dueMs });
    this.#live++;
    if (this.#lastMs < 0) this.#lastMs = nowIdx - 1;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#live === 0) return;
    let next = this.#lastMs + 1;
    if (!this.#anyQueued()) {
      // The next millisecond that has callers due.
      for (let i = 0; i < FRAME_MS && this.#slots[next % FRAME_MS]!.length === 0; i++) next++;
    }
    this.#timer = setTimeout(() => this.#wake(), Math.max(0, this.#t0 + next - nowMs()));
  }

  #anyQueued(): boolean {
    for (const slot of this.#slots) for (const live of slot) if (live.caller.hasQueued) return true;
    return false;
  }

  #wake(): void {
    this.#timer = undefined;
    const now = nowMs();
    const nowIdx = Math.floor(now - this.#t0);
    let ended = false;
    for (let ms = this.#lastMs + 1; ms <= nowIdx; ms++) {
      const slot = this.#slots[ms % FRAME_MS]!;
      for (let i = 0; i < slot.length; i++) {
        const live = slot[i]!;
        while (live.dueMs <= ms && live.k < live.caller.totalFrames) {
          live.caller.tick(live.k, now);
          live.k++;
          live.dueMs += FRAME_MS;
        }
        if (live.k >= live.caller.totalFrames || live.caller.endedEarly !== undefined) ended = true;
      }
    }
    this.#lastMs = nowIdx;
    for (const slot of this.#slots) for (let i = 0; i < slot.length; i++) slot[i]!.caller.releaseDue(now);
    if (ended) this.#retire();
    this.#schedule();
  }

  /** Takes callers that have said everything (or whose call the daemon ended) off the clock. */
  #retire(): void {
    for (const slot of this.#slots) {
      for (let i = slot.length - 1; i >= 0; i--) {
        const live = slot[i]!;
        if (live.k < live.caller.totalFrames && live.caller.endedEarly === undefined) continue;
        slot.splice(i, 1);
        this.#live--;
        this.#finish(live.caller);
      }
    }
  }

  #finish(caller: Caller): void {
    const p = caller
      .finish()
      .then(
        () => {
          const early = caller.endedEarly;
          if (early === undefined) this.#report(caller, 'completed');
          else this.#report(caller, early.refused ? 'refused' : 'failed', early.reason);
        },
        (err: unknown) => this.#report(caller, 'failed', (err as Error).message),
      )
      .finally(() => {
        this.#finishing.delete(p);
        this.#maybeDone();
      });
    this.#finishing.add(p);
  }

  #report(caller: Caller, outcome: 'completed' | 'refused' | 'failed', error?: string): void {
    const { result, latencyBins } = caller.result(outcome, error);
    this.#progress[outcome]++;
    this.#doneFrames += result.framesSent;
    this.#doneReturned += Math.min(result.returned, result.returnExpected);
    this.#doneExpected += result.returnExpected;
    this.#post({ type: 'call', result, latencyBins });
    this.#pending--;
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#pending > 0 || this.#finishing.size > 0) return;
    clearInterval(this.#progressTimer);
    this.#postProgress();
    this.#post({ type: 'done', thread: this.#thread });
  }

  #postProgress(): void {
    const p = this.#progress;
    p.live = this.#live;
    p.framesSent = this.#doneFrames;
    p.returned = this.#doneReturned;
    p.returnExpected = this.#doneExpected;
    for (const slot of this.#slots) {
      for (const { caller } of slot) {
        p.framesSent += caller.framesSent;
        p.returned += Math.min(caller.receivedLive, caller.returnExpected);
        p.returnExpected += caller.returnExpected;
      }
    }
    this.#post({ type: 'progress', progress: { ...p } });
  }
}
