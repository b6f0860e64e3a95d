import { createReadStream, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import type { DeviceHostMessage, DeviceHostRequest, DeviceInfo } from '../protocol.ts';
import { findDevice } from './findDevice.ts';

/**
 * The device host: a child process that owns one PortAudio stream through
 * naudiodon (or lists the devices), so that what PortAudio writes to fd 1
 * and 2 from C (its version banner, ALSA's complaints about every card the
 * configuration names) lands on pipes the daemon reads, and an abort() in its
 * device scan (PortAudio 19.6 asserts when every ALSA device it probes opens)
 * ends this process only. The request is argv[2] (JSON); answers go on the
 * IPC channel; PCM, mono s16le, on fd 4.
 *
 * Channels: the stream opens mono, or stereo where the device takes no
 * mono (a hardware device without the `plug` layer); stereo is mixed down
 * (input) or duplicated (output) here, so the daemon always sees mono.
 */

/** naudiodon's surface as used here (its index.d.ts, trimmed). */
interface Naudiodon {
  getDevices(): Array<{
    id: number;
    name: string;
    hostAPIName: string;
    maxInputChannels: number;
    maxOutputChannels: number;
    defaultSampleRate: number;
  }>;
  AudioIO: new (options: Record<string, unknown>) => (Readable | Writable) & { start(): void; quit(cb?: () => void): void };
  SampleFormat16Bit: number;
}

/** How long closing the stream may take before the process ends anyway. */
const STOP_GRACE_MS = 1000;

/** fd of the PCM pipe (after stdin, stdout, stderr and the IPC channel). */
const PCM_FD = 4;

function send(msg: DeviceHostMessage): void {
  process.send?.(msg);
}

function fail(message: string, unknownDevice = false): never {
  send(unknownDevice ? { type: 'error', message, unknownDevice } : { type: 'error', message });
  // Let the IPC message leave before the process ends.
  process.disconnect?.();
  process.exit(1);
}

function load(): Naudiodon {
  try {
    return createRequire(import.meta.url)('naudiodon') as Naudiodon;
  } catch (err) {
    fail(`naudiodon could not be loaded (an optional dependency: PortAudio bindings) [${(err as Error).message.split('\n')[0]}]`);
  }
}

function devices(pa: Naudiodon): DeviceInfo[] {
  return pa.getDevices().map((d) => ({
    id: d.id,
    name: d.name,
    hostApi: d.hostAPIName,
    maxInputChannels: d.maxInputChannels,
    maxOutputChannels: d.maxOutputChannels,
    defaultSampleRate: d.defaultSampleRate,
  }));
}

/** Opens the stream mono, else stereo (hardware without mono); throws PortAudio's refusal of the last try. */
function openStream(pa: Naudiodon, req: Extract<DeviceHostRequest, { op: 'open' }>, device: DeviceInfo) {
  const max = req.direction === 'input' ? device.maxInputChannels : device.maxOutputChannels;
  let last: unknown;
  for (const channels of [1, 2]) {
    if (channels > max) break;
    const options = {
      channelCount: channels,
      sampleFormat: pa.SampleFormat16Bit,
      sampleRate: req.rateHz,
      deviceId: device.id,
      framesPerBuffer: (req.rateHz * req.blockMs) / 1000,
      closeOnError: true,
    };
    try {
      return { io: new pa.AudioIO(req.direction === 'input' ? { inOptions: options } : { outOptions: options }), channels };
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error(`the device has no ${req.direction} channels`);
}

function runInput(io: Readable, channels: number): void {
  const pcm = createWriteStream('', { fd: PCM_FD });
  io.on('data', (chunk: Buffer) => {
    let out = chunk;
    if (channels === 2) {
      out = Buffer.allocUnsafe(chunk.length >> 1);
      for (let i = 0, o = 0; i + 3 < chunk.length; i += 4, o += 2) out.writeInt16LE((chunk.readInt16LE(i) + chunk.readInt16LE(i + 2)) >> 1, o);
    }
    // The daemon paces its reading to its frame clock: a device faster than real time (a file) waits here.
    if (!pcm.write(out)) {
      io.pause();
      pcm.once('drain', () => io.resume());
    }
  });
  pcm.on('error', () => process.exit(0)); // the daemon closed its end: the stream is over
}

function runOutput(io: Writable, channels: number): void {
  const pcm = createReadStream('', { fd: PCM_FD, highWaterMark: 4096 });
  pcm.on('data', (chunk: Buffer | string) => {
    const buf = chunk as Buffer;
    let out = buf;
    if (channels === 2) {
      out = Buffer.allocUnsafe(buf.length * 2);
      for (let i = 0; i + 1 < buf.length; i += 2) {
        const s = buf.readInt16LE(i);
        out.writeInt16LE(s, i * 2);
        out.writeInt16LE(s, i * 2 + 2);
      }
    }
    if (!io.write(out)) {
      pcm.pause();
      io.once('drain', () => pcm.resume());
    }
  });
  pcm.on('end', () => process.kill(process.pid, 'SIGTERM'));
}

function main(): void {
  let req: DeviceHostRequest;
  try {
    req = JSON.parse(process.argv[2] ?? '') as DeviceHostRequest;
  } catch {
    fail('device host: the request is not JSON');
  }
  const pa = load();
  const list = devices(pa);
  if (req.op === 'list') {
    send({ type: 'devices', devices: list });
    process.disconnect?.();
    return;
  }
  const found = findDevice(list, req.device, req.direction);
  if (typeof found === 'string') fail(found, true);
  let opened: ReturnType<typeof openStream>;
  try {
    opened = openStream(pa, req, found);
  } catch (err) {
    fail(`${req.direction} device "${found.name}" could not be opened at ${req.rateHz} Hz [${(err as Error).message}]`);
  }
  const { io, channels } = opened;
  io.on('error', (err: Error) => fail(`${req.direction} device "${found.name}" failed [${err.message}]`));
  io.start();
  if (req.direction === 'input') runInput(io as Readable, channels);
  else runOutput(io as Writable, channels);
  send({ type: 'opened', device: found, channels });
  // The daemon ending the stream: SIGTERM, or the IPC channel closing with it. PortAudio closes
  // the device (an ALSA file plugin writes out what it buffered then); a stuck close is cut short.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    if (req.direction === 'output') {
      io.once('finished', () => process.exit(0));
      (io as Writable).end();
    } else io.quit(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

main();
