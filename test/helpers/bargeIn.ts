import { speech } from './fixtures.ts';
import { mulberry32 } from './prng.ts';

/**
 * The caller at 8 kHz: a noise floor (so no frame of the echo is digital
 * silence and every played frame can be counted), 1.2 s of speech from
 * 300 ms, a pause while the echo plays, then speech again over it.
 */
const LEAD_MS = 300;
export function callerPcm(totalMs: number, bargeAtMs: number): Int16Array {
  const { samples } = speech('synth-m-8k');
  const out = new Int16Array(totalMs * 8);
  const rand = mulberry32(7);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((rand() - 0.5) * 120);
  // Speech on top of the floor (the fixture has digital silence in its pauses), after 300 ms
  // of floor alone so the frames the echo keeps from before the VAD's onset are floor too.
  for (let i = 0; i < 1200 * 8; i++) out[LEAD_MS * 8 + i] = out[LEAD_MS * 8 + i]! + samples[i]!;
  for (let i = 0; i < 1200 * 8 && bargeAtMs * 8 + i < out.length; i++) out[bargeAtMs * 8 + i] = out[bargeAtMs * 8 + i]! + samples[i]!;
  return out;
}
