import type { ActorConfig } from '../../protocol.ts';
import { SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';
import { DEVICE_BLOCK_MS } from '../../devices/DeviceInput.ts';

/**
 * A local audio source: one 20 ms frame per tick into its `out` ring.
 * `synthetic` is a tone whose every sample is a pure function of its index
 * (so a consumer can verify each frame), `wav` loops a file, `device` is
 * PortAudio capture and needs a sound device.
 */
export type CaptureSource =
  | { source: 'synthetic'; rateHz: number; toneHz?: number; amplitude?: number }
  | { source: 'wav'; rateHz: number; path: string }
  | { source: 'device'; rateHz: number; device: string; blockMs: number };

/** The value of sample `n` of a synthetic stream; tests recompute it. */
export function syntheticSample(n: number, rateHz: number, toneHz: number, amplitude: number): number {
  return Math.round(amplitude * Math.sin((2 * Math.PI * toneHz * (n % rateHz)) / rateHz));
}

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
    case 'device': {
      const device = config['device'];
      const blockMs = config['blockMs'] ?? 20;
      if (typeof device !== 'string' || device.length === 0 || device.length > 256) {
        throw new RangeError('capture: device source needs a device name (1–256 characters)');
      }
      if (!(DEVICE_BLOCK_MS as readonly unknown[]).includes(blockMs)) {
        throw new RangeError(`capture: blockMs must be one of ${DEVICE_BLOCK_MS.join(', ')} [got:${String(blockMs)}]`);
      }
      return { source: 'device', rateHz, device, blockMs: blockMs as number };
    }
    default:
      throw new RangeError(`capture: unknown source "${String(source)}" (synthetic, wav, device)`);
  }
}

