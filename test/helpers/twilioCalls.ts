/**
 * What a Twilio caller said and heard, judged as the echo agent and a
 * listener would: the agent's VAD over the caller's µ-law, and the envelope
 * of what the peer played. Shared by the load test and the Twilio benchmark.
 */
import { TWILIO_LEG_RATE_HZ } from '../../src/actors/twilio/kind.ts';
import { ulawDecode } from '../../src/dsp/g711.ts';
import { Vad } from '../../src/dsp/vad.ts';

/** µ-law codes of digital silence (±0); Twilio plays silence when nothing is queued. */
export const ULAW_SILENCE = 0xff;
const ULAW_NEG_ZERO = 0x7f;
const FRAME = 160;

/** Bytes of agent audio that were not silence. */
export function voicedBytes(bytes: readonly number[]): number {
  let n = 0;
  for (const b of bytes) if (b !== ULAW_SILENCE && b !== ULAW_NEG_ZERO) n++;
  return n;
}

/** The VAD the echo agent runs on a Twilio call (LocalAgent: `new Vad(rateHz, { frameMs: tickMs })`, 20 ms ticks). */
export function agentVad(): Vad {
  return new Vad(TWILIO_LEG_RATE_HZ, { frameMs: 20 });
}

/** The agent's VAD decision per 20 ms frame of 8 kHz µ-law, from a fresh state. */
export function vadDecisions(codes: Uint8Array): boolean[] {
  const pcm = new Int16Array(codes.length);
  ulawDecode(codes, pcm);
  const vad = agentVad();
  const out: boolean[] = [];
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) out.push(vad.process(pcm.subarray(at, at + FRAME)));
  vad.destroy();
  return out;
}

/**
 * Frame offsets of up to `count` non-overlapping stretches of `frames` in
 * µ-law speech that the agent's VAD hears as unbroken speech, staying speech
 * a hangover past their end: each, cut out and followed by silence, is one
 * turn that ends on a clean edge at its last frame.
 */
export function unbrokenSpeech(codes: Uint8Array, frames: number, count: number): number[] {
  const decisions = vadDecisions(codes);
  const vad = agentVad();
  const need = frames + vad.settings.hangoverFrames + 2;
  vad.destroy();
  const found: number[] = [];
  for (let f = 0; found.length < count && f + need <= decisions.length; f++) {
    let unbroken = true;
    for (let k = 0; k < need && unbroken; k++) unbroken = decisions[f + k]!;
    if (unbroken) {
      found.push(f);
      f += frames;
    }
  }
  return found;
}

/** Mean absolute level of each 20 ms frame of 8 kHz µ-law. */
export function ulawEnvelope(codes: Uint8Array): Float64Array {
  const pcm = new Int16Array(codes.length);
  ulawDecode(codes, pcm);
  const out = new Float64Array(Math.floor(pcm.length / FRAME));
  for (let f = 0; f < out.length; f++) {
    let e = 0;
    for (let k = 0; k < FRAME; k++) e += Math.abs(pcm[f * FRAME + k]!);
    out[f] = e / FRAME;
  }
  return out;
}

/** Normalized cross-correlation of `a[aFrom..aFrom+n)` and `b[bFrom..bFrom+n)`; -1 when either is flat. */
function ncc(a: Float64Array, aFrom: number, b: Float64Array, bFrom: number, n: number): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[aFrom + i]!;
    mb += b[bFrom + i]!;
  }
  ma /= n;
  mb /= n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    const x = a[aFrom + i]! - ma;
    const y = b[bFrom + i]! - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : -1;
}

/**
 * How well `heard` carries the envelope of `sent`, in order: `sent` is first
 * placed where it matches `heard` best as a whole (normalized
 * cross-correlation), then each block of `blockFrames` is matched within
 * `slackFrames` of its place there, and the median block score is the
 * answer. Near 1 when the caller heard what was said, even if the jitter
 * buffer stretched or squeezed it in places (which misaligns one long
 * correlation); much lower for other speech.
 */
export function envelopeSimilarity(sent: Float64Array, heard: Float64Array, blockFrames: number, slackFrames: number): number {
  const n = Math.min(sent.length, heard.length);
  let place = 0;
  let best = -2;
  for (let at = 0; at + n <= heard.length; at++) {
    const score = ncc(sent, 0, heard, at, n);
    if (score > best) [best, place] = [score, at];
  }
  const scores: number[] = [];
  for (let from = 0; from + blockFrames <= sent.length; from += blockFrames) {
    let blockBest = -1;
    const lo = Math.max(0, place + from - slackFrames);
    const hi = Math.min(heard.length - blockFrames, place + from + slackFrames);
    for (let at = lo; at <= hi; at++) blockBest = Math.max(blockBest, ncc(sent, from, heard, at, blockFrames));
    scores.push(blockBest);
  }
  return percentile(scores, 50);
}

/** Nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
