/**
 * A seeded PRNG (mulberry32, Tommy Ettinger's 32-bit generator): every
 * impaired stream of a load run replays exactly from `--seed`. One object per
 * stream; `next()` allocates nothing.
 */
export class Prng {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** Uniform on [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A 32-bit unsigned integer (SSRCs, initial sequence numbers and timestamps). */
  u32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
}

/** The seed of stream `index` of a run seeded `seed`: far apart, so streams do not share a sequence. */
export function streamSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}
