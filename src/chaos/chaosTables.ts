import { formatTable } from '../cli/table.ts';
import type { ChaosReport } from './runChaos.ts';

/** The goals for a chaos run. */
export const CHAOS_GOALS = { droppedCalls: 0, affectedGapMs: 100, unexplainedGaps: 0 } as const;

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Per fault kind: how often, how many calls it hit, and the silence it cost them. */
export function chaosTables(r: ChaosReport): string {
  const kinds = [...new Set(r.faults.map((f) => f.kind))];
  const rows = kinds.map((kind) => {
    const costs = r.verdict.perFault.filter((c) => c.fault.kind === kind && c.fault.error === undefined);
    const gaps = costs.flatMap((c) => c.gapsMs).sort((a, b) => a - b);
    return {
      fault: kind,
      injected: costs.length,
      refused: r.faults.filter((f) => f.kind === kind && f.error !== undefined).length,
      'calls hit': gaps.length,
      'gap p50 ms': round(quantile(gaps, 0.5)),
      'gap p99 ms': round(quantile(gaps, 0.99)),
      'gap max ms': round(gaps.at(-1) ?? null),
      [`> ${CHAOS_GOALS.affectedGapMs} ms`]: gaps.filter((g) => g > CHAOS_GOALS.affectedGapMs).length,
    };
  });
  const o = r.options;
  const s = r.load.summary;
  const summary = {
    calls: o.calls,
    completed: s.callsCompleted ?? 0,
    dropped: r.dropped,
    'faults': r.faults.length,
    'gaps no fault explains': r.verdict.unexplained.length,
    'worst unexplained ms': round(r.verdict.unexplained.reduce((m, g) => Math.max(m, g.ms), 0)),
    'returned %': s.returnedPct === null ? 'n/a' : Number(s.returnedPct.toFixed(2)),
    restarts: r.workers.reduce((n, w) => n + w.restarts, 0),
    'workers not ready': r.workers.filter((w) => w.state !== 'ready').map((w) => `${w.id} ${w.state}`).join(', ') || 'none',
  };
  return [
    formatTable(`Chaos: ${o.calls} calls, ${o.durationS} s, a fault every ${o.everyS} s (seed ${o.seed})`, rows.length > 0 ? rows : [{ fault: 'none injected' }]),
    formatTable('Calls and workers', [summary]),
  ].join('\n');
}

/** What missed a goal, one line each; empty when every goal is met. */
export function missedGoals(r: ChaosReport): string[] {
  const missed: string[] = [];
  if (r.dropped > CHAOS_GOALS.droppedCalls) missed.push(`${r.dropped} calls dropped`);
  const over = r.verdict.perFault.flatMap((c) => c.gapsMs.filter((g) => g > CHAOS_GOALS.affectedGapMs).map(() => c.fault.kind));
  if (over.length > 0) missed.push(`${over.length} affected calls silent over ${CHAOS_GOALS.affectedGapMs} ms (${[...new Set(over)].join(', ')})`);
  if (r.verdict.unexplained.length > CHAOS_GOALS.unexplainedGaps) missed.push(`${r.verdict.unexplained.length} silences no fault explains`);
  return missed;
}

function round(x: number | null): number | string {
  return x === null ? 'n/a' : Math.round(x);
}
