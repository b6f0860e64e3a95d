import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from '../collectGarbage.ts';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import {
  serializeError,
  type ActorCreate,
  type FaultKind,
  type WorkerControl,
  type WorkerEvent,
  type WorkerBoot,
} from '../protocol.ts';
import { FrameRing } from '../frames/FrameRing.ts';
import { FrameClock } from '../frames/FrameClock.ts';
import { epochMs, setTickDue } from '../frames/epochClock.ts';
import { HeartbeatWriter } from '../frames/heartbeat.ts';
import { osThreadId } from '../frames/osThread.ts';
import { commandRefused, type ActorFactory, type HostedActor } from './Actor.ts';
import { insertInGroup, type Hosted } from './tickOrder.ts';

/**
 * The worker side of the runtime: hosts many logical actors on one thread,
 * ticks them every frame from a drift-free clock, publishes a heartbeat and
 * load figures in shared memory, and answers the supervisor's control calls
 * (`WorkerControl`, exposed through comlink).
 * Each `<name>.worker.ts` entry is one call: `hostActors({ name: factory })`.
 */

/** How often a worker publishes its heap use: a few times per frame-stall the watchdog tolerates. */
const HEAP_SAMPLE_MS = 25;

/** What an actor logs through: pino's call shape (`fields` first), bound to the actor's id. */
export type ActorLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;


export function hostActors(factories: Readonly<Record<string, ActorFactory>>): void {
  if (parentPort === null) throw new Error('hostActors must run in a worker thread');
  const boot = workerData as WorkerBoot & { events: MessagePort };
  // Workers write their JSON lines straight to fd 1 (pino's default destination), not through the main thread.
  let log = pino({ level: boot.logLevel, base: { pid: process.pid, kind: boot.kind } });
  let workerId = '(standby)';
  let heartbeat: HeartbeatWriter | undefined;
  const events = boot.events;
  const emit = (e: WorkerEvent): void => events.postMessage(e);

  // A dense array, rebuilt only at control time, so the tick loop iterates
  // without allocating (no Map iterator objects); in tick order (tickOrder.ts).
  let hosted: Hosted[] = [];
  const byId = new Map<string, Hosted>();

  function fail(h: Hosted, err: unknown): void {
    log.error({ actor: h.id, err }, 'actor failed');
    remove(h.id);
    emit({ type: 'actor.failed', actorId: h.id, error: serializeError(err) });
  }

  /** Actors whose (async) creation is under way, and those destroyed meanwhile. */
  const creating = new Set<string>();
  const cancelled = new Set<string>();

  function remove(actorId: string): boolean {
    const h = byId.get(actorId);
    if (h === undefined) {
      if (!creating.has(actorId)) return false;
      cancelled.add(actorId);
      return true;
    }
    byId.delete(actorId);
    hosted = hosted.filter((x) => x !== h);
    try {
      h.actor.close();
    } catch (err) {
      log.warn({ actor: actorId, err }, 'actor close failed');
    }
    return true;
  }

  async function create(req: ActorCreate): Promise<void> {
    if (byId.has(req.actorId) || creating.has(req.actorId)) {
      throw new RangeError(`actor already exists [actor:${req.actorId}]`);
    }
    const factory = factories[req.kind];
    if (factory === undefined) {
      throw new RangeError(`this worker does not host actor kind "${req.kind}" [worker:${workerId}]`);
    }
    const rings: Record<string, FrameRing> = {};
    for (const [name, sab] of Object.entries(req.rings)) rings[name] = FrameRing.attach(sab);
    creating.add(req.actorId);
    let actor: HostedActor;
    try {
      const ctx = {
        actorId: req.actorId,
        log: log.child({ actor: req.actorId }),
        rings,
        stats: new Float64Array(req.stats),
        tickMs: boot.tickMs,
        emit: (name: string, data: Record<string, unknown>) => emit({ type: 'actor.event', actorId: req.actorId, name, data }),
        alive: () => heartbeat?.progress(),
      };
      actor = await factory(ctx, req.config);
    } finally {
      creating.delete(req.actorId);
    }
    if (cancelled.delete(req.actorId)) {
      actor.close();
      return;
    }
    const h = { id: req.actorId, kind: req.kind, stage: req.stage ?? 0, group: req.group, actor };
    byId.set(req.actorId, h);
    hosted = insertInGroup(hosted, h);
  }

  function injectFault(kind: FaultKind): void {
    log.warn({ kind }, 'fault injected');
    switch (kind) {
      case 'crash':
        // Thrown outside the request so it is an uncaught exception of the worker.
        setImmediate(() => {
          throw new Error('injected crash');
        });
        return;
      case 'exit':
        setImmediate(() => process.exit(70));
        return;
      case 'hang':
        setImmediate(() => {
          for (;;) {
            // A busy loop: the heartbeat stops and the watchdog must notice.
          }
        });
        return;
      case 'oom': {
        // A runaway leak, as a real one: ~2 MB held every few ms while the actors keep ticking.
        const hog: unknown[] = [];
        const leak = setInterval(() => {
          for (let i = 0; i < 256; i++) hog.push(new Array(1000).fill(i));
        }, 5);
        leak.unref();
        return;
      }
      case 'oom-burst': {
        // 80 MB at a time: the thread is blocked while each block fills.
        const hog: unknown[] = [];
        setImmediate(function grow() {
          for (let i = 0; i < 1e4; i++) hog.push(new Array(1000).fill(i));
          setImmediate(grow);
        });
        return;
      }
    }
  }

  // Each method's error reaches the supervisor with its name (comlink's throw handler): RangeErrors become 422s there.
  const control: WorkerControl = {
    async start(req) {
      if (heartbeat !== undefined) throw new RangeError(`worker already started [worker:${workerId}]`);
      workerId = req.workerId;
      log = log.child({ worker: workerId });
      heartbeat = new HeartbeatWriter(req.heartbeat, boot.tickMs);
      heartbeat.osThread(osThreadId());
      clock.start();
      startHeapSampling(heartbeat);
      heartbeat.setReady();
    },
    createActor: create,
    async command(actorId, command) {
      const h = byId.get(actorId);
      if (h === undefined) throw new RangeError(`no such actor [actor:${actorId}]`);
      if (h.actor.command === undefined) throw commandRefused(h.kind, command);
      h.actor.command(command);
    },
    async destroyActor(actorId) {
      return remove(actorId);
    },
    async injectFault(kind) {
      injectFault(kind);
    },
    async collect() {
      collectGarbage();
    },
    async shutdown() {
      clock.stop();
      for (const h of [...hosted]) remove(h.id);
    },
  };

  const clock = new FrameClock({
    periodMs: boot.tickMs,
    onTick(tickIndex: number, lateMs: number): void {
      const t0 = performance.now();
      setTickDue(epochMs() - lateMs);
      let frames = 0;
      const list = hosted;
      for (let i = 0; i < list.length; i++) {
        const h = list[i]!;
        try {
          frames += h.actor.tick(tickIndex);
        } catch (err) {
          fail(h, err);
        }
        heartbeat?.progress();
      }
      const us = Math.round((performance.now() - t0) * 1000);
      heartbeat?.beat(frames, us, lateMs > boot.tickMs, list.length);
    },
  });

  /**
   * The heap in use, for the supervisor to replace a worker before V8 runs
   * out: its last-resort collections stall every call on the thread for
   * hundreds of ms before the thread dies. Sampled on a timer of its own
   * (getHeapStatistics allocates), never in the frame path.
   */
  function startHeapSampling(hb: HeartbeatWriter): void {
    const timer = setInterval(() => hb.heapUsed(Math.round(getHeapStatistics().used_heap_size / (1024 * 1024))), HEAP_SAMPLE_MS);
    timer.unref();
  }

  Comlink.expose(control, nodeEndpoint(parentPort));
  emit({ type: 'worker.loaded' });
}
