import type { Logger } from 'pino';
import type { DeviceInfo } from '../protocol.ts';
import { listDevices } from './DeviceProcess.ts';

/** The sound devices as /status shows them. */
export interface DevicesStatus {
  /** `scanning` until the first scan ends; `unavailable` with the reason where naudiodon or PortAudio is missing or failed. */
  state: 'scanning' | 'ready' | 'unavailable';
  reason?: string;
  devices: DeviceInfo[];
}

/**
 * The devices PortAudio finds, scanned once at start in a child process
 * (DeviceProcess.ts) so that neither the scan's time nor its output reaches
 * the daemon. The result is logged in one line: the devices found, or why
 * there are none (capture and playback then fall back: tone or file sources,
 * playback to nowhere).
 */
export class DeviceCatalog {
  #status: DevicesStatus = { state: 'scanning', devices: [] };
  #scan: Promise<DevicesStatus> | undefined;

  status(): DevicesStatus {
    return this.#status;
  }

  /** Scans (once; later calls get the same result). */
  scan(log: Logger): Promise<DevicesStatus> {
    this.#scan ??= listDevices().then(
      (devices) => {
        this.#status = devices.length > 0 ? { state: 'ready', devices } : { state: 'unavailable', reason: 'PortAudio found no sound device', devices };
        if (devices.length > 0) log.info({ devices: devices.map((d) => d.name) }, `sound devices: ${devices.length} found`);
        else log.info('sound devices: none found (capture and playback fall back to tone/file sources and none)');
        return this.#status;
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.#status = { state: 'unavailable', reason, devices: [] };
        log.info({ reason }, 'sound devices unavailable (capture and playback fall back to tone/file sources and none)');
        return this.#status;
      },
    );
    return this.#scan;
  }
}
