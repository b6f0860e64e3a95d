import type { Logger } from 'pino';
import { parseCaptureSpec, parsePlaybackSpec } from '../devices/deviceSpec.ts';
import type { CallInfo, Runtime } from '../supervisor/Runtime.ts';

/** Longest reason quoted in the one line a fallback logs. */
const REASON_CHARS = 300;

export interface LocalAudioConfig {
  capture: string;
  playback: string;
  devices: { listen: 'agent' | 'caller' | 'both'; blockMs: 10 | 20 };
}

function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS)}…` : text;
}

/**
 * `--capture` / `--playback`: places the daemon's capture call, an ordinary
 * call (listed, hung up, joined to a conference like any other) whose caller
 * is the local source and whose agent is heard on the playback device. What
 * cannot run falls back in one logged line: an output device to none (the
 * call plays nowhere), an input device or file to no capture call. The daemon
 * serves its other calls either way.
 */
export async function startLocalAudio(runtime: Runtime, config: LocalAudioConfig, log: Logger): Promise<CallInfo | undefined> {
  const capture = parseCaptureSpec(config.capture);
  const playback = parsePlaybackSpec(config.playback);
  if (capture.kind === 'none') {
    if (playback.kind !== 'none') log.warn({ playback: config.playback }, 'playback has nothing to play without a capture source (--capture): not started');
    return undefined;
  }
  const request = (playbackSpec: string) => ({
    transport: 'capture',
    source: config.capture,
    playback: playbackSpec,
    listen: config.devices.listen,
    blockMs: config.devices.blockMs,
  });
  let call: CallInfo;
  try {
    call = await runtime.createCall(request(config.playback));
  } catch (err) {
    const reason = reasonOf(err);
    if (playback.kind !== 'device' || !reason.startsWith('playback:')) {
      log.warn({ capture: config.capture, reason }, `capture source ${config.capture} unavailable: running without a capture call`);
      return undefined;
    }
    log.warn({ playback: config.playback, reason }, `playback device unavailable: the capture call plays nowhere`);
    try {
      call = await runtime.createCall(request('none'));
    } catch (again) {
      log.warn({ capture: config.capture, reason: reasonOf(again) }, `capture source ${config.capture} unavailable: running without a capture call`);
      return undefined;
    }
  }
  log.info({ call: call.id, capture: config.capture, playback: call['playback'], listen: config.devices.listen }, 'capture call started');
  return call;
}
