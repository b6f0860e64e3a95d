import { readFileSync } from 'node:fs';
import type { ActorConfig } from '../../protocol.ts';
import { parseCaptureConfig, syntheticSample } from './captureConfig.ts';
import { createDeviceCapture } from './DeviceCapture.ts';
import { CAPTURE_STAT as STAT } from './kind.ts';
import { FrameFlags } from '../../frames/FrameRing.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { readWav, toMono, type Wav } from '../../wire/wav.ts';
import { Resampler } from '../../dsp/resampler.ts';

export { parseCaptureConfig, syntheticSample, type CaptureSource } from './captureConfig.ts';

/** Loads a WAV file as mono at `rateHz` (control time). */
function loadWav(path: string, rateHz: number): Int16Array {
  let wav: Wav;
  try {
    wav = readWav(readFileSync(path));
  } catch (err) {
    // A missing file or one that is not a WAV: the request's fault (a 422), named with the reason.
    throw new RangeError(`capture: ${JSON.stringify(path)} is not a readable WAV file [${(err as Error).message}]`);
  }
  const mono = toMono(wav);
  if (wav.rateHz === rateHz) return mono;
  const r = new Resampler(wav.rateHz, rateHz);
  try {
    const out = new Int16Array(Resampler.outputLength(wav.rateHz, rateHz, mono.length));
    return out.subarray(0, r.process(mono, out));
  } finally {
    r.destroy();
  }
}

/**
 * The capture actor: one 20 ms frame per tick on `out` (the call's caller,
 * for its agent), and the same frame on `monitor` where a playback actor
 * listens to the caller too.
 */
export function createCaptureActor(ctx: ActorContext, config: ActorConfig): HostedActor | Promise<HostedActor> {
  const cfg = parseCaptureConfig(config);
  const out = ctx.rings['out'];
  if (out === undefined) throw new RangeError('capture: no out ring');
  if (cfg.source === 'device') return createDeviceCapture(ctx, cfg);
  const monitor = ctx.rings['monitor'];
  const samplesPerFrame = (cfg.rateHz * ctx.tickMs) / 1000;
  const frame = new Int16Array(samplesPerFrame);
  const file = cfg.source === 'wav' ? loadWav(cfg.path, cfg.rateHz) : undefined;
  if (file !== undefined && file.length < samplesPerFrame) throw new RangeError('capture: the WAV file is shorter than one frame');
  const toneHz = cfg.source === 'synthetic' ? (cfg.toneHz ?? 440) : 0;
  const amplitude = cfg.source === 'synthetic' ? (cfg.amplitude ?? 8000) : 0;
  let sequence = 0;
  let filePos = 0;
  ctx.stats[STAT.RATE] = cfg.rateHz;

  return {
    tick(): number {
      const first = sequence * samplesPerFrame;
      if (file === undefined) {
        for (let i = 0; i < samplesPerFrame; i++) frame[i] = syntheticSample(first + i, cfg.rateHz, toneHz, amplitude);
      } else {
        for (let i = 0; i < samplesPerFrame; i++) {
          frame[i] = file[filePos]!;
          filePos = filePos + 1 === file.length ? 0 : filePos + 1;
        }
      }
      // The timestamp is the sample clock of the first sample, as in RTP (wraps at 2^32).
      const ok = out.write(frame, samplesPerFrame, sequence >>> 0, first >>> 0, cfg.rateHz, FrameFlags.SPEECH);
      monitor?.write(frame, samplesPerFrame, sequence >>> 0, first >>> 0, cfg.rateHz, FrameFlags.SPEECH);
      sequence++;
      if (ok) ctx.stats[STAT.FRAMES]++;
      else ctx.stats[STAT.OVERFLOWS]++;
      return 1;
    },
    close(): void {},
  };
}
