import { FrameFlags } from '../../frames/FrameRing.ts';
import { Resampler } from '../../dsp/resampler.ts';
import { DEVICE_RATE_HZ, DeviceInput } from '../../devices/DeviceInput.ts';
import { deviceError } from '../../devices/DeviceProcess.ts';
import { PEER_ENDED_EVENT } from '../../protocol.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import type { CaptureSource } from './captureConfig.ts';
import { CAPTURE_STAT as STAT } from './kind.ts';

/** Device audio held before the first frame is taken (and again after an underrun): a cushion against the two clocks' phase. */
const PRIME_FRAMES = 2;

/**
 * Capture from an input device. The device's samples arrive on this thread's
 * event loop (DeviceInput); each tick takes one frame's worth at 48 kHz,
 * resamples it to the call's rate and writes it on `out` (and `monitor`). The
 * frame clock paces everything: a device faster than real time (ALSA's file
 * plugin) is read no faster than that, a slower or late one gives a frame of
 * silence flagged SILENCE (counted in `underruns`) and a fresh cushion.
 *
 * A device that fails mid-call (unplugged, the host process killed) ends the
 * call as a peer that hung up (`peer.ended` with the reason): its caller is
 * gone. The agent and the rest of the daemon go on.
 */
export async function createDeviceCapture(ctx: ActorContext, cfg: Extract<CaptureSource, { source: 'device' }>): Promise<HostedActor> {
  const out = ctx.rings['out']!;
  const monitor = ctx.rings['monitor'];
  const deviceSamples = (DEVICE_RATE_HZ * ctx.tickMs) / 1000;
  const samples = (cfg.rateHz * ctx.tickMs) / 1000;
  const input = await DeviceInput.open(cfg.device, cfg.blockMs).catch((err: unknown) => {
    throw deviceError('capture', err);
  });
  ctx.log.info({ device: input.deviceName, rateHz: cfg.rateHz, blockMs: cfg.blockMs }, 'capture device open');
  ctx.log.debug({ output: input.noise }, 'capture device host output');
  const raw = new Int16Array(deviceSamples);
  const frame = new Int16Array(samples);
  const resampler = cfg.rateHz === DEVICE_RATE_HZ ? undefined : new Resampler(DEVICE_RATE_HZ, cfg.rateHz);
  const stats = ctx.stats;
  stats[STAT.RATE] = cfg.rateHz;
  let closed = false;
  input.onEnd((error) => {
    if (closed) return;
    stats[STAT.DEVICE_FAILED] = 1;
    const reason = `capture device "${input.deviceName}" failed: ${error ?? 'it stopped'}`;
    ctx.log.warn({ device: input.deviceName, output: input.noise.slice(-400) }, reason);
    ctx.emit(PEER_ENDED_EVENT, { reason });
  });

  let primed = false;
  let sequence = 0;
  return {
    tick(): number {
      if (!primed) primed = input.buffered >= PRIME_FRAMES * deviceSamples;
      let flags = 0;
      if (primed && input.take(raw, deviceSamples)) {
        if (resampler === undefined) frame.set(raw);
        else resampler.process(raw, frame);
      } else {
        if (primed) {
          stats[STAT.UNDERRUNS]++;
          primed = false;
        }
        frame.fill(0);
        flags = FrameFlags.SILENCE;
      }
      const ts = (sequence * samples) >>> 0;
      if (out.write(frame, samples, sequence >>> 0, ts, cfg.rateHz, flags)) stats[STAT.FRAMES]++;
      else stats[STAT.OVERFLOWS]++;
      monitor?.write(frame, samples, sequence >>> 0, ts, cfg.rateHz, flags);
      stats[STAT.BUFFERED_MS] = (input.buffered * 1000) / DEVICE_RATE_HZ;
      stats[STAT.SAMPLES_DROPPED] = input.dropped;
      sequence++;
      return 1;
    },
    close(): void {
      closed = true;
      input.close();
      resampler?.destroy();
    },
  };
}
