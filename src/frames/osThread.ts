import { readFileSync, readlinkSync } from 'node:fs';

/**
 * A worker's kernel thread, as the watchdog sees it. A worker reads its id
 * once at start and publishes it in its heartbeat block (HB.OS_TID); the
 * supervisor reads the thread's scheduler figures only when the heartbeat has
 * stood still for a while, never per frame.
 */

/**
 * The calling thread's kernel id (`/proc/thread-self` → `<pid>/task/<tid>`),
 * or 0 where there is no such link. Node has no gettid().
 */
export function osThreadId(): number {
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

export interface ThreadSchedule {
  /** Time the thread has run on a CPU, ms (Linux schedstat field 1: current within a scheduler tick while it runs). */
  ranMs: number;
  /** Whether it is runnable (state R: running or waiting on a run queue) rather than asleep or blocked. */
  runnable: boolean;
}

/**
 * A thread of this process as the kernel schedules it: `/proc/<pid>/task/<tid>/schedstat`
 * (time on a CPU, time waiting on a run queue, slices; ns — the kernel's
 * Documentation/scheduler/sched-stats) and the state letter of its `stat`
 * (proc(5)). A runnable thread that hardly runs is starved by the machine,
 * not hung. (The run-queue wait itself is credited only when the thread is
 * next picked, so it says nothing while the starvation lasts.) Undefined
 * where the files are missing (another OS, a thread that has gone).
 */
export function threadSchedule(tid: number): ThreadSchedule | undefined {
  if (tid <= 0) return undefined;
  try {
    const dir = `/proc/${process.pid}/task/${tid}`;
    const ranNs = Number(readFileSync(`${dir}/schedstat`, 'latin1').split(' ')[0]);
    const stat = readFileSync(`${dir}/stat`, 'latin1');
    // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return Number.isFinite(ranNs) ? { ranMs: ranNs / 1e6, runnable: state === 'R' } : undefined;
  } catch {
    return undefined;
  }
}
