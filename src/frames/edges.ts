import { PACKET_SLOT_WORDS } from './PacketRing.ts';
import { WIRE_SLOT_WORDS } from './wireRing.ts';

/**
 * The geometry of every kind of edge in a call graph, in one place: a ring
 * shared by two actors is made once, from its edge kind, and both kinds'
 * descriptors name the same edge kind for their end of it.
 *
 * | edge      | carries                                       | slots | slot size           |
 * |-----------|-----------------------------------------------|-------|---------------------|
 * | `pcm`     | 20 ms PCM frames up to 48 kHz                 |    64 | 960 samples         |
 * | `packets` | RTP payloads (leg → jitter/PLC)               |    64 | 320 bytes (a larger packet takes several: PacketRing.ts) |
 * | `heard`   | counts with no samples (leg → agent)          |    64 | 1 word              |
 * | `wire`    | Twilio messages (leg → main thread)           |    64 | 80 words (160 bytes)|
 * | `echo`    | mark echoes (main thread → leg)               |  2048 | 1 word              |
 * | `streamWire` | raw stream frames, any codec (leg → main thread) | 64 | a 20 ms L16 frame at the call's rate, ≥ 640 bytes |
 * | `capture` | a local source's PCM (a consumer may be slow) |   128 | 960 samples         |
 * | `record`  | one channel of a recording (actor → recording writer thread) | 128 | 960 samples |
 *
 * 64 slots are 1.28 s of 20 ms frames: a consumer may lag that long before a
 * frame is dropped (counted, never thrown). Twilio echoes every pending mark
 * at once after a clear, so `echo` has room for all of them.
 *
 * A call's `pcm` rings hold frames of the call's rate only (`callEdge`): a
 * narrowband call's is 24 KB, not 123 KB — every slot of a ring is touched
 * within 1.28 s, so a ring's size is resident memory per call.
 */
export interface EdgeSpec {
  readonly slots: number;
  readonly maxSamples: number;
}

export const EDGES = {
  pcm: { slots: 64, maxSamples: 960 },
  packets: { slots: 64, maxSamples: PACKET_SLOT_WORDS },
  heard: { slots: 64, maxSamples: 1 },
  wire: { slots: 64, maxSamples: WIRE_SLOT_WORDS },
  echo: { slots: 2048, maxSamples: 1 },
  streamWire: { slots: 64, maxSamples: 960 },
  capture: { slots: 128, maxSamples: 960 },
  // 2.56 s: the writer thread drains every 100 ms; a disk stalled longer drops recording frames (counted), never call audio.
  record: { slots: 128, maxSamples: 960 },
} as const satisfies Record<string, EdgeSpec>;

export type EdgeKind = keyof typeof EDGES;

/** The `record` ring role of a recording's left channel: the caller, as the jitter/PLC actor played it out. */
export const RECORD_CALLER_ROLE = 'recordCaller';
/** The `record` ring role of a recording's right channel: the agent, as the leg sent it to the caller. */
export const RECORD_AGENT_ROLE = 'recordAgent';

/** The frame the engine moves: 20 ms (DESIGN: audio frames). */
const FRAME_MS = 20;

/** The geometry of a call's ring: a `pcm` (or `record`) edge of a call whose rate is known holds a 20 ms frame at that rate. */
export function callEdge(edge: EdgeKind, rateHz: number | undefined): EdgeSpec {
  const spec = EDGES[edge];
  if (edge === 'streamWire') return streamWireEdge(rateHz);
  if ((edge !== 'pcm' && edge !== 'record') || rateHz === undefined || !Number.isInteger(rateHz) || rateHz <= 0) return spec;
  const samples = (rateHz * FRAME_MS) / 1000;
  return Number.isInteger(samples) && samples <= spec.maxSamples ? { slots: spec.slots, maxSamples: samples } : spec;
}

/** Words a raw stream frame slot needs at least: an Opus frame of up to ~256 kbit/s (20 ms), or a G.722/G.711 frame. */
const STREAM_WIRE_MIN_WORDS = 320;

/** A raw stream leg's wire slot holds its largest frame: 20 ms of L16 at the call's rate (a word a sample), or an Opus frame. */
function streamWireEdge(rateHz: number | undefined): EdgeSpec {
  const spec = EDGES.streamWire;
  if (rateHz === undefined || !Number.isInteger(rateHz) || rateHz <= 0) return spec;
  const samples = (rateHz * FRAME_MS) / 1000;
  return { slots: spec.slots, maxSamples: Math.min(spec.maxSamples, Math.max(STREAM_WIRE_MIN_WORDS, Math.ceil(samples))) };
}
