import { formatTable } from '../cli/table.ts';
import type { SoakReport } from './runSoak.ts';

/** The goals: memory flat after warm-up, nothing left behind. */
export const SOAK_GOALS = { rssMbPerHour: 5 } as const;

const r1 = (x: number | null): number | string => (x === null ? 'n/a' : Number(x.toFixed(1)));

export function soakTables(r: SoakReport): string {
  const v = r.verdict;
  const o = r.options;
  const trend = formatTable(`Soak: ${o.calls} calls live, each ${o.callS} s, for ${o.durationS} s (trend after ${Math.round(v.warmUpS)} s of warm-up)`, [
    {
      'calls placed': r.callsPlaced,
      completed: r.callsCompleted,
      failed: r.callsFailed,
      'RSS MB/h': r1(v.rssMbPerHour),
      'main heap MB/h': r1(v.heapMbPerHour),
      'worker heap MB/h': r1(v.workerHeapMbPerHour),
      'RSS before MB': r1(v.rssBeforeMb),
      'RSS after MB': r1(v.rssAfterMb),
      restarts: r.restarts,
    },
  ]);
  const left = formatTable('Left behind once the calls ended (after − before)', [
    { fds: v.leaked.fds, timers: v.leaked.timers, handles: v.leaked.handles, 'RTP port pairs': v.leaked.rtpPortsInUse },
  ]);
  return `${trend}\n${left}`;
}

/** What missed a goal, one line each. The RSS trend is judged only on runs long enough to have one (≥ 10 min). */
export function soakMissed(r: SoakReport): string[] {
  const missed: string[] = [];
  const v = r.verdict;
  if (r.options.durationS >= 600 && v.rssMbPerHour !== null && v.rssMbPerHour > SOAK_GOALS.rssMbPerHour) {
    missed.push(`RSS grows ${v.rssMbPerHour.toFixed(1)} MB/h after warm-up (goal ≤ ${SOAK_GOALS.rssMbPerHour})`);
  }
  for (const [what, n] of Object.entries(v.leaked)) if (n > 0) missed.push(`${n} ${what} left behind`);
  if (r.callsFailed > 0) missed.push(`${r.callsFailed} calls failed`);
  return missed;
}
