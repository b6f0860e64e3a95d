import { Resampler } from '../../dsp/resampler.ts';
import type { FrameRing } from '../../frames/FrameRing.ts';
import { RecordTap } from '../RecordTap.ts';
import { FRAME_MS, type ConferenceMixer } from './ConferenceMixer.ts';
export { RECORD_MIX_ROLE } from './kind.ts';

/**
 * A conference's recording: every tick the full mix (everyone, limited as
 * the members hear it) into a `record` ring that the recording writer thread
 * drains (src/recording/), at the rate the conference was created with; the
 * mix is resampled down when members of a higher rate have raised the
 * conference's. `retune` is control time (a join raised the conference
 * rate; it never falls); `tick` allocates nothing and never throws.
 */
export class MixRecording {
  readonly #tap: RecordTap;
  readonly #rateHz: number;
  readonly #out: Int16Array;
  #mix = new Int16Array(0);
  #down: Resampler | undefined;

  constructor(ring: FrameRing, rateHz: number, tickMs: number) {
    this.#tap = new RecordTap(ring, rateHz, tickMs);
    this.#rateHz = rateHz;
    this.#out = new Int16Array(this.#tap.samplesPerFrame);
  }

  /** The conference now mixes at `confRateHz`. */
  retune(confRateHz: number): void {
    const n = (confRateHz * FRAME_MS) / 1000;
    if (this.#mix.length === n) return;
    this.#down?.destroy();
    this.#mix = new Int16Array(n);
    this.#down = confRateHz === this.#rateHz ? undefined : new Resampler(confRateHz, this.#rateHz);
  }

  /** This tick's frame of the mix, after `mixer.mix()`. */
  tick(tickIndex: number, mixer: ConferenceMixer): void {
    mixer.copyMix(this.#mix);
    if (this.#down === undefined) this.#tap.write(tickIndex, this.#mix, this.#mix.length, 0);
    else {
      this.#down.process(this.#mix, this.#out);
      this.#tap.write(tickIndex, this.#out, this.#out.length, 0);
    }
  }

  destroy(): void {
    this.#down?.destroy();
  }
}
