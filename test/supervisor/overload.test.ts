import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { captureKind } from '../../src/actors/capture/kind.ts';
import { RequestError } from '../../src/supervisor/Runtime.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { syntheticTransport, type Transport } from '../../src/calls/transports.ts';
import { HeartbeatReader, HeartbeatWriter, createHeartbeatBlock } from '../../src/frames/heartbeat.ts';
import type { ActorKind } from '../../src/actors/ActorKind.ts';
import { FrameGapWatch } from '../../bench/lib/frameGaps.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/**
 * Overload and repeated failure are not permanent: calls are limited and
 * refused with a retry hint, slow workers are shed rather than killed, a
 * failed worker's actors move to its sibling or their calls end with the
 * reason, and a failed worker is tried again after a cool-down.
 */
let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

const RESTARTS = 1;

/** A call of one capture actor (a synthetic caller). */
function start(opts: { capture?: number; maxCalls?: number; coolDownMs?: number; kinds?: Record<string, ActorKind>; transports?: Transport[] } = {}) {
  const { log, lines } = memoryLogger();
  sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: opts.capture ?? 1 },
    logLevel: 'warn',
    log,
    kinds: opts.kinds ?? { capture: captureKind },
    transports: opts.transports ?? [syntheticTransport],
    ...(opts.maxCalls !== undefined ? { maxCalls: opts.maxCalls } : {}),
    // One restart allowed, so a second crash fails the worker (the default limit's logic, at a test's cost).
    restartIntensity: { maxRestarts: RESTARTS, windowMs: 30_000, ...(opts.coolDownMs !== undefined ? { coolDownMs: opts.coolDownMs } : {}) },
  });
  return { sup, lines };
}

async function crashUntilFailed(s: Supervisor, worker: string): Promise<void> {
  const state = () => s.workerStatuses().find((w) => w.id === worker)!.state;
  for (let i = 0; i <= RESTARTS; i++) {
    await expect.poll(state, { timeout: 10_000, interval: 2 }).toBe('ready');
    await s.injectFault(worker, 'crash');
    await expect.poll(state, { timeout: 2000, interval: 2 }).not.toBe('ready');
  }
  await expect.poll(state, { timeout: 2000 }).toBe('failed');
}

describe('call limit', () => {
  it('refuses calls beyond limits.maxCalls with a 503 that says to retry; a freed place is taken again', async () => {
    const { sup } = start({ maxCalls: 2 });
    await sup.start();
    const a = await sup.createCall({ transport: 'synthetic' });
    await sup.createCall({ transport: 'synthetic' });
    const refused = await sup.createCall({ transport: 'synthetic' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RequestError);
    expect(refused).toMatchObject({ status: 503, retryAfterS: 1, message: expect.stringMatching(/limit of 2 calls \(limits\.maxCalls\)/) });
    expect(sup.listCalls()).toHaveLength(2);
    // Concurrent requests count before their calls exist.
    await sup.deleteCall(a.id);
    const burst = await Promise.allSettled([1, 2, 3].map(() => sup.createCall({ transport: 'synthetic' })));
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(sup.listCalls()).toHaveLength(2);
  });
});

describe('an overloaded worker is not a hung one', () => {
  it('ticks far longer than the hang limit, with progress, are shed (503, not ready), never killed', async () => {
    const { sup } = start({ kinds: { null: nullKind }, transports: [] });
    await sup.start();
    // 20 actors × 40 ms: each tick takes ~800 ms, beyond the 500 ms hang limit, yet every actor moves.
    const slow = await Promise.all(Array.from({ length: 20 }, () => sup.createActor('null', { tickMs: 40 })));
    await sleep(2500);
    const w = sup.workerStatuses()[0]!;
    expect(w.state).toBe('ready');
    expect(w.restarts).toBe(0);
    expect(sup.readiness().reasons.join()).toMatch(/every null worker is overloaded: worker null-0 is overloaded \(ticks take \d+% of the frame\)/);
    const refused = await sup.createActor('null', {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, message: expect.stringMatching(/overloaded/) });
    // Load gone: taking actors again.
    await Promise.all(slow.map((a) => sup.destroyActor(a)));
    await expect.poll(() => sup.readiness().ready, { timeout: 5000 }).toBe(true);
    await expect(sup.createActor('null', {})).resolves.toMatch(/^null\.\d+$/);
  });

  it('time the supervisor itself was starved is not held against a worker', () => {
    const block = createHeartbeatBlock();
    const w = new HeartbeatWriter(block);
    const r = new HeartbeatReader(block);
    w.beat(1, 100, false, 1);
    r.sample(0);
    w.beat(1, 100, false, 1);
    expect(r.sample(100)).toBe(0);
    r.excuse(450);
    expect(r.sample(600)).toBe(50);
    // Progress inside one long tick counts as life.
    w.progress();
    expect(r.sample(700)).toBe(0);
  });
});

describe('a failed worker', () => {
  it('moves its actors to a sibling of the same kind, which serves their streams again', async () => {
    const { sup } = start({ capture: 2 });
    await sup.start();
    const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const bystander = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const worker = sup.workerOf(victim)!;
    await crashUntilFailed(sup, worker);
    expect(sup.workerOf(victim)).toBe(sup.workerOf(bystander));
    await expect.poll(() => sup.actorStatuses().find((a) => a.id === victim)!.state, { timeout: 2000 }).toBe('running');
    const watch = new FrameGapWatch([sup.ringOf(victim, 'out')!]);
    await sleep(300);
    watch.stop();
    // Written by its new home after the move: ~15 frames in 300 ms.
    expect(watch.frames()[0]).toBeGreaterThan(8);
  });

  it('without a sibling, ends its calls with the reason worker-failed, then comes back after its cool-down', async () => {
    const { sup, lines } = start({ capture: 1, coolDownMs: 400 });
    await sup.start();
    const call = await sup.createCall({ transport: 'synthetic' });
    await crashUntilFailed(sup, 'capture-0');
    await expect.poll(() => sup.getCall(call.id), { timeout: 2000 }).toBeUndefined();
    expect(sup.status().endedCalls).toContainEqual(
      expect.objectContaining({ id: call.id, reason: 'worker-failed', detail: expect.stringMatching(/worker capture-0 failed \(threw: injected crash\)/) }),
    );
    expect(lines.some((l) => l['msg'] === 'call ended' && l['reason'] === 'worker-failed' && l['level'] === 40)).toBe(true);
    const ended = await sup.metrics.getSingleMetric('switchboard_calls_ended_total')!.get();
    expect(ended.values.find((v) => v.labels['reason'] === 'worker-failed')?.value).toBe(1);
    expect(sup.readiness().ready).toBe(false);
    // The cool-down ends: the worker is tried again with a fresh restart budget, and the daemon is ready.
    await expect.poll(() => sup.readiness().ready, { timeout: 10_000 }).toBe(true);
    const again = await sup.createCall({ transport: 'synthetic' });
    expect(sup.getCall(again.id)?.state).toBe('active');
  });
});
