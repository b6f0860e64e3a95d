import { readdirSync } from 'node:fs';

export interface ProcessFigures {
  pid: number;
  uptimeS: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Open file descriptors of the whole process (every thread's sockets included); -1 where /proc is missing. */
  fds: number;
  /** The main thread's live timers and handles (sockets, servers) by type, as Node counts them. */
  timers: number;
  handles: number;
}

/**
 * The process's own figures, as /status gives them: what a soak run watches
 * for leaks (fds and handles return to their idle count when calls end).
 * Reads /proc/self/fd: control-path only, never per frame.
 */
export function processFigures(): ProcessFigures {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  let timers = 0;
  let handles = 0;
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'Timeout' || r === 'Immediate') timers++;
    else handles++;
  }
  return {
    pid: process.pid,
    uptimeS: process.uptime(),
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    fds: openFds(),
    timers,
    handles,
  };
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}
