/**
 * The two rings between a Twilio leg (on a network worker) and its Media
 * Stream's WebSocket (on the main thread, where the HTTP server is: a socket
 * cannot move to a worker thread). The main thread only parses and frames
 * messages; pacing, mark accounting and µ-law coding happen on the worker.
 *
 * `wire` (leg → main thread), one outbound message per slot, in send order:
 *
 * | flags          | message | slot fields                                         |
 * |----------------|---------|-----------------------------------------------------|
 * | WIRE_MEDIA     | media   | payload bytes packed in the int16 area, `timestamp` = byte count |
 * | WIRE_MARK      | mark    | `sequence` = mark slot: the name is `markName(slot)` |
 * | FrameFlags.CLEAR | clear | —                                                   |
 *
 * `echo` (main thread → leg), what came back, in receive order:
 *
 * | flags            | meaning                                                   |
 * |------------------|-----------------------------------------------------------|
 * | 0                | a mark echo: `sequence` = its slot                         |
 * | FrameFlags.CLEAR | fence: the `clear` just went out on the socket; echoes    |
 * |                  | after this one may be Twilio's flush, not playout          |
 */
import { FrameFlags } from '../../frames/FrameRing.ts';

export const WIRE_MEDIA = 1 << 8;
export const WIRE_MARK = 1 << 9;
export const WIRE_CLEAR = FrameFlags.CLEAR;
export const ECHO_FENCE = FrameFlags.CLEAR;

/** One 20 ms µ-law chunk; a wire slot holds it as 80 int16 words. */
export const WIRE_CHUNK_BYTES = 160;
export const WIRE_SLOT_WORDS = WIRE_CHUNK_BYTES / 2;

/** Marks outstanding at most (the pacer's ring): 20 s of 20 ms chunks, far beyond its lead. */
export const MAX_MARKS = 1024;
/** Mark names: short, ours, and parsed back without a lookup table. */
export const MARK_PREFIX = 'sb';

const NAMES: readonly string[] = Array.from({ length: MAX_MARKS }, (_, i) => `${MARK_PREFIX}${i}`);

export function markName(slot: number): string {
  return NAMES[slot] ?? `${MARK_PREFIX}${slot}`;
}

/** The slot of one of our mark names, or -1 for any other name. */
export function markSlot(name: string): number {
  if (!name.startsWith(MARK_PREFIX) || name.length > MARK_PREFIX.length + 4) return -1;
  const digits = name.slice(MARK_PREFIX.length);
  if (!/^(?:0|[1-9]\d*)$/.test(digits)) return -1;
  const slot = Number(digits);
  return slot < MAX_MARKS ? slot : -1;
}
