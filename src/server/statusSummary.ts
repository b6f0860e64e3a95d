import { processFigures } from '../processFigures.ts';
import type { Runtime, WorkerStatus } from '../supervisor/Runtime.ts';

export interface StatusSummary {
  daemon: Runtime['state'];
  ready: boolean;
  notReadyReasons: string[];
  workers: WorkerStatus[];
  /** Live calls by transport. */
  calls: Record<string, number>;
  /**
   * The legs' engine-latency histograms (`engineLatency*` stats: playout to the wire) summed over
   * the live calls; `engineLatencyMaxUs` is the largest of them.
   */
  engineLatency: Record<string, number>;
  process: ReturnType<typeof processFigures>;
}

/**
 * `/status?calls=false`: the daemon, its workers and process without a row per call — what a
 * sampler polling every second needs (a load run's), at a cost that does not grow with the
 * calls' rows: at 1,000 calls the full report is 3 MB and 40–60 ms of the main thread.
 */
export function statusSummary(runtime: Runtime): StatusSummary {
  const { ready, reasons } = runtime.readiness();
  const calls: Record<string, number> = {};
  const engineLatency: Record<string, number> = {};
  for (const c of runtime.listCalls()) {
    calls[c.transport] = (calls[c.transport] ?? 0) + 1;
    for (const actorId of c.actors) {
      const view = runtime.actorStats(actorId);
      if (view === undefined) continue;
      for (let i = 0; i < view.names.length; i++) {
        const name = view.names[i]!;
        if (!name.startsWith('engineLatency')) continue;
        const v = view.values[i]!;
        engineLatency[name] = name.endsWith('MaxUs') ? Math.max(engineLatency[name] ?? 0, v) : (engineLatency[name] ?? 0) + v;
      }
    }
  }
  return {
    daemon: runtime.state,
    ready,
    notReadyReasons: reasons,
    workers: runtime.workerStatuses(),
    calls,
    engineLatency,
    process: processFigures(),
  };
}
