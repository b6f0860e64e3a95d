import { LatencyHistogram } from './LatencyHistogram.ts';

/**
 * Round-trip latency through the loopback agent, found by aligning the audio
 * that comes back with the audio that was sent; codec-independent, so it
 * holds for Opus as for G.711.
 *
 * Both sides are reduced to an envelope: the mean magnitude over 20 ms,
 * taken every 2 ms (a shorter window follows the pitch periods of voiced
 * speech, whose repeats make false peaks a period or two off). Once a second of returned audio has arrived, the returned envelope
 * over that second is correlated (Pearson) with the sent envelope at each
 * candidate offset D (returned sample m carries sent sample m − D): first
 * over every offset a latency of 0–1000 ms allows, then only around the last
 * offset found, while the match stays good. The best block is refined by a
 * parabola through the correlation's peak and its neighbours. A window whose
 * best correlation is below MIN_CORRELATION (silence, or audio the jitter
 * buffer was stretching) gives no latencies, nor does one whose offset the
 * window before did not find too (the first of a call, or after a jump).
 *
 * With D known, each returned packet of the window yields one latency: its
 * arrival time minus the moment its first sample left the caller — the send
 * time of the frame that carried it plus the sample's place in that frame.
 * This is wire to wire: network both ways, the daemon's jitter buffer,
 * ticks and processing, and the codecs' own delays (Opus: encoder lookahead,
 * twice), but not the caller's packetization.
 *
 * The sent audio is the caller's speech source, read from `baseFrame` on,
 * so only send times are kept per frame. Nothing here allocates after
 * construction.
 */

const BLOCK_MS = 2;
/** Blocks the envelope is smoothed over (20 ms: two pitch periods at 100 Hz). */
const SMOOTH_BLOCKS = 10;
/** Blocks of returned audio per analysis (1 s). */
export const WINDOW_BLOCKS = 500;
/** Latencies searched on a fresh search: 0–1000 ms. */
const MAX_LATENCY_BLOCKS = 500;
/** Blocks either side of the last offset when tracking (±30 ms: the jitter buffer moves it gradually). */
const TRACK_BLOCKS = 15;
/** Blocks of timing slack below zero latency (the first frames' clock against arrival stamps). */
const SLACK_BLOCKS = 10;
export const MIN_CORRELATION = 0.8;
const RETURN_RING_BLOCKS = 4096;
const SENT_RING_FRAMES = 8192;
const PENDING_PACKETS = 512;

/** Mean |x| of `count` consecutive blocks of `blk` samples of `pcm` from `from`, into `out` from `at` (ring of out.length). */
function blockMagnitudes(pcm: Int16Array, from: number, blk: number, count: number, out: Float32Array, at: number): void {
  for (let b = 0; b < count; b++) {
    let s = 0;
    for (let i = from + b * blk, end = i + blk; i < end; i++) s += Math.abs(pcm[i]!);
    out[(at + b) % out.length] = s / blk;
  }
}

/**
 * The smoothed envelope of a whole looping source (block b: the mean of the
 * SMOOTH_BLOCKS blocks ending at b, wrapping at the start): computed once per
 * thread, shared by its callers.
 */
export function sourceEnvelope(samples: Int16Array, rateHz: number): Float32Array {
  const blk = (rateHz * BLOCK_MS) / 1000;
  const raw = new Float32Array(Math.floor(samples.length / blk));
  blockMagnitudes(samples, 0, blk, raw.length, raw, 0);
  const env = new Float32Array(raw.length);
  let sum = 0;
  for (let b = raw.length - SMOOTH_BLOCKS + 1; b < raw.length; b++) sum += raw[b]!;
  for (let b = 0; b < raw.length; b++) {
    sum += raw[b]!;
    env[b] = sum / SMOOTH_BLOCKS;
    sum -= raw[(b - SMOOTH_BLOCKS + 1 + raw.length) % raw.length]!;
  }
  return env;
}

export class LatencyAligner {
  readonly histogram = new LatencyHistogram();
  /** Windows aligned, and those that could not be (silent, or no clear match). */
  alignedWindows = 0;
  unalignedWindows = 0;
  /** The last offset found, in samples (returned index − sent index); NaN before the first. */
  offsetSamples = Number.NaN;
  lastCorrelation = 0;

  readonly #rateHz: number;
  readonly #frameSamples: number;
  readonly #blk: number;
  readonly #blocksPerFrame: number;
  readonly #src: Float32Array;
  readonly #baseBlock: number;
  readonly #sentAt = new Float64Array(SENT_RING_FRAMES);
  #sentFrames = 0;
  readonly #ret = new Float32Array(RETURN_RING_BLOCKS);
  /** One past the highest returned block written; -1 before the first. */
  #retHead = -1;
  #retSinceAnalysis = 0;
  readonly #pendArrival = new Float64Array(PENDING_PACKETS);
  readonly #pendStart = new Float64Array(PENDING_PACKETS);
  #pendCount = 0;
  /** The window's returned envelope, smoothed as the source's. */
  readonly #x = new Float32Array(WINDOW_BLOCKS);
  readonly #sentScratch = new Float32Array(WINDOW_BLOCKS + MAX_LATENCY_BLOCKS + 2 * SLACK_BLOCKS + 2);
  readonly #corr = new Float32Array(MAX_LATENCY_BLOCKS + 2 * SLACK_BLOCKS + 2);
  #trackedBlocks = Number.NaN;

  /**
   * @param sourceEnv the speech source's envelope (sourceEnvelope)
   * @param baseFrame the source frame the caller's first frame is
   */
  constructor(rateHz: number, frameSamples: number, sourceEnv: Float32Array, baseFrame: number) {
    this.#rateHz = rateHz;
    this.#frameSamples = frameSamples;
    this.#blk = (rateHz * BLOCK_MS) / 1000;
    this.#blocksPerFrame = frameSamples / this.#blk;
    this.#src = sourceEnv;
    this.#baseBlock = (baseFrame * this.#blocksPerFrame) % sourceEnv.length;
  }

  /** Frame `k` (0, 1, 2… whether or not the network lost it) left the caller at `atMs`. */
  sent(k: number, atMs: number): void {
    this.#sentAt[k % SENT_RING_FRAMES] = atMs;
    if (k >= this.#sentFrames) this.#sentFrames = k + 1;
  }

  /**
   * A returned packet whose first sample is `startSample` of the returned
   * stream (from its timestamp), decoded to `pcm[0, n)`, arrived at `atMs`.
   */
  returned(startSample: number, pcm: Int16Array, n: number, atMs: number): void {
    const blk = this.#blk;
    const first = Math.floor(startSample / blk);
    const blocks = Math.floor(n / blk);
    if (first + blocks <= this.#retHead - RETURN_RING_BLOCKS) return; // older than the ring
    if (this.#retHead < 0) this.#retHead = first;
    // A gap (a packet lost on the way back) reads as silence.
    for (let b = this.#retHead; b < first && b < this.#retHead + RETURN_RING_BLOCKS; b++) this.#ret[b % RETURN_RING_BLOCKS] = 0;
    blockMagnitudes(pcm, 0, blk, blocks, this.#ret, first);
    if (first + blocks > this.#retHead) {
      this.#retSinceAnalysis += first + blocks - this.#retHead;
      this.#retHead = first + blocks;
    }
    if (this.#pendCount < PENDING_PACKETS) {
      this.#pendArrival[this.#pendCount] = atMs;
      this.#pendStart[this.#pendCount] = startSample;
      this.#pendCount++;
    }
    if (this.#retSinceAnalysis >= WINDOW_BLOCKS) this.#analyse();
  }

  /** The sent envelope at sent block `sb` (silence outside what was sent). */
  #sentEnv(sb: number): number {
    if (sb < 0 || sb >= this.#sentFrames * this.#blocksPerFrame) return 0;
    return this.#src[(this.#baseBlock + sb) % this.#src.length]!;
  }

  #analyse(): void {
    this.#retSinceAnalysis = 0;
    const end = this.#retHead;
    const start = end - WINDOW_BLOCKS;
    // Offsets (in blocks) a latency of 0 to MAX_LATENCY allows, from the sent stream's head now.
    const sentHead = this.#sentFrames * this.#blocksPerFrame;
    const lo = end - sentHead - SLACK_BLOCKS;
    const hi = lo + MAX_LATENCY_BLOCKS + 2 * SLACK_BLOCKS;
    const previous = this.#trackedBlocks;
    const best = this.#search(start, lo, hi, previous);
    this.#trackedBlocks = best;
    // A match counts once the next window confirms it (within the tracking range): a
    // chance match of unrelated audio does not repeat a second later.
    if (Number.isNaN(best) || Number.isNaN(previous) || Math.abs(best - previous) > TRACK_BLOCKS) {
      this.unalignedWindows++;
      this.#pendCount = 0;
      return;
    }
    this.offsetSamples = best * this.#blk;
    this.alignedWindows++;
    this.#assignLatencies();
  }

  /** The best offset in blocks (interpolated) for the window at `start`, or NaN; tracks `tracked` when it can. */
  #search(start: number, lo: number, hi: number, tracked: number): number {
    if (!Number.isNaN(tracked)) {
      const tLo = Math.max(lo, Math.floor(tracked) - TRACK_BLOCKS);
      const tHi = Math.min(hi, Math.floor(tracked) + TRACK_BLOCKS);
      if (tLo < tHi) {
        const found = this.#correlate(start, tLo, tHi);
        if (!Number.isNaN(found)) return found;
      }
    }
    return this.#correlate(start, lo, hi);
  }

  /** Pearson correlation of the returned window with the sent envelope at every offset in [lo, hi]; the interpolated peak, or NaN. */
  #correlate(start: number, lo: number, hi: number): number {
    const W = WINDOW_BLOCKS;
    const xs = this.#x;
    const ring = this.#ret;
    let run = 0;
    for (let b = start - SMOOTH_BLOCKS + 1; b < start; b++) run += ring[(b + RETURN_RING_BLOCKS) % RETURN_RING_BLOCKS]!;
    let sx = 0;
    let sxx = 0;
    for (let i = 0; i < W; i++) {
      run += ring[(start + i) % RETURN_RING_BLOCKS]!;
      const x = run / SMOOTH_BLOCKS;
      run -= ring[(start + i - SMOOTH_BLOCKS + 1 + RETURN_RING_BLOCKS) % RETURN_RING_BLOCKS]!;
      xs[i] = x;
      sx += x;
      sxx += x * x;
    }
    const varX = sxx - (sx * sx) / W;
    if (!(varX > 1e-6 * W)) {
      this.lastCorrelation = 0;
      return Number.NaN; // a silent window
    }
    // The sent envelope under the window at every offset: y(i, D) = scratch[i + hi − D].
    const span = W + hi - lo;
    const scratch = this.#sentScratch;
    for (let j = 0; j < span; j++) scratch[j] = this.#sentEnv(start - hi + j);
    let bestD = lo;
    let bestC = -2;
    for (let D = lo; D <= hi; D++) {
      const off = hi - D;
      let sy = 0;
      let syy = 0;
      let sxy = 0;
      for (let i = 0; i < W; i++) {
        const y = scratch[i + off]!;
        sy += y;
        syy += y * y;
        sxy += xs[i]! * y;
      }
      const varY = syy - (sy * sy) / W;
      const c = varY > 1e-6 * W ? (sxy - (sx * sy) / W) / Math.sqrt(varX * varY) : 0;
      this.#corr[D - lo] = c;
      if (c > bestC) {
        bestC = c;
        bestD = D;
      }
    }
    this.lastCorrelation = bestC;
    if (bestC < MIN_CORRELATION) return Number.NaN;
    // A peak on the range's edge may lie beyond it: only an interior peak is trusted.
    if (bestD === lo || bestD === hi) return Number.NaN;
    const a = this.#corr[bestD - lo - 1]!;
    const b = bestC;
    const c = this.#corr[bestD - lo + 1]!;
    const denom = a - 2 * b + c;
    const delta = denom < 0 ? (0.5 * (a - c)) / denom : 0;
    return bestD + (delta > 0.5 ? 0.5 : delta < -0.5 ? -0.5 : delta);
  }

  /** Each packet of the window: its arrival minus when the sample it starts with was sent. */
  #assignLatencies(): void {
    const F = this.#frameSamples;
    const D = this.offsetSamples;
    const msPerSample = 1000 / this.#rateHz;
    for (let j = 0; j < this.#pendCount; j++) {
      const p = this.#pendStart[j]! - D;
      const k = Math.floor(p / F);
      if (k < 0 || k >= this.#sentFrames || this.#sentFrames - k > SENT_RING_FRAMES) continue;
      const latency = this.#pendArrival[j]! - this.#sentAt[k % SENT_RING_FRAMES]! - (p - k * F) * msPerSample;
      this.histogram.add(latency);
    }
    this.#pendCount = 0;
  }
}
