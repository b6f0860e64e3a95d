import { Mixer, MIXER_MAX_GAIN } from '../../dsp/mixer.ts';
import { Resampler } from '../../dsp/resampler.ts';
import { Vad } from '../../dsp/vad.ts';
import type { MixerMemberConfig } from '../../protocol.ts';
import { Ducker, type DuckingSettings } from './Ducker.ts';

/** 20 ms frames (DESIGN: audio frames). */
export const FRAME_MS = 20;
/** The level shown per member: a VU meter's integration time (IEC 60268-17), as a one-pole filter on power. */
const LEVEL_INTEGRATION_MS = 300;
const LEVEL_ALPHA = 1 - Math.exp(-FRAME_MS / LEVEL_INTEGRATION_MS);
/** Below this the level reads as the floor (the VAD's silence). */
export const LEVEL_FLOOR_DBFS = -100;
const FLOOR_POWER = 10 ** (LEVEL_FLOOR_DBFS / 10);

/** What a slot is doing this frame. */
const enum Phase {
  Free = 0,
  /** Joined this frame: its first frame is faded in over the frame. */
  Joining = 1,
  Mixing = 2,
  /** Left: its last frame is mixed once more, faded out, then the slot is free. */
  Leaving = 3,
}

/** One member's buffers and DSP state (control time builds it; the frame path only uses it). */
export class Member {
  phase = Phase.Joining;
  settings: MixerMemberConfig;
  readonly samplesPerFrame: number;
  /** The member's frame at its own rate: the actor fills it and says `present`. */
  readonly input: Int16Array;
  /** Its mix-minus at its own rate, after `mix()`. */
  readonly output: Int16Array;
  present = false;
  readonly vad: Vad;
  power = 0;
  levelDbfs = LEVEL_FLOOR_DBFS;
  talking = false;
  // At the conference rate (replaced when the conference rate changes):
  confIn: Int16Array;
  confOut: Int16Array;
  up: Resampler | undefined;
  down: Resampler | undefined;

  constructor(settings: MixerMemberConfig, confRateHz: number) {
    this.settings = settings;
    this.samplesPerFrame = (settings.rateHz * FRAME_MS) / 1000;
    this.input = new Int16Array(this.samplesPerFrame);
    this.output = new Int16Array(this.samplesPerFrame);
    this.vad = new Vad(settings.rateHz);
    this.confIn = new Int16Array(0);
    this.confOut = new Int16Array(0);
    this.retune(confRateHz);
  }

  /** Buffers and resamplers for a conference rate (control time). */
  retune(confRateHz: number): void {
    this.up?.destroy();
    this.down?.destroy();
    const n = (confRateHz * FRAME_MS) / 1000;
    this.confIn = new Int16Array(n);
    this.confOut = new Int16Array(n);
    const own = this.settings.rateHz;
    this.up = own === confRateHz ? undefined : new Resampler(own, confRateHz);
    this.down = own === confRateHz ? undefined : new Resampler(confRateHz, own);
  }

  destroy(): void {
    this.vad.destroy();
    this.up?.destroy();
    this.down?.destroy();
  }
}

/** Checks a member's settings (control time): RangeError naming what is wrong. */
export function checkMember(m: MixerMemberConfig, maxMembers: number): void {
  if (!Number.isInteger(m.slot) || m.slot < 0 || m.slot >= maxMembers) throw new RangeError(`mixer: slot must be an integer in 0..${maxMembers - 1} [slot:${m.slot}]`);
  if (![8000, 16000, 24000, 48000].includes(m.rateHz)) throw new RangeError(`mixer: a member's rate must be 8000, 16000, 24000 or 48000 [rateHz:${m.rateHz}]`);
  if (!(m.gain >= 0 && m.gain <= MIXER_MAX_GAIN)) throw new RangeError(`mixer: gain must be in 0..${MIXER_MAX_GAIN} [gain:${m.gain}]`);
  if (typeof m.muted !== 'boolean') throw new RangeError(`mixer: muted must be a boolean [muted:${String(m.muted)}]`);
  if (!Number.isInteger(m.delayFrames) || m.delayFrames < 0 || m.delayFrames > 50) throw new RangeError(`mixer: delayFrames must be an integer in 0..50 [delayFrames:${m.delayFrames}]`);
}

/**
 * A conference's mixing, without its rings: every 20 ms, each member's frame
 * in (at its own rate), and each member's N−1 mix out (everyone but itself,
 * at its own rate). In between, at the conference rate — the highest of the
 * members' rates and `minRateHz` —, members are resampled at the edges, gains
 * and mutes applied, the VAD and level measured per member, the ducker moved
 * one frame, and the WebAssembly kernel (src/dsp/mixer.ts) forms every mix
 * from one sum with its soft limiter.
 *
 * A member that joins is faded in over its first frame; one that leaves is
 * faded out over one more frame made of its last (it is no longer read), so
 * neither clicks. A member with no frame this time (`present` false) is mixed
 * as silence: nobody waits for it.
 *
 * `mix()` is the frame path: no allocation, no throw. `join`, `update` and
 * `leave` are control time (they allocate, and throw RangeError on bad input).
 */
export class ConferenceMixer {
  readonly maxMembers: number;
  readonly minRateHz: number;
  #rateHz: number;
  #kernel: Mixer;
  readonly #members: Array<Member | undefined>;
  readonly #ducker: Ducker | undefined;
  readonly #active: Uint8Array;
  readonly #talking: Uint8Array;
  readonly #levels: Float64Array;
  #count = 0;

  constructor(opts: { maxMembers: number; minRateHz: number; ducking: DuckingSettings | undefined }) {
    this.maxMembers = opts.maxMembers;
    this.minRateHz = opts.minRateHz;
    this.#rateHz = opts.minRateHz;
    this.#kernel = new Mixer(opts.maxMembers, (opts.minRateHz * FRAME_MS) / 1000);
    this.#members = new Array<Member | undefined>(opts.maxMembers).fill(undefined);
    this.#ducker = opts.ducking === undefined ? undefined : new Ducker(opts.maxMembers, opts.ducking, FRAME_MS);
    this.#active = new Uint8Array(opts.maxMembers);
    this.#talking = new Uint8Array(opts.maxMembers);
    this.#levels = new Float64Array(opts.maxMembers).fill(LEVEL_FLOOR_DBFS);
    this.#clearFreeSlots();
  }

  /** The conference rate: the highest member rate, at least `minRateHz`. */
  get rateHz(): number {
    return this.#rateHz;
  }

  /** Members taken and not yet gone (a leaving one counts until its last frame is mixed). */
  get size(): number {
    let n = 0;
    for (const m of this.#members) if (m !== undefined) n++;
    return n;
  }

  /** Takes a member; a slot still fading out is freed at once. Raises the conference rate when the member's is higher. */
  join(settings: MixerMemberConfig): void {
    checkMember(settings, this.maxMembers);
    const old = this.#members[settings.slot];
    if (old !== undefined && old.phase !== Phase.Leaving) throw new RangeError(`mixer: slot ${settings.slot} is taken`);
    if (old !== undefined) this.#free(settings.slot);
    this.#members[settings.slot] = new Member({ ...settings }, this.#rateHz);
    this.#ducker?.reset(settings.slot);
    if (settings.rateHz > this.#rateHz) this.#retune();
    this.#recount();
  }

  update(settings: MixerMemberConfig): void {
    checkMember(settings, this.maxMembers);
    const m = this.#members[settings.slot];
    if (m === undefined || m.phase === Phase.Leaving) throw new RangeError(`mixer: no member at slot ${settings.slot}`);
    if (settings.rateHz !== m.settings.rateHz) throw new RangeError(`mixer: a member's rate cannot change [slot:${settings.slot}]`);
    m.settings = { ...settings };
  }

  /** The member leaves: its buffers are not read or written by the caller from now on. False when there is none. */
  leave(slot: number): boolean {
    const m = this.#members[slot];
    if (m === undefined || m.phase === Phase.Leaving) return false;
    if (m.phase === Phase.Joining) {
      this.#free(slot);
      return true;
    }
    m.phase = Phase.Leaving;
    return true;
  }

  /** The member at `slot`'s buffers and settings, for the actor's ring I/O; undefined when free or leaving. */
  member(slot: number): Member | undefined {
    const m = this.#members[slot];
    return m === undefined || m.phase === Phase.Leaving ? undefined : m;
  }

  /** The slot that has the floor (ducking), −1 for none or without ducking. */
  get dominant(): number {
    return this.#ducker?.dominant ?? -1;
  }

  duckDb(slot: number): number {
    return this.#ducker?.duckDb[slot] ?? 0;
  }

  /** One frame: every member's `input` (and `present`) in, every member's `output` out. */
  mix(): void {
    const kernel = this.#kernel;
    const members = this.#members;
    for (let s = 0; s < this.#count; s++) {
      const m = members[s];
      if (m === undefined) continue;
      if (m.phase !== Phase.Leaving) this.#take(m);
      this.#active[s] = m.phase === Phase.Leaving ? 0 : 1;
      this.#talking[s] = m.talking ? 1 : 0;
      this.#levels[s] = m.levelDbfs;
      if (m.phase === Phase.Joining) this.#fade(m.confIn, true);
      else if (m.phase === Phase.Leaving) this.#fade(m.confIn, false);
      kernel.copyIn(s, m.confIn);
    }
    this.#ducker?.update(this.#active, this.#talking, this.#levels);
    for (let s = 0; s < this.#count; s++) {
      const m = members[s];
      if (m === undefined) continue;
      const duck = this.#ducker === undefined ? 1 : 10 ** (this.#ducker.duckDb[s]! / 20);
      const g = m.settings.muted ? 0 : Math.min(MIXER_MAX_GAIN, m.settings.gain * duck);
      kernel.setGain(s, g);
    }
    kernel.mixMinusOne(this.#count);
    for (let s = 0; s < this.#count; s++) {
      const m = members[s];
      if (m === undefined) continue;
      if (m.phase === Phase.Leaving) {
        this.#free(s);
        continue;
      }
      m.phase = Phase.Mixing;
      kernel.copyOut(s, m.confOut);
      if (m.down === undefined) m.output.set(m.confOut);
      else m.down.process(m.confOut, m.output);
    }
  }

  /** Frees the kernel and every member's state; safe to call twice. */
  destroy(): void {
    for (let s = 0; s < this.#members.length; s++) if (this.#members[s] !== undefined) this.#free(s);
    this.#kernel.destroy();
  }

  /** The member's frame (or silence) to the conference rate, with its VAD and level. */
  #take(m: Member): void {
    if (!m.present) m.input.fill(0);
    const speech = m.vad.process(m.input);
    m.talking = m.present && speech;
    const level = m.vad.levelDbfs;
    const power = level <= LEVEL_FLOOR_DBFS ? 0 : 10 ** (level / 10);
    m.power += (power - m.power) * LEVEL_ALPHA;
    m.levelDbfs = m.power <= FLOOR_POWER ? LEVEL_FLOOR_DBFS : 10 * Math.log10(m.power);
    if (m.up === undefined) m.confIn.set(m.input);
    else m.up.process(m.input, m.confIn);
  }

  /** A linear fade over the frame, in (0 → 1) or out (1 → 0): a member's first and last frames. */
  #fade(frame: Int16Array, fadeIn: boolean): void {
    const n = frame.length;
    for (let k = 0; k < n; k++) {
      const g = fadeIn ? k / n : (n - k) / n;
      frame[k] = Math.round(frame[k]! * g);
    }
  }

  #free(slot: number): void {
    this.#members[slot]?.destroy();
    this.#members[slot] = undefined;
    this.#ducker?.reset(slot);
    this.#active[slot] = 0;
    this.#talking[slot] = 0;
    this.#levels[slot] = LEVEL_FLOOR_DBFS;
    // A free slot below the highest taken one stays in the sum: silent and at gain 0.
    this.#kernel.copyIn(slot, EMPTY);
    this.#kernel.setGain(slot, 0);
    this.#recount();
  }

  #recount(): void {
    let c = 0;
    for (let s = 0; s < this.#members.length; s++) if (this.#members[s] !== undefined) c = s + 1;
    this.#count = c;
  }

  /** The conference rate from the members': a new kernel and every member's resamplers (control time). */
  #retune(): void {
    let rate = this.minRateHz;
    for (const m of this.#members) if (m !== undefined && m.settings.rateHz > rate) rate = m.settings.rateHz;
    if (rate === this.#rateHz) return;
    this.#rateHz = rate;
    this.#kernel.destroy();
    this.#kernel = new Mixer(this.maxMembers, (rate * FRAME_MS) / 1000);
    for (const m of this.#members) m?.retune(rate);
    this.#clearFreeSlots();
  }

  /** A new kernel's gains start at 1 and its inputs are not cleared: free slots are made silent and weightless. */
  #clearFreeSlots(): void {
    for (let s = 0; s < this.maxMembers; s++) {
      if (this.#members[s] !== undefined) continue;
      this.#kernel.copyIn(s, EMPTY);
      this.#kernel.setGain(s, 0);
    }
  }
}

const EMPTY = new Int16Array(0);
