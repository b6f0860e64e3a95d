import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { captureKind } from '../../src/actors/capture/kind.ts';
import { syntheticTransport } from '../../src/calls/transports.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../helpers/logger.ts';

/**
 * A worker the machine gives no CPU is starved, not hung: the watchdog reads
 * its kernel thread's run-queue wait and does not restart it (a restart on a
 * starved machine is slow and cuts every call on the worker). The starvation
 * is made for real: the worker's thread is moved to SCHED_IDLE on core 0,
 * where two busy processes leave it almost no time for 1.5 s.
 */
const linux = process.platform === 'linux';
let sup: Supervisor | undefined;
const hogs: ChildProcess[] = [];
afterEach(async () => {
  for (const h of hogs) h.kill('SIGKILL');
  hogs.length = 0;
  await sup?.stop();
  sup = undefined;
  if (linux) execFileSync('taskset', ['-p', '-c', `0-${availableParallelism() - 1}`, String(process.pid)], { stdio: 'ignore' });
});

describe.runIf(linux)('a starved worker', () => {
  it('is not restarted while it waits for a CPU; its starved time is reported, and it beats again after', async () => {
    const { log, lines } = memoryLogger();
    sup = new Supervisor({
      poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
      logLevel: 'warn',
      log,
      kinds: { capture: captureKind },
      transports: [syntheticTransport],
    });
    await sup.start();
    await sup.createCall({ transport: 'synthetic' });
    const worker = () => sup!.workerStatuses().find((w) => w.id === 'capture-0')!;
    await expect.poll(() => worker().state).toBe('ready');
    const tid = worker().osThreadId;
    expect(tid).toBeGreaterThan(0);
    expect(tid).not.toBe(process.pid);

    // The watchdog (this thread) keeps a core of its own; the worker shares core 0 with the hogs.
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-p', '-c', '0', String(tid)], { stdio: 'ignore' });
    execFileSync('chrt', ['-i', '-p', '0', String(tid)], { stdio: 'ignore' });
    for (let i = 0; i < 2; i++) hogs.push(spawn('taskset', ['-c', '0', 'timeout', '1.5', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
    let longest = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      longest = Math.max(longest, worker().heartbeatAgeMs);
      await sleep(20);
    }
    await Promise.all(hogs.map((h) => (h.exitCode === null ? new Promise((r) => h.once('exit', r)) : undefined)));
    const beats = worker().load.framesProcessed;
    await sleep(300);

    const w = worker();
    // It was starved for real: well past the 500 ms a hung worker gets …
    expect(w.starvedMs).toBeGreaterThan(500);
    expect(longest).toBeGreaterThan(500);
    // … and kept: no restart, no crash, and it works again once it has a CPU.
    expect(w.restarts).toBe(0);
    expect(w.state).toBe('ready');
    expect(w.load.framesProcessed).toBeGreaterThan(beats);
    expect(lines.some((l) => l['msg'] === 'worker heartbeat stale: terminating it')).toBe(false);
    expect(lines.some((l) => String(l['msg']).startsWith('worker starved of CPU'))).toBe(true);
  });
});
