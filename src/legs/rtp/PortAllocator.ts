/**
 * How long a pair found bound by another process stays aside before it is
 * tried again: long enough that a range with many such pairs does not probe
 * them on every call, short enough that a pair the other process let go is
 * back in service within a minute.
 */
export const HELD_ELSEWHERE_RECHECK_MS = 30_000;

/** A pair's state, as the port-pool gauge reports it. */
export interface PortPoolCounts {
  free: number;
  inUse: number;
  heldElsewhere: number;
}

/**
 * RTP/RTCP port pairs from the configured range: an even port for RTP and the
 * next odd one for RTCP (RFC 3550 §11). Released pairs go to the back of the
 * line, so a port just freed is not handed out again at once and a late packet
 * of the old call does not land in a new one. A pair another process holds is
 * set aside (`setAside`) and rejoins the line after `recheckMs`.
 */
export class PortAllocator {
  readonly portMin: number;
  readonly portMax: number;
  readonly recheckMs: number;
  readonly #free: number[] = [];
  readonly #used = new Set<number>();
  /** Pairs held by another process, and when each may be tried again. */
  readonly #aside = new Map<number, number>();
  /** When each pair was last released (ms on `now`'s clock). */
  readonly #releasedAt = new Map<number, number>();
  readonly #now: () => number;

  constructor(portMin: number, portMax: number, opts: { recheckMs?: number; now?: () => number } = {}) {
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin % 2 !== 0 || portMax % 2 !== 0) {
      throw new RangeError(`RTP port range must be even integers [min:${portMin}, max:${portMax}]`);
    }
    if (portMin < 1024 || portMax > 65534 || portMin > portMax) {
      throw new RangeError(`RTP port range must lie in 1024–65534 with min ≤ max [min:${portMin}, max:${portMax}]`);
    }
    this.portMin = portMin;
    this.portMax = portMax;
    this.recheckMs = opts.recheckMs ?? HELD_ELSEWHERE_RECHECK_MS;
    this.#now = opts.now ?? (() => performance.now());
    for (let p = portMin; p <= portMax; p += 2) this.#free.push(p);
  }

  /** Pairs in the range. */
  get capacity(): number {
    return (this.portMax - this.portMin) / 2 + 1;
  }

  get inUse(): number {
    return this.#used.size;
  }

  /** Pairs by state, now (set-aside pairs whose time has come count as free). */
  counts(): PortPoolCounts {
    this.#recheck();
    return { free: this.#free.length, inUse: this.#used.size, heldElsewhere: this.#aside.size };
  }

  /** The next free RTP port (its RTCP port is +1), or undefined when none is free. */
  allocate(): number | undefined {
    this.#recheck();
    const port = this.#free.shift();
    if (port !== undefined) this.#used.add(port);
    return port;
  }

  /** Returns a pair; false when it was not allocated (a double release is harmless). */
  release(rtpPort: number): boolean {
    if (!this.#used.delete(rtpPort)) return false;
    this.#free.push(rtpPort);
    this.#releasedAt.set(rtpPort, this.#now());
    return true;
  }

  /** Ms since an allocated pair was last released by a call of ours (Infinity if never). */
  releasedAgoMs(rtpPort: number): number {
    const at = this.#releasedAt.get(rtpPort);
    return at === undefined ? Infinity : this.#now() - at;
  }

  /** An allocated pair turned out to be bound by another process: off the line until `recheckMs` from now. */
  setAside(rtpPort: number): void {
    if (!this.#used.delete(rtpPort)) return;
    this.#aside.set(rtpPort, this.#now() + this.recheckMs);
  }

  /** Ms until the first set-aside pair may be tried again (undefined when none is aside). */
  nextRecheckInMs(): number | undefined {
    let first = Infinity;
    for (const at of this.#aside.values()) first = Math.min(first, at);
    return first === Infinity ? undefined : Math.max(0, first - this.#now());
  }

  /** Set-aside pairs whose time has come rejoin the back of the line. */
  #recheck(): void {
    if (this.#aside.size === 0) return;
    const now = this.#now();
    for (const [port, at] of this.#aside) {
      if (at > now) continue;
      this.#aside.delete(port);
      this.#free.push(port);
    }
  }
}
