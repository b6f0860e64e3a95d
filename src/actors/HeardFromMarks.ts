import { FrameFlags, type FrameRing } from '../frames/FrameRing.ts';
import { EchoMessage, type EchoReader } from '../frames/wireRing.ts';
import { ECHO_CLEARED, ECHO_PLAYED, type TwilioPacer } from '../wire/twilioPacer.ts';

/** Chunk → agent frame sequence, for as many chunks as can be queued and in flight. */
const CHUNK_MAP = 1024;
/** One pacer chunk is one 20 ms frame of the agent's. */
const CHUNK_MS = 20;

/** Where in the leg's stats the echoes are counted. */
export interface MarkEchoStatSlots {
  played: number;
  cleared: number;
  unknown: number;
}

/**
 * The leg's side of the barge-in protocol (agent/kind.ts) for a WebSocket leg
 * paced by TwilioPacer — the Twilio leg and the raw stream leg: mark echoes
 * and clear fences from `echo` go to the pacer (echoes first in a tick: those
 * read before a fence are real playouts), and the pacer's heard place becomes
 * the agent's heard count on `heard` — the sequence after the last of its
 * frames the caller has heard, then, after a CLEAR, the final count flagged
 * CLEAR once every mark sent before it is back. Nothing allocated after
 * construction.
 */
export class HeardFromMarks {
  readonly #pacer: TwilioPacer;
  readonly #echoes: EchoReader;
  readonly #heard: FrameRing;
  readonly #stats: Float64Array;
  readonly #at: MarkEchoStatSlots;
  /** The agent's sequence number of each queued chunk, by chunk index (a chunk's timeline place ÷ 20 ms). */
  readonly #chunkSeq = new Uint32Array(CHUNK_MAP);
  readonly #none = new Int16Array(1);
  #chunks = 0;
  #heardChunks = 0;
  #heardValue = 0;
  #finalDue = false;

  constructor(pacer: TwilioPacer, echoes: EchoReader, heard: FrameRing, stats: Float64Array, at: MarkEchoStatSlots) {
    this.#pacer = pacer;
    this.#echoes = echoes;
    this.#heard = heard;
    this.#stats = stats;
    this.#at = at;
  }

  /** Takes every echo and fence waiting; returns how many. */
  readEchoes(): number {
    const echoes = this.#echoes;
    let n = 0;
    for (let m = echoes.read(); m !== EchoMessage.NONE; m = echoes.read()) {
      n++;
      if (m === EchoMessage.FENCE) {
        this.#pacer.fence(echoes.sinceEchoMs);
        continue;
      }
      const kind = this.#pacer.onMarkEchoSlot(echoes.slot);
      this.#stats[kind === ECHO_PLAYED ? this.#at.played : kind === ECHO_CLEARED ? this.#at.cleared : this.#at.unknown]++;
    }
    return n;
  }

  /** The agent's frame `sequence` took the pacer's next 20 ms chunk. */
  queued(sequence: number): void {
    this.#chunkSeq[this.#chunks % CHUNK_MAP] = sequence;
    this.#chunks++;
  }

  /** The agent's CLEAR (the pacer has been cleared): its final count is due once settled. */
  cleared(): void {
    this.#finalDue = true;
  }

  /** Tells the agent how far the caller has heard, and the final count after a clear once known. */
  publish(): void {
    const n = Math.floor(this.#pacer.heardMs() / CHUNK_MS);
    if (n > this.#heardChunks) {
      this.#heardChunks = n;
      this.#heardValue = (this.#chunkSeq[(n - 1) % CHUNK_MAP]! + 1) >>> 0;
      this.#heard.write(this.#none, 0, this.#heardValue, 0, 0, 0);
    }
    if (this.#finalDue && this.#pacer.clearSettled()) {
      this.#finalDue = false;
      this.#heard.write(this.#none, 0, this.#heardValue, 0, 0, FrameFlags.CLEAR);
    }
  }
}
