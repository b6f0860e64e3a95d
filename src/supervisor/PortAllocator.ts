/**
 * RTP/RTCP port pairs from the configured range: an even port for RTP and the
 * next odd one for RTCP (RFC 3550 §11). Released pairs go to the back of the
 * line, so a port just freed is not handed out again at once and a late packet
 * of the old call does not land in a new one.
 */
export class PortAllocator {
  readonly portMin: number;
  readonly portMax: number;
  readonly #free: number[] = [];
  readonly #used = new Set<number>();

  constructor(portMin: number, portMax: number) {
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin % 2 !== 0 || portMax % 2 !== 0) {
      throw new RangeError(`RTP port range must be even integers [min:${portMin}, max:${portMax}]`);
    }
    if (portMin < 1024 || portMax > 65534 || portMin > portMax) {
      throw new RangeError(`RTP port range must lie in 1024–65534 with min ≤ max [min:${portMin}, max:${portMax}]`);
    }
    this.portMin = portMin;
    this.portMax = portMax;
    for (let p = portMin; p <= portMax; p += 2) this.#free.push(p);
  }

  /** Pairs in the range. */
  get capacity(): number {
    return (this.portMax - this.portMin) / 2 + 1;
  }

  get inUse(): number {
    return this.#used.size;
  }

  /** The next free RTP port (its RTCP port is +1), or undefined when all are taken. */
  allocate(): number | undefined {
    const port = this.#free.shift();
    if (port !== undefined) this.#used.add(port);
    return port;
  }

  /** Returns a pair; false when it was not allocated (a double release is harmless). */
  release(rtpPort: number): boolean {
    if (!this.#used.delete(rtpPort)) return false;
    this.#free.push(rtpPort);
    return true;
  }
}
