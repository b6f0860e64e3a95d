/**
 * Ducking: while one member dominates the conversation, every other member
 * is lowered by `depthDb`, so side talk and background noise do not compete
 * with the one speaking.
 *
 * Choosing the dominant speaker (by the VAD and the level):
 * - only members the VAD says are talking can dominate;
 * - the dominant keeps the floor while it talks, unless another talker is
 *   louder by SWITCH_MARGIN_DB for SWITCH_FRAMES frames in a row (a cough
 *   or a short interjection does not take the floor);
 * - when the dominant stops (its VAD hangover has run out) the loudest talker
 *   takes over at once; with no talker the floor stays empty.
 *
 * The gains move in dB on straight lines: down by `depthDb` over `attackMs`,
 * back up over `releaseMs`. The release is several times the attack and the
 * VAD's hangover bridges the pauses between words, so the ducked members are
 * not let up and pushed down again at every breath (no pumping).
 *
 * `update` is the per-frame call: it allocates nothing and never throws.
 */
export interface DuckingSettings {
  /** How far the non-dominant members are lowered, dB (positive). */
  depthDb: number;
  attackMs: number;
  releaseMs: number;
}

export const DEFAULT_DUCKING: Readonly<DuckingSettings> = { depthDb: 10, attackMs: 60, releaseMs: 600 };

/** How much louder a challenger must be to take the floor from a dominant that still talks. */
export const SWITCH_MARGIN_DB = 6;
/** Frames in a row a challenger must hold that margin (100 ms at 20 ms frames). */
export const SWITCH_FRAMES = 5;

export class Ducker {
  readonly #settings: DuckingSettings;
  readonly #attackDbPerFrame: number;
  readonly #releaseDbPerFrame: number;
  /** Each slot's ducking now, dB (≤ 0). */
  readonly duckDb: Float64Array;
  /** The slot that has the floor, −1 for none. */
  dominant = -1;
  #challenger = -1;
  #challengeFrames = 0;

  constructor(maxMembers: number, settings: DuckingSettings, frameMs: number) {
    this.#settings = settings;
    this.#attackDbPerFrame = (settings.depthDb * frameMs) / Math.max(frameMs, settings.attackMs);
    this.#releaseDbPerFrame = (settings.depthDb * frameMs) / Math.max(frameMs, settings.releaseMs);
    this.duckDb = new Float64Array(maxMembers);
  }

  /**
   * One frame: `active[s]` says slot s is a member, `talking[s]` what its VAD
   * says, `levelDb[s]` its smoothed level. Moves every member's ducking one
   * frame towards its target.
   */
  update(active: Uint8Array, talking: Uint8Array, levelDb: Float64Array): void {
    let loudest = -1;
    for (let s = 0; s < active.length; s++) {
      if (active[s] === 1 && talking[s] === 1 && (loudest < 0 || levelDb[s]! > levelDb[loudest]!)) loudest = s;
    }
    const d = this.dominant;
    if (d < 0 || active[d] !== 1 || talking[d] !== 1) {
      this.dominant = loudest;
      this.#challengeFrames = 0;
    } else if (loudest >= 0 && loudest !== d && levelDb[loudest]! >= levelDb[d]! + SWITCH_MARGIN_DB) {
      if (loudest === this.#challenger) this.#challengeFrames++;
      else {
        this.#challenger = loudest;
        this.#challengeFrames = 1;
      }
      if (this.#challengeFrames >= SWITCH_FRAMES) {
        this.dominant = loudest;
        this.#challengeFrames = 0;
      }
    } else {
      this.#challengeFrames = 0;
    }
    const floor = this.dominant;
    const depth = -this.#settings.depthDb;
    for (let s = 0; s < active.length; s++) {
      const target = active[s] === 1 && floor >= 0 && s !== floor ? depth : 0;
      const now = this.duckDb[s]!;
      this.duckDb[s] = now > target ? Math.max(target, now - this.#attackDbPerFrame) : Math.min(target, now + this.#releaseDbPerFrame);
    }
  }

  /** A slot that leaves or joins starts undocked. */
  reset(slot: number): void {
    this.duckDb[slot] = 0;
    if (this.dominant === slot) this.dominant = -1;
    if (this.#challenger === slot) this.#challenger = -1;
  }
}
