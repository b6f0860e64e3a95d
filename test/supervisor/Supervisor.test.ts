import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameMeta, type FrameRing } from '../../src/frames/FrameRing.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { syntheticSample } from '../../src/actors/capture/CaptureActor.ts';
import { captureKind } from '../../src/actors/capture/kind.ts';
import type { ActorKind } from '../../src/actors/ActorKind.ts';
import { MAX_RESTARTS } from '../../src/supervisor/workerMachine.ts';
import { REQUEST_TIMEOUT_MS } from '../../src/supervisor/WorkerSlot.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';
import { within } from '../helpers/poll.ts';

/** Reads a ring on the main thread as a consumer would, checking every frame. */
function watch(ring: FrameRing, rateHz: number) {
  const meta = new FrameMeta();
  const buf = new Int16Array(960);
  const seqs: number[] = [];
  let badSamples = 0;
  const timer = setInterval(() => {
    while (ring.read(buf, meta)) {
      seqs.push(meta.sequence);
      const first = meta.timestamp;
      for (let i = 0; i < meta.sampleCount; i += 37) {
        if (buf[i] !== syntheticSample(first + i, rateHz, 440, 8000)) badSamples++;
      }
    }
  }, 5);
  return {
    seqs,
    get badSamples() {
      return badSamples;
    },
    stop: () => clearInterval(timer),
    /** Places where the sequence did not advance by exactly one. */
    gaps(): Array<[number, number]> {
      const g: Array<[number, number]> = [];
      for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) g.push([seqs[i - 1]!, seqs[i]!]);
      return g;
    },
  };
}

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

function supervisor(opts: { capture?: number; media?: number; kinds?: Record<string, ActorKind>; heapMb?: number; spareThreads?: boolean } = {}) {
  const { log, lines } = memoryLogger();
  sup = new Supervisor({
    ...(opts.spareThreads !== undefined ? { spareThreads: opts.spareThreads } : {}),
    poolSizes: { media: opts.media ?? 1, network: 1, agent: 1, capture: opts.capture ?? 2 },
    logLevel: 'warn',
    log,
    kinds: opts.kinds ?? { capture: captureKind },
    ...(opts.heapMb !== undefined ? { workerHeapMb: opts.heapMb } : {}),
  });
  return { sup, lines };
}

describe('Supervisor', () => {
  it('starts its workers, places actors on the least-loaded worker, and reports them', async () => {
    const { sup } = supervisor({ capture: 2 });
    await sup.start();
    expect(sup.state).toBe('running');
    expect(sup.readiness()).toEqual({ ready: true, reasons: [] });
    const a = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
    const b = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
    expect(sup.workerOf(a)).not.toBe(sup.workerOf(b));
    await sleep(200);
    const st = sup.status();
    expect(st.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    expect(st.workers.every((w) => w.heartbeatAgeMs >= 0 && w.heartbeatAgeMs < 100)).toBe(true);
    expect(st.workers.reduce((n, w) => n + w.load.framesProcessed, 0)).toBeGreaterThan(10);
    const actor = st.actors.find((x) => x.id === a)!;
    expect(actor.state).toBe('running');
    expect(actor.stats['framesWritten']).toBeGreaterThan(5);
    expect(actor.stats['rateHz']).toBe(16000);
  });

  it('rejects a bad actor configuration with the worker error, keeping nothing', async () => {
    const { sup } = supervisor({ capture: 1 });
    await sup.start();
    await expect(sup.createActor('capture', { source: 'synthetic', rateHz: 44100 })).rejects.toThrow(
      /rateHz must be one of 8000, 16000, 24000, 48000 \[got:44100\]/,
    );
    await expect(sup.createActor('nope', {})).rejects.toThrow(/unknown actor kind "nope"/);
    expect(sup.status().actors).toEqual([]);
  });

  it('refuses a command the actor does not take with the worker\'s RangeError (name, message, stack), the actor playing on', async () => {
    const { sup } = supervisor({ capture: 1 });
    await sup.start();
    const a = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
    for (const command of [{ type: 'gain', db: -6 }, { type: 'mute', muted: true }, { type: 'dtmf', digits: '1' }] as const) {
      const err = await sup.commandActor(a, command).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ name: 'RangeError', message: `actor kind "capture" takes no "${command.type}" command` });
      expect((err as Error).stack).toContain('commandRefused');
    }
    const written = (): number => sup.status().actors.find((x) => x.id === a)!.stats['framesWritten']!;
    const before = written();
    await expect.poll(written, within(1000, 'more frames')).toBeGreaterThan(before);
  });

  for (const fault of ['crash', 'exit', 'terminate'] as const) {
    it(`restarts a worker after ${fault} within 200 ms while a stream on another worker has no gap`, async () => {
      const { sup } = supervisor({ capture: 2 });
      await sup.start();
      const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
      const bystander = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
      const w = watch(sup.ringOf(bystander, 'out')!, 16000);
      await sleep(100);
      const victimWorker = sup.workerOf(victim)!;
      const restartsBefore = sup.status().workers.find((x) => x.id === victimWorker)!.restarts;
      const t0 = performance.now();
      await sup.injectFault(victim, fault);
      await expect.poll(() => sup.readiness().ready, within(1000, 'the crash to be seen')).toBe(false);
      expect(sup.readiness().reasons.join()).toContain(victimWorker);
      await expect.poll(() => sup.readiness().ready && sup.actorStatuses().every((a) => a.state === 'running'), within(2000, 'restart')).toBe(true);
      const restartMs = performance.now() - t0;
      const ws = sup.status().workers.find((x) => x.id === victimWorker)!;
      expect(ws.restarts).toBe(restartsBefore + 1);
      // The re-created actor writes into the same ring again: its own frames, from sequence 0 (not ones left before the fault).
      const victimRing = sup.ringOf(victim, 'out')!;
      const meta = new FrameMeta();
      const frame = new Int16Array(960);
      const fresh: number[] = [];
      const freshFrames = (): boolean => {
        while (victimRing.read(frame, meta)) fresh.push(meta.sequence);
        return fresh.includes(0) && fresh.at(-1)! >= 2;
      };
      await expect.poll(freshFrames, within(1000, 'frames of the re-created actor')).toBe(true);
      await sleep(200);
      w.stop();
      expect(w.seqs.length).toBeGreaterThan(15);
      expect(w.gaps()).toEqual([]);
      expect(w.badSamples).toBe(0);
      expect(sup.actorStatuses().find((a) => a.id === victim)!.restarts).toBe(1);
      expect(restartMs).toBeLessThan(200);
    });
  }

  it('without spare threads, moves a crashed worker\'s actors to its live sibling, then restarts the worker on a new thread', async () => {
    const { sup } = supervisor({ capture: 2, spareThreads: false });
    await sup.start();
    const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
    const bystander = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
    const victimWorker = sup.workerOf(victim)!;
    const sibling = sup.workerOf(bystander)!;
    expect(victimWorker).not.toBe(sibling);
    const w = watch(sup.ringOf(bystander, 'out')!, 16000);
    await sup.injectFault(victim, 'crash');
    await expect.poll(() => sup.workerOf(victim), within(1000, 'the move')).toBe(sibling);
    await expect.poll(() => sup.readiness().ready && sup.actorStatuses().every((a) => a.state === 'running'), within(5000, 'the restart')).toBe(true);
    expect(sup.status().workers.find((x) => x.id === victimWorker)!.restarts).toBe(1);
    const written = (): number => sup.status().actors.find((x) => x.id === victim)!.stats['framesWritten']!;
    const before = written();
    await expect.poll(written, within(1000, 'frames from the moved actor')).toBeGreaterThan(before);
    w.stop();
    expect(w.gaps()).toEqual([]);
  });

  it('detects a hung worker (busy loop) by its stale heartbeat and replaces it', async () => {
    const { sup, lines } = supervisor({ capture: 2 });
    await sup.start();
    const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const bystander = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const w = watch(sup.ringOf(bystander, 'out')!, 8000);
    await sleep(60);
    const t0 = performance.now();
    await sup.injectFault(victim, 'hang');
    // A request the hung thread never answers fails when the thread is replaced, not at its timeout.
    await sleep(50);
    const pending = sup.commandActor(victim, { type: 'mute', muted: true }).then(
      () => 'answered',
      (err: Error) => ({ message: err.message, ms: performance.now() - t0 }),
    );
    await expect.poll(() => sup.readiness().ready, within(2000, 'the hang to be detected')).toBe(false);
    const detectMs = performance.now() - t0;
    expect(detectMs).toBeGreaterThanOrEqual(450);
    const failed = await pending;
    expect(failed).toMatchObject({ message: `worker died [worker:${sup.workerOf(victim)}]: terminated by the supervisor` });
    expect((failed as { ms: number }).ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    await expect.poll(() => sup.readiness().ready, within(2000, 'the replacement')).toBe(true);
    w.stop();
    expect(w.gaps()).toEqual([]);
    expect(lines.some((l) => String(l['msg']).includes('heartbeat stale'))).toBe(true);
    expect(sup.status().workers.find((x) => x.id === sup.workerOf(victim))!.lastError).toMatch(/heartbeat stale/);
  });

  it('replaces a worker that runs out of memory', async () => {
    const { sup } = supervisor({ capture: 1, heapMb: 24 });
    await sup.start();
    const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    await sup.injectFault(victim, 'oom');
    await expect.poll(() => sup.readiness().ready, within(10_000, 'the OOM')).toBe(false);
    await expect.poll(() => sup.readiness().ready, within(5000, 'the replacement')).toBe(true);
    expect(sup.status().workers[0]!.lastError).toMatch(/out of memory/);
  });

  it(`escalates after more than ${MAX_RESTARTS} restarts in the window: failed, not ready, no more restarts, its actors moved`, async () => {
    const { sup, lines } = supervisor({ capture: 2 });
    await sup.start();
    const victim = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const bystander = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    const w = watch(sup.ringOf(bystander, 'out')!, 8000);
    const worker = sup.workerOf(victim)!;
    const stateOf = () => sup.status().workers.find((x) => x.id === worker)!;
    for (let i = 0; i <= MAX_RESTARTS; i++) {
      await expect.poll(() => stateOf().state, within(5000, `restart ${i}`)).toBe('ready');
      const restarts = stateOf().restarts;
      await sup.injectFault(worker, 'crash');
      // Each crash is seen: a restart counted, or the escalation (a restart with a loaded spare can be
      // over within the 20–40 ms back-off, faster than a poll of the state is sure to catch).
      await expect.poll(() => stateOf().restarts > restarts || stateOf().state === 'failed', within(2000, `crash ${i}`)).toBe(true);
    }
    await expect.poll(() => stateOf().state, within(2000, 'escalation')).toBe('failed');
    await sleep(300);
    expect(stateOf().state).toBe('failed');
    expect(stateOf().restarts).toBe(MAX_RESTARTS);
    expect(sup.readiness().ready).toBe(false);
    expect(sup.readiness().reasons).toContain(`worker ${worker} is failed (threw: injected crash)`);
    // Its actor moved to the live worker, which serves it.
    expect(sup.workerOf(victim)).not.toBe(worker);
    await expect.poll(() => sup.actorStatuses().find((a) => a.id === victim)?.state, within(2000, 'the move')).toBe('running');
    const escalation = lines.find((l) => String(l['msg']).includes('exceeded the limit'));
    expect(escalation?.['level']).toBe(50);
    expect(escalation?.['cause']).toBe('threw: injected crash');
    // New actors go to the live worker only.
    const next = await sup.createActor('capture', { source: 'synthetic', rateHz: 8000 });
    expect(sup.workerOf(next)).not.toBe(worker);
    w.stop();
    expect(w.gaps()).toEqual([]);
  });

  it('hosts a thousand actors on its workers and answers status for all', async () => {
    const { sup } = supervisor({ media: 2, kinds: { null: nullKind } });
    await sup.start();
    for (let i = 0; i < 1000; i++) await sup.createActor('null', {});
    await sleep(100);
    const st = sup.status();
    expect(st.actors).toHaveLength(1000);
    expect(st.workers.map((w) => w.actors)).toEqual([500, 500]);
    expect(st.actors.every((a) => a.stats['ticks']! > 0)).toBe(true);
  });

  it('drains: refuses new calls, hangs up the rest at the deadline, and stops', async () => {
    const { sup } = supervisor({ capture: 1 });
    await sup.start();
    const call = await sup.createCall({ transport: 'synthetic', rateHz: 8000 });
    expect(call.actors).toHaveLength(1);
    expect(sup.getCall(call.id)?.state).toBe('active');
    const draining = sup.drain(150);
    expect(sup.state).toBe('draining');
    expect(sup.readiness().ready).toBe(false);
    await expect(sup.createCall({ transport: 'synthetic' })).rejects.toThrow(/not taking calls: the daemon is draining/);
    await draining;
    expect(sup.listCalls()).toEqual([]);
    await sup.stop();
    await sup.stop();
    expect(sup.state).toBe('stopped');
  });

  it('rejects unknown transports and bad call fields with request errors', async () => {
    const { sup } = supervisor({ capture: 1 });
    await sup.start();
    await expect(sup.createCall({ transport: 'carrier-pigeon' })).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('unknown transport "carrier-pigeon"'),
    });
    await expect(sup.createCall({ transport: 'synthetic', rateHz: 'fast' })).rejects.toMatchObject({ status: 422 });
    await expect(sup.createCall({ transport: 'synthetic', rateHz: 11025 })).rejects.toMatchObject({ status: 422 });
    expect(sup.status().actors).toEqual([]);
    await expect(sup.injectFault('nobody', 'crash')).rejects.toMatchObject({ status: 404 });
  });
});
