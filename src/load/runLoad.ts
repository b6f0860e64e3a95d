import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../supervisor/workerEntry.ts';
import { codecRateHz } from './callerCodec.ts';
import { nowMs } from './CallerThread.ts';
import { startDaemonChild, type DaemonChild } from './daemonChild.ts';
import { daemonRequest, DaemonUnreachableError } from './daemonHttp.ts';
import { LatencyHistogram } from './LatencyHistogram.ts';
import type { CallerPlan, CallResult, FromCallerThread, ThreadProgress, ThreadRun, ToCallerThread } from './loadProtocol.ts';
import { impairmentSettings, validateLoadOptions, type LoadOptions } from './LoadOptions.ts';
import { streamSeed } from './prng.ts';
import { buildReport, mergeLatency, type DriverFigures, type LoadReport } from './report.ts';
import { corpusFiles } from './speechSource.ts';
import { StatusSampler, type DaemonSample } from './statusSampler.ts';
import { freeUdpPort } from './freeUdpPort.ts';

/**
 * A load run: N synthetic callers on caller threads against a daemon — the
 * target's, or one started for the run as a child process — sampled once a
 * second, then a report. The main thread only orchestrates: it plans the
 * calls (thread, start time by the ramp, transport, seed), samples the daemon
 * and itself, merges what the threads report, and stops what it started.
 */

export interface LoadSample {
  /** Seconds since the run began. */
  t: number;
  live: number;
  completed: number;
  refused: number;
  failed: number;
  /** Returned frames so far as % of those expected. */
  returnedPct: number | null;
  daemon: DaemonSample | undefined;
  driverCpuPct: number;
}

export interface LoadHooks {
  onSample?(s: LoadSample): void;
  /** Something the user should know (no corpus, a thread's failure). */
  onNotice?(message: string): void;
  /** Aborting ends the run early: callers hang up and the report covers what ran. */
  signal?: AbortSignal;
}

const SAMPLE_EVERY_MS = 1000;
/** Time for the first calls' set-up after the threads start. */
const LEAD_MS = 300;
/** Beyond the ramp and the calls' duration: set-up and hang-up of the last calls. */
const OVERRUN_MS = 60_000;

export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadReport> {
  const o = validateLoadOptions(options, availableParallelism());
  const notices: string[] = [];
  const notice = (m: string): void => {
    notices.push(m);
    hooks.onNotice?.(m);
  };
  const rateHz = codecRateHz(o.codec);
  const corpus = corpusFiles(o.speechDir, rateHz);
  const speech = 'files' in corpus ? corpus.files.join(', ') : 'synthetic speech-like signal';
  if ('missing' in corpus) notice(`no speech corpus at ${o.speechDir} (missing ${corpus.missing}): callers speak a synthetic speech-like signal`);

  let child: DaemonChild | undefined;
  let baseUrl: string;
  let sipPort: number | undefined;
  if (o.target !== undefined) {
    baseUrl = o.target;
    await checkTarget(baseUrl);
    if (o.transport === 'sip') sipPort = o.sipPort ?? 5060;
  } else {
    // SIP callers dial the run's daemon on a port free now, every INVITE of the ramp let through.
    sipPort = o.transport === 'sip' ? await freeUdpPort() : undefined;
    const sipArgs = sipPort === undefined ? [] : ['--sip.enabled', '--sip.port', String(sipPort), '--sip.invites-per-second', String(Math.max(1000, Math.ceil(o.ramp)))];
    child = await startDaemonChild(o.streams, o.seed, sipArgs);
    baseUrl = child.baseUrl;
  }

  const startedAtMs = nowMs();
  const cpu0 = process.cpuUsage();
  const sampler = new StatusSampler(baseUrl, o.token, startedAtMs);
  const workers: Worker[] = [];
  try {
    await sampler.sample(); // the idle baseline: memory before any call
    const run: ThreadRun = {
      codec: o.codec,
      agent: o.agent,
      durationS: o.duration,
      impairments: impairmentSettings(o),
      baseUrl,
      ...(sipPort !== undefined ? { sipPort } : {}),
      ...(o.token !== undefined ? { token: o.token } : {}),
      speechDir: o.speechDir,
    };
    const plans: CallerPlan[][] = Array.from({ length: o.threads }, () => []);
    const firstAt = nowMs() + LEAD_MS;
    for (let i = 0; i < o.streams; i++) {
      const transport = o.transport === 'mixed' ? (i % 2 === 0 ? 'rtp' : 'twilio') : o.transport;
      plans[i % o.threads]!.push({ index: i, transport, startAtMs: firstAt + (1000 * i) / o.ramp, seed: streamSeed(o.seed, i) });
    }

    const calls: CallResult[] = [];
    const latency = new LatencyHistogram();
    const progress = new Map<number, ThreadProgress>();
    const driverSamples: DriverFigures['samples'] = [];
    let fatal: string | undefined;
    let remaining = o.threads;
    let finished!: () => void;
    const allDone = new Promise<void>((r) => (finished = r));
    const stopAll = (): void => {
      for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToCallerThread);
    };

    for (let t = 0; t < o.threads; t++) {
      const w = startWorker(import.meta.url, './caller.worker');
      workers.push(w);
      w.on('message', (m: FromCallerThread) => {
        switch (m.type) {
          case 'progress':
            progress.set(m.progress.thread, m.progress);
            return;
          case 'call':
            calls.push(m.result);
            mergeLatency(latency, m.result, m.latencyBins);
            return;
          case 'notice':
            notice(m.message);
            return;
          case 'fatal':
            fatal ??= m.message;
            stopAll();
            return;
          case 'done':
            if (--remaining === 0) finished();
        }
      });
      w.on('error', (err) => {
        fatal ??= `caller thread ${t} failed: ${err.message}`;
        if (--remaining === 0) finished();
      });
      w.postMessage({ type: 'start', thread: t, callers: plans[t]!, run } satisfies ToCallerThread);
    }
    const onAbort = (): void => stopAll();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const overrun = setTimeout(() => {
      notice('the run overran its time: the remaining calls were hung up');
      stopAll();
    }, LEAD_MS + (1000 * o.streams) / o.ramp + 1000 * o.duration + OVERRUN_MS);

    let prevCpu = process.cpuUsage();
    let prevAt = performance.now();
    const tick = async (): Promise<void> => {
      const daemon = await sampler.sample();
      const at = performance.now();
      const used = process.cpuUsage(prevCpu);
      const driverCpuPct = (100 * (used.user + used.system)) / ((at - prevAt) * 1000);
      prevCpu = process.cpuUsage();
      prevAt = at;
      const t = (nowMs() - startedAtMs) / 1000;
      driverSamples.push({ t, cpuPct: driverCpuPct, rssBytes: process.memoryUsage.rss() });
      const ps = [...progress.values()];
      const sum = (f: keyof ThreadProgress): number => ps.reduce((n, p) => n + p[f], 0);
      const expected = sum('returnExpected');
      hooks.onSample?.({
        t,
        live: sum('live'),
        completed: sum('completed'),
        refused: sum('refused'),
        failed: sum('failed'),
        returnedPct: expected > 0 ? (100 * sum('returned')) / expected : null,
        daemon,
        driverCpuPct,
      });
    };
    let sampling = Promise.resolve();
    const sampleTimer = setInterval(() => {
      sampling = sampling.then(tick);
    }, SAMPLE_EVERY_MS);
    await allDone;
    clearInterval(sampleTimer);
    clearTimeout(overrun);
    hooks.signal?.removeEventListener('abort', onAbort);
    await sampling;
    await sampler.sample(); // after the calls: what memory returns
    if (fatal !== undefined) throw new Error(`the load run failed: ${fatal}`);

    const elapsedMs = nowMs() - startedAtMs;
    const cpu = process.cpuUsage(cpu0);
    if (sampler.errors > 0) notice(`${sampler.errors} reads of /status failed (last: ${sampler.lastError})`);
    calls.sort((a, b) => a.index - b.index);
    return buildReport({
      startedAtMs,
      elapsedS: elapsedMs / 1000,
      options: o,
      daemon: {
        target: baseUrl,
        selfStarted: child !== undefined,
        ...(child !== undefined ? { args: child.args } : {}),
        statusErrors: sampler.errors,
        ...(sampler.errors > 0 ? { lastStatusError: sampler.lastError } : {}),
      },
      speech,
      calls,
      latency,
      samples: sampler.samples,
      runTicks: sampler.runTicks,
      runMaxTickMs: sampler.runMaxTickMs,
      runLateTicks: sampler.runLateTicks,
      driver: { threads: o.threads, cpuPct: (100 * (cpu.user + cpu.system)) / (elapsedMs * 1000), rssBytes: process.memoryUsage.rss(), samples: driverSamples },
      notices,
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await child?.stop();
  }
}

/** A target must answer: unreachable is an error; not ready is one too (its calls would be refused). */
async function checkTarget(baseUrl: string): Promise<void> {
  const res = await daemonRequest(baseUrl, 'GET', '/readyz', { timeoutMs: 5000 }).catch((err: unknown) => {
    throw err instanceof DaemonUnreachableError ? err : new DaemonUnreachableError((err as Error).message);
  });
  if (res.status !== 200) throw new DaemonUnreachableError(`the target is not ready [GET ${baseUrl}/readyz: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}]`);
}

