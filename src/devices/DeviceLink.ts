import type { DeviceStream } from './DeviceProcess.ts';

/** What an actor sees of its device beside the audio: its name, why it stopped, what its host printed. */
export abstract class DeviceLink {
  protected readonly stream: DeviceStream;

  protected constructor(stream: DeviceStream) {
    this.stream = stream;
  }

  get deviceName(): string {
    return this.stream.device.name;
  }

  /** Why the device stopped by itself (undefined while it runs). */
  get error(): string | undefined {
    return this.stream.error;
  }

  /** The tail of what PortAudio and ALSA printed in the device host (for a log line). */
  get noise(): string {
    return this.stream.noise;
  }

  /** Called once when the device host ends: with the reason, unless close() ended it. */
  onEnd(fn: (error: string | undefined) => void): void {
    this.stream.onEnd(fn);
  }
}
