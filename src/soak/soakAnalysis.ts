/**
 * What a soak run's samples say: the memory trend after warm-up (a least-
 * squares line through RSS and heap against time, extrapolated to an hour)
 * and whether file descriptors, handles, timers and RTP ports came back to
 * their idle counts once every call had ended.
 */

export interface SoakSample {
  /** Seconds since the run began. */
  t: number;
  calls: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Heap in use by the workers, summed, MB. */
  workerHeapMb: number;
  fds: number;
  timers: number;
  handles: number;
  rtpPortsInUse: number;
}

export interface IdleCounts {
  fds: number;
  timers: number;
  handles: number;
  rtpPortsInUse: number;
  rssBytes: number;
}

export interface SoakVerdict {
  warmUpS: number;
  rssMbPerHour: number | null;
  heapMbPerHour: number | null;
  workerHeapMbPerHour: number | null;
  /** After the calls, less before them: 0 when nothing leaked. */
  leaked: Omit<IdleCounts, 'rssBytes'>;
  rssAfterMb: number;
  rssBeforeMb: number;
}

/** The warm-up left out of the trend: a fifth of the run, at least a minute where the run is long enough. */
export function warmUpS(durationS: number): number {
  return Math.min(Math.max(60, durationS / 5), durationS / 2);
}

/** Slope of y against t (per second) by least squares; null with fewer than three points or no spread in t. */
export function slopePerS(points: ReadonlyArray<readonly [number, number]>): number | null {
  const n = points.length;
  if (n < 3) return null;
  let st = 0;
  let sy = 0;
  for (const [t, y] of points) {
    st += t;
    sy += y;
  }
  const mt = st / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? null : num / den;
}

const MB = 1024 * 1024;

export function analyseSoak(samples: readonly SoakSample[], durationS: number, before: IdleCounts, after: IdleCounts): SoakVerdict {
  const w = warmUpS(durationS);
  const steady = samples.filter((s) => s.t >= w && s.t <= durationS);
  const perHour = (pick: (s: SoakSample) => number): number | null => {
    const k = slopePerS(steady.map((s) => [s.t, pick(s)] as const));
    return k === null ? null : k * 3600;
  };
  return {
    warmUpS: w,
    rssMbPerHour: perHour((s) => s.rssBytes / MB),
    heapMbPerHour: perHour((s) => s.heapUsedBytes / MB),
    workerHeapMbPerHour: perHour((s) => s.workerHeapMb),
    leaked: {
      fds: after.fds - before.fds,
      timers: after.timers - before.timers,
      handles: after.handles - before.handles,
      rtpPortsInUse: after.rtpPortsInUse - before.rtpPortsInUse,
    },
    rssBeforeMb: before.rssBytes / MB,
    rssAfterMb: after.rssBytes / MB,
  };
}
