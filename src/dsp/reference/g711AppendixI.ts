/**
 * ITU-T G.711 Appendix I (09/1999), "A high quality low-complexity algorithm
 * for packet loss concealment with G.711", written plainly in 10 ms steps as
 * the standard describes it, with every length scaled from 8 kHz to the
 * stream's rate. It is the baseline the enhanced concealer is measured
 * against, and the 'appendix-i' mode of the WebAssembly concealer must match
 * it to ±1 LSB.
 *
 * Where the text leaves a detail open, this implementation decides (and the
 * kernel follows): overlap-add weights are (i+1)/(n+1); samples are rounded
 * half up once, on the way out; the coarse pitch pass subsamples without a
 * filter, as the reference decoder does.
 */
import { plcFindPitch, plcRateFactor, roundToInt16 } from './plc.ts';

export class G711AppendixI {
  readonly rateHz: number;
  readonly samplesPerFrame: number;
  /** §I.2.1: output is delayed by 3.75 ms so the start of an erasure can be blended. */
  readonly delaySamples: number;
  readonly #r: number;
  readonly #step: number; // 10 ms
  readonly #history: Int16Array; // 48.75 ms
  readonly #pitchBuf: Float64Array;
  readonly #lastQ: Float64Array;
  readonly #buf: Float64Array;
  #erasecnt = 0;
  #lost = 0;
  #pitch = 0;
  #poverlap = 0;
  #poffset = 0;
  #pitchblen = 0;
  #gainT = 0;

  constructor(rateHz: number) {
    this.#r = plcRateFactor(rateHz);
    this.rateHz = rateHz;
    this.#step = 80 * this.#r;
    this.samplesPerFrame = 2 * this.#step;
    this.delaySamples = 30 * this.#r;
    this.#history = new Int16Array(390 * this.#r);
    this.#pitchBuf = new Float64Array(390 * this.#r);
    this.#lastQ = new Float64Array(this.#step);
    this.#buf = new Float64Array(this.#step);
  }

  get lostInARow(): number { return this.#lost; }

  good(frame: Int16Array, out: Int16Array): void {
    const s = new Int16Array(this.samplesPerFrame);
    s.set(frame.subarray(0, this.samplesPerFrame));
    for (let half = 0; half < 2; half++) {
      const part = s.subarray(half * this.#step, (half + 1) * this.#step);
      if (this.#erasecnt > 0) {
        // §I.2.5: blend the synthetic continuation into the real signal.
        const olen = Math.min(this.#poverlap + (this.#erasecnt - 1) * 32 * this.#r, this.#step);
        for (let i = 0; i < olen; i++) {
          const w = (i + 1) / (olen + 1);
          part[i] = roundToInt16(this.#scaled(this.#fe()) * (1 - w) + part[i]! * w);
        }
        this.#erasecnt = 0;
      }
      this.#saveSpeech(part, out, half * this.#step);
    }
    this.#lost = 0;
  }

  conceal(out: Int16Array): void {
    for (let half = 0; half < 2; half++) {
      const b = this.#buf;
      if (this.#erasecnt === 0) {
        // §I.2.2: find the pitch on a copy of the history.
        const h = this.#history.length;
        for (let i = 0; i < h; i++) this.#pitchBuf[i] = this.#history[i]!;
        this.#pitch = plcFindPitch(this.#pitchBuf, h - 160 * this.#r, 160 * this.#r, 40 * this.#r, 120 * this.#r, 2 * this.#r).lag;
        this.#poverlap = this.#pitch >> 2;
        // §I.2.3: the last quarter period fades into the signal one period earlier.
        for (let i = 0; i < this.#poverlap; i++) this.#lastQ[i] = this.#pitchBuf[h - this.#poverlap + i]!;
        for (let i = 0; i < this.#poverlap; i++) {
          const w = (i + 1) / (this.#poverlap + 1);
          const k = h - this.#poverlap + i;
          this.#pitchBuf[k] = this.#lastQ[i]! * (1 - w) + this.#pitchBuf[k - this.#pitch]! * w;
          this.#history[k] = roundToInt16(this.#pitchBuf[k]!);
        }
        this.#poffset = 0;
        this.#pitchblen = this.#pitch;
        this.#gainT = 0;
        for (let i = 0; i < this.#step; i++) b[i] = this.#fe();
      } else if (this.#erasecnt === 1 || this.#erasecnt === 2) {
        // §I.2.3: use one more (older) period; blend from the old repetition.
        const saved = this.#poffset;
        for (let i = 0; i < this.#poverlap; i++) this.#lastQ[i] = this.#fe();
        this.#poffset = saved % this.#pitch;
        this.#pitchblen += this.#pitch;
        for (let i = 0; i < this.#step; i++) b[i] = this.#fe();
        for (let i = 0; i < this.#poverlap; i++) {
          const w = (i + 1) / (this.#poverlap + 1);
          b[i] = this.#lastQ[i]! * (1 - w) + b[i]! * w;
        }
      } else {
        for (let i = 0; i < this.#step; i++) b[i] = this.#fe();
      }
      const part = new Int16Array(this.#step);
      for (let i = 0; i < this.#step; i++) part[i] = roundToInt16(this.#scaled(b[i]!));
      this.#erasecnt++;
      this.#saveSpeech(part, out, half * this.#step);
    }
    this.#lost++;
  }

  /** The next sample of the repeated pitch segment (the last #pitchblen samples). */
  #fe(): number {
    const v = this.#pitchBuf[this.#pitchBuf.length - this.#pitchblen + this.#poffset]!;
    if (++this.#poffset === this.#pitchblen) this.#poffset = 0;
    return v;
  }

  /** §I.2.4: full level for 10 ms, then −20% per 10 ms, silence from 60 ms. */
  #scaled(v: number): number {
    const t = this.#gainT++;
    const step = this.#step;
    const g = t < step ? 1 : Math.max(0, 1 - (0.2 * (t - step)) / step);
    return g * v;
  }

  #saveSpeech(part: Int16Array, out: Int16Array, at: number): void {
    const h = this.#history;
    h.copyWithin(0, this.#step);
    h.set(part, h.length - this.#step);
    const from = h.length - this.#step - this.delaySamples;
    for (let i = 0; i < this.#step && at + i < out.length; i++) out[at + i] = h[from + i]!;
  }
}
