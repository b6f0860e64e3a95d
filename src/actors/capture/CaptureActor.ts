import { readFileSync } from 'node:fs';
import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags } from '../../frames/FrameRing.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { readWav, toMono } from '../../wire/wav.ts';
import { Resampler, SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';

/**
 * A local audio source: one 20 ms frame per tick into its `out` ring.
 * `synthetic` is a tone whose every sample is a pure function of its index
 * (so a consumer can verify each frame), `wav` loops a file, `device` is
 * PortAudio capture and needs a sound device.
 */
export type CaptureSource =
  | { source: 'synthetic'; rateHz: number; toneHz?: number; amplitude?: number }
  | { source: 'wav'; rateHz: number; path: string }
  | { source: 'device'; rateHz: number; device?: number };

/** The value of sample `n` of a synthetic stream; tests recompute it. */
export function syntheticSample(n: number, rateHz: number, toneHz: number, amplitude: number): number {
  return Math.round(amplitude * Math.sin((2 * Math.PI * toneHz * (n % rateHz)) / rateHz));
}

const STAT = { FRAMES: 0, OVERFLOWS: 1, RATE: 2 } as const;

export function parseCaptureConfig(config: ActorConfig): CaptureSource {
  const rateHz = config['rateHz'] ?? 16000;
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`capture: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [got:${String(rateHz)}]`);
  }
  const source = config['source'] ?? 'synthetic';
  switch (source) {
    case 'synthetic': {
      const toneHz = config['toneHz'] ?? 440;
      const amplitude = config['amplitude'] ?? 8000;
      if (typeof toneHz !== 'number' || toneHz <= 0 || toneHz >= rateHz / 2) {
        throw new RangeError(`capture: toneHz must be in (0, ${rateHz / 2}) [got:${String(toneHz)}]`);
      }
      if (typeof amplitude !== 'number' || amplitude < 0 || amplitude > 32767) {
        throw new RangeError(`capture: amplitude must be in [0, 32767] [got:${String(amplitude)}]`);
      }
      return { source: 'synthetic', rateHz, toneHz, amplitude };
    }
    case 'wav': {
      const path = config['path'];
      if (typeof path !== 'string' || path.length === 0) throw new RangeError('capture: wav source needs a path');
      return { source: 'wav', rateHz, path };
    }
    case 'device':
      return { source: 'device', rateHz };
    default:
      throw new RangeError(`capture: unknown source "${String(source)}" (synthetic, wav, device)`);
  }
}

/** Loads a WAV file as mono at `rateHz` (control time). */
function loadWav(path: string, rateHz: number): Int16Array {
  const wav = readWav(readFileSync(path));
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

export function createCaptureActor(ctx: ActorContext, config: ActorConfig): HostedActor {
  const cfg = parseCaptureConfig(config);
  const out = ctx.rings['out'];
  if (out === undefined) throw new RangeError('capture: no out ring');
  if (cfg.source === 'device') {
    // PortAudio (naudiodon) is optional and this build has no device support.
    throw new Error('capture: no audio device available on this host (device capture needs naudiodon and a sound device)');
  }
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
      sequence++;
      if (ok) ctx.stats[STAT.FRAMES]++;
      else ctx.stats[STAT.OVERFLOWS]++;
      return 1;
    },
    close(): void {},
  };
}
