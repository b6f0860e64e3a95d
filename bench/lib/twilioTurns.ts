/**
 * Callers' audio for the Twilio benchmark: a lead silence, then turns of
 * speech each followed by enough silence for the echo agent to say it back;
 * and where, to the frame, the agent's VAD ends each turn (found by running
 * the same VAD, with the agent's settings, over the same decoded audio).
 */
import { agentVad, unbrokenSpeech, vadDecisions } from '../../test/helpers/twilioCalls.ts';
import { ulawSpeech } from '../../test/peers/TwilioClient.ts';

const CHUNK_MS = 20;
const CHUNK = 160;
const ULAW_SILENCE = 0xff;

export interface TurnPlan {
  /** The caller's whole stream, µ-law. */
  audio: Uint8Array;
  /** Per turn: the index of the last chunk the VAD counts as speech (its hangover starts after it). */
  lastSpeechChunk: number[];
  /** Per turn: the chunk where the next turn's speech starts (or the end of the audio). */
  nextTurnChunk: number[];
}

/** The agent VAD's hangover, from its configuration. */
export function hangoverMs(): number {
  const vad = agentVad();
  const ms = vad.settings.hangoverFrames * vad.settings.frameMs;
  vad.destroy();
  return ms;
}

/** `turns` turns of `speechMs` from a voice, each cut inside unbroken speech so it ends on a clean edge. */
export function planTurns(voice: string, turns: number, speechMs: number, silenceMs: number, leadMs: number): TurnPlan {
  const source = ulawSpeech(voice);
  const speechChunks = speechMs / CHUNK_MS;
  const segments = unbrokenSpeech(source, speechChunks, turns);
  if (segments.length < turns) throw new RangeError(`not enough unbroken speech [voice:${voice}, turns:${turns}, found:${segments.length}]`);
  const periodChunks = (speechMs + silenceMs) / CHUNK_MS;
  const leadChunks = leadMs / CHUNK_MS;
  const audio = new Uint8Array((leadChunks + turns * periodChunks) * CHUNK).fill(ULAW_SILENCE);
  segments.forEach((f, t) => audio.set(source.subarray(f * CHUNK, (f + speechChunks) * CHUNK), (leadChunks + t * periodChunks) * CHUNK));

  // Where the agent's VAD ends each turn in this stream: the turn's last speech frame is a hangover before the edge.
  const hangoverChunks = hangoverMs() / CHUNK_MS;
  const d = vadDecisions(audio);
  const lastSpeechChunk: number[] = [];
  for (let c = 1; c < d.length; c++) if (d[c - 1] && !d[c]) lastSpeechChunk.push(c - 1 - hangoverChunks);
  if (lastSpeechChunk.length !== turns) throw new RangeError(`the VAD found ${lastSpeechChunk.length} turns, not ${turns} [voice:${voice}]`);
  const nextTurnChunk = lastSpeechChunk.map((_, t) => (t + 1 < turns ? leadChunks + (t + 1) * periodChunks : d.length));
  return { audio, lastSpeechChunk, nextTurnChunk };
}
