/** The process's own figures, as /status gives them. */
export function processFigures(): { pid: number; uptimeS: number; rssBytes: number; heapUsedBytes: number; cpuUserUs: number; cpuSystemUs: number } {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { pid: process.pid, uptimeS: process.uptime(), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpuUserUs: cpu.user, cpuSystemUs: cpu.system };
}
