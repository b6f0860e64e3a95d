import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerAgentMetrics } from './agentMetrics.ts';
import { registerCallMetrics } from './callMetrics.ts';
import type { Supervisor } from './Supervisor.ts';

export interface RuntimeMetricsOptions {
  /**
   * One series per call, actor kind and QoS figure besides the aggregates
   * (config `metrics.perCallSeries`). Off by default: at hundreds of calls
   * those series are megabytes a scrape; per-call detail is in /status.
   */
  perCallSeries?: boolean;
}

/**
 * The runtime's Prometheus metrics. Worker, actor and call figures are
 * computed at scrape time from the heartbeat blocks and stats slots, so the
 * real-time path pays nothing for them; calls are aggregated (callMetrics.ts).
 */
export function createRuntimeMetrics(sup: Supervisor, opts: RuntimeMetricsOptions = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const badInput = new Counter({
    name: 'switchboard_bad_input_total',
    help: 'Malformed input dropped (packets, messages, requests), by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  const callsTotal = new Counter({
    name: 'switchboard_calls_total',
    help: 'Calls created, by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const callsEnded = new Counter({
    name: 'switchboard_calls_ended_total',
    help: 'Calls ended, by transport and reason (hangup, peer, worker-failed, actor-failed, drain)',
    labelNames: ['transport', 'reason'] as const,
    registers: [registry],
  });
  const callErrors = new Counter({
    name: 'switchboard_call_errors_total',
    help: "Faults in one call's handling that ended that call (the process went on)",
    labelNames: ['source', 'stage'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'switchboard_ready',
    help: '1 when every worker is ready and the daemon is running',
    registers: [registry],
    collect() {
      this.set(sup.readiness().ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'switchboard_calls_active',
    help: 'Calls in the registry',
    registers: [registry],
    collect() {
      this.set(sup.listCalls().length);
    },
  });

  const workerGauge = (name: string, help: string, pick: (w: ReturnType<Supervisor['workerStatuses']>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['worker', 'kind'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const w of sup.workerStatuses()) this.set({ worker: w.id, kind: w.kind }, pick(w));
      },
    });
  workerGauge('switchboard_worker_up', '1 while the worker is ready', (w) => (w.state === 'ready' ? 1 : 0));
  workerGauge('switchboard_worker_restarts', 'Restarts of the worker since the daemon started', (w) => w.restarts);
  workerGauge('switchboard_worker_starved_seconds', 'Time the worker waited for a CPU while its heartbeat stood still (excused, not restarted)', (w) => w.starvedMs / 1000);
  workerGauge('switchboard_worker_heartbeat_age_seconds', 'Time since the last heartbeat', (w) =>
    w.heartbeatAgeMs < 0 ? 0 : w.heartbeatAgeMs / 1000,
  );
  workerGauge('switchboard_worker_frames_processed', 'Frames processed by the worker (wraps at 2^32)', (w) => w.load.framesProcessed);
  workerGauge('switchboard_worker_tick_seconds', 'Work time of the last tick', (w) => w.load.tickUs / 1e6);
  workerGauge('switchboard_worker_late_ticks', 'Ticks that started more than a frame late', (w) => w.load.lateTicks);
  workerGauge('switchboard_worker_actors', 'Actors hosted', (w) => w.actors);

  new Gauge({
    name: 'switchboard_actors',
    help: 'Actors by kind and state',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, { kind: string; state: string; n: number }>();
      for (const a of sup.actorStatuses()) {
        const key = `${a.kind}\0${a.state}`;
        const c = counts.get(key) ?? { kind: a.kind, state: a.state, n: 0 };
        c.n++;
        counts.set(key, c);
      }
      for (const c of counts.values()) this.set({ kind: c.kind, state: c.state }, c.n);
    },
  });

  registerCallMetrics(registry, sup, opts.perCallSeries === true);
  const actorEvent = registerAgentMetrics(registry);

  return { registry, badInput, callsTotal, callsEnded, callErrors, actorEvent };
}
