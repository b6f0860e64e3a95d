/**
 * How a `latch` leg learns its peer (symmetric RTP, RFC 4961): a source
 * becomes the peer only after this many packets in sequence from one
 * address and port — the same SSRC, each sequence number one above the
 * last — as Asterisk's strictrtp learns a source (its `probation`, 4 by
 * default) and as RFC 3550 A.1 validates a new source before counting it.
 * A stray packet (a late one of an old call, a scan, a forgery) proves
 * nothing and never becomes the peer.
 */
export const LATCH_PROBATION_PACKETS = 4;

/**
 * Sources followed at once. Each keeps its own run, so a stray packet from
 * another address does not break the real peer's run; a new source takes
 * the place of the one heard from longest ago.
 */
const CANDIDATES = 4;

/**
 * The candidates of a latch: per source its run of in-sequence packets. Fixed
 * arrays, so a packet allocates nothing (the address strings are the ones
 * node:dgram made for the datagrams).
 */
export class LatchProbation {
  readonly packets: number;
  readonly #address: Array<string | undefined> = new Array<string | undefined>(CANDIDATES).fill(undefined);
  readonly #port = new Int32Array(CANDIDATES);
  readonly #ssrc = new Uint32Array(CANDIDATES);
  readonly #seq = new Int32Array(CANDIDATES);
  readonly #run = new Int32Array(CANDIDATES);
  readonly #lastMs = new Float64Array(CANDIDATES).fill(-Infinity);

  constructor(packets = LATCH_PROBATION_PACKETS) {
    this.packets = packets;
  }

  /**
   * One good packet (it parsed, carries one of our payload types and, under
   * SRTP, authenticated) from `address:port`. Returns true when this source
   * has now sent `packets` in sequence: it is the peer.
   */
  offer(address: string, port: number, ssrc: number, seq: number, arrivalMs: number): boolean {
    let slot = -1;
    let oldest = 0;
    for (let i = 0; i < CANDIDATES; i++) {
      if (this.#port[i] === port && this.#address[i] === address) {
        slot = i;
        break;
      }
      if (this.#lastMs[i]! < this.#lastMs[oldest]!) oldest = i;
    }
    let run = 1;
    if (slot < 0) {
      slot = oldest;
      this.#address[slot] = address;
      this.#port[slot] = port;
    } else if (this.#ssrc[slot] === ssrc >>> 0 && seq === ((this.#seq[slot]! + 1) & 0xffff)) {
      run = this.#run[slot]! + 1;
    }
    // Anything else (another SSRC, a gap, a repeat) starts the run again from this packet.
    this.#ssrc[slot] = ssrc >>> 0;
    this.#seq[slot] = seq & 0xffff;
    this.#run[slot] = run;
    this.#lastMs[slot] = arrivalMs;
    return run >= this.packets;
  }
}
