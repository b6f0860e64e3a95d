/**
 * Latencies in fixed bins (0.5 ms up to 1 s, then one overflow bin), so a
 * call records one per returned packet without allocating, and the run's
 * distribution is the bins summed. Percentiles interpolate within a bin.
 */
export const LATENCY_BIN_MS = 0.5;
export const LATENCY_BINS = 2000;

export class LatencyHistogram {
  /** Counts per bin; the last one holds everything at or above LATENCY_BINS·LATENCY_BIN_MS. */
  readonly bins: Uint32Array;
  count = 0;
  sumMs = 0;
  maxMs = 0;

  constructor(bins: Uint32Array = new Uint32Array(LATENCY_BINS + 1)) {
    this.bins = bins;
  }

  add(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i = (v / LATENCY_BIN_MS) | 0;
    this.bins[i < LATENCY_BINS ? i : LATENCY_BINS]!++;
    this.count++;
    this.sumMs += v;
    if (v > this.maxMs) this.maxMs = v;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.bins.length; i++) this.bins[i]! += other.bins[i]!;
    this.count += other.count;
    this.sumMs += other.sumMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** The q-quantile (0–1) in ms; null when empty. Within a bin values are taken as spread evenly; the overflow bin reports the maximum. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      const n = this.bins[i]!;
      if (n === 0) continue;
      if (seen + n >= rank) {
        if (i === LATENCY_BINS) return this.maxMs;
        return Math.min(this.maxMs, (i + (rank - seen) / n) * LATENCY_BIN_MS);
      }
      seen += n;
    }
    return this.maxMs;
  }

  meanMs(): number | null {
    return this.count === 0 ? null : this.sumMs / this.count;
  }

  /** The cumulative distribution as [ms, fraction] points at the bins that hold anything (for the report's chart). */
  cdf(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      const n = this.bins[i]!;
      if (n === 0) continue;
      seen += n;
      out.push([i === LATENCY_BINS ? this.maxMs : (i + 1) * LATENCY_BIN_MS, seen / this.count]);
    }
    return out;
  }
}
