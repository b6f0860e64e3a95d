import type { ActorConfig } from '../../protocol.ts';
import { FrameFlags, FrameMeta } from '../../frames/FrameRing.ts';
import { Resampler, SUPPORTED_RATES_HZ } from '../../dsp/resampler.ts';
import { DEVICE_BLOCK_MS, DEVICE_RATE_HZ } from '../../devices/DeviceInput.ts';
import { DeviceOutput } from '../../devices/DeviceOutput.ts';
import { deviceError } from '../../devices/DeviceProcess.ts';
import type { ActorContext, HostedActor } from '../Actor.ts';
import { PLAYBACK_LISTEN, PLAYBACK_STAT as STAT, type PlaybackListen } from './kind.ts';

/** Agent frames beyond this backlog are skipped (the agent ran ahead of the device): 100 ms. */
const MAX_BACKLOG_FRAMES = 5;

export interface PlaybackConfig {
  rateHz: number;
  /** Output device name; absent: frames are consumed at the frame clock and played nowhere. */
  device: string | undefined;
  blockMs: number;
  listen: PlaybackListen;
}

export function parsePlaybackConfig(config: ActorConfig): PlaybackConfig {
  const rateHz = config['rateHz'] ?? 16000;
  if (typeof rateHz !== 'number' || !(SUPPORTED_RATES_HZ as readonly number[]).includes(rateHz)) {
    throw new RangeError(`playback: rateHz must be one of ${SUPPORTED_RATES_HZ.join(', ')} [got:${String(rateHz)}]`);
  }
  const device = config['device'];
  if (device !== undefined && (typeof device !== 'string' || device.length === 0 || device.length > 256)) {
    throw new RangeError('playback: device must be a device name (1–256 characters)');
  }
  const blockMs = config['blockMs'] ?? 20;
  if (!(DEVICE_BLOCK_MS as readonly unknown[]).includes(blockMs)) throw new RangeError(`playback: blockMs must be one of ${DEVICE_BLOCK_MS.join(', ')}`);
  const listen = config['listen'] ?? 'agent';
  if (!(PLAYBACK_LISTEN as readonly unknown[]).includes(listen)) {
    throw new RangeError(`playback: listen must be one of ${PLAYBACK_LISTEN.join(', ')} [got:${JSON.stringify(listen)}]`);
  }
  return { rateHz, device, blockMs: blockMs as number, listen: listen as PlaybackListen };
}

/**
 * Plays a call to an output device: per tick, the agent's next frame (its
 * heard count goes back to the agent as the frame is handed to the device)
 * and, where the call listens to the caller, the caller's frame, mixed with
 * saturation, resampled to 48 kHz and queued for the device (DeviceOutput).
 * A device that fails mid-call is reported once (`device.failed`) and the
 * call goes on with its audio played nowhere.
 */
export async function createPlaybackActor(ctx: ActorContext, config: ActorConfig): Promise<HostedActor> {
  const cfg = parsePlaybackConfig(config);
  const input = ctx.rings['in'];
  const heard = ctx.rings['heard'];
  if (input === undefined || heard === undefined) throw new RangeError('playback: needs in and heard rings');
  const caller = cfg.listen === 'agent' ? undefined : ctx.rings['caller'];
  if (cfg.listen !== 'agent' && caller === undefined) throw new RangeError(`playback: listen "${cfg.listen}" needs the caller's ring`);
  const samples = (cfg.rateHz * ctx.tickMs) / 1000;
  const stats = ctx.stats;
  stats[STAT.RATE] = cfg.rateHz;
  let output: DeviceOutput | undefined;
  let closed = false;
  if (cfg.device !== undefined) {
    output = await DeviceOutput.open(cfg.device, cfg.blockMs, ctx.tickMs).catch((err: unknown) => {
      throw deviceError('playback', err);
    });
    ctx.log.info({ device: output.deviceName, listen: cfg.listen, blockMs: cfg.blockMs }, 'playback device open');
    const opened = output;
    opened.onEnd((error) => {
      if (closed) return;
      stats[STAT.DEVICE_FAILED] = 1;
      const reason = `playback device "${opened.deviceName}" failed: ${error ?? 'it stopped'}`;
      ctx.log.warn({ device: opened.deviceName, output: opened.noise.slice(-400) }, `${reason}; the call goes on unheard`);
      ctx.emit('device.failed', { reason });
      output = undefined;
    });
  }
  const agentFrame = new Int16Array(samples);
  const callerFrame = new Int16Array(samples);
  const mixed = new Int16Array(samples);
  const none = new Int16Array(1);
  const meta = new FrameMeta();
  const resampler = cfg.rateHz === DEVICE_RATE_HZ ? undefined : new Resampler(cfg.rateHz, DEVICE_RATE_HZ);
  let heardValue = 0;

  /** The agent's next frame into agentFrame (zeros when it has none); CLEARs answered at once: nothing is held here. */
  const readAgent = (): void => {
    for (let k = input.available(); k > MAX_BACKLOG_FRAMES + 1; k--) {
      input.read(none, meta);
      if ((meta.flags & FrameFlags.CLEAR) !== 0) heard.write(none, 0, heardValue, 0, 0, FrameFlags.CLEAR);
    }
    for (;;) {
      if (!input.read(agentFrame, meta)) {
        agentFrame.fill(0);
        return;
      }
      if ((meta.flags & FrameFlags.CLEAR) !== 0) {
        heard.write(none, 0, heardValue, 0, 0, FrameFlags.CLEAR);
        continue;
      }
      stats[STAT.FRAMES_IN]++;
      if (meta.sampleCount < samples) agentFrame.fill(0, meta.sampleCount);
      heardValue = (meta.sequence + 1) >>> 0;
      heard.write(none, 0, heardValue, 0, 0, 0);
      return;
    }
  };

  return {
    tick(): number {
      readAgent();
      let src = agentFrame;
      if (caller !== undefined) {
        if (caller.read(callerFrame, meta)) stats[STAT.CALLER_FRAMES]++;
        else callerFrame.fill(0);
        if (cfg.listen === 'caller') src = callerFrame;
        else {
          for (let i = 0; i < samples; i++) {
            const s = agentFrame[i]! + callerFrame[i]!;
            mixed[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
          }
          src = mixed;
        }
      }
      if (output === undefined) return 1;
      const frame = output.frame();
      if (frame === undefined) {
        stats[STAT.DROPPED]++;
        return 1;
      }
      if (resampler === undefined) frame.set(src);
      else resampler.process(src, frame);
      output.queue();
      stats[STAT.FRAMES_PLAYED]++;
      return 1;
    },
    close(): void {
      closed = true;
      output?.close();
      resampler?.destroy();
    },
  };
}
