import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Sound devices without a sound card: an ALSA configuration of `file`
 * plugins over the `null` device, which PortAudio lists and opens like any
 * card. `sbrec` captures what `in.raw` holds (then silence); `sbplay` and
 * `sbplay2` write what they play to `out.raw` and `out2.raw`. All are mono
 * s16le at whatever rate is opened, and none is paced in real time: the
 * daemon's frame clock paces them. `pcm.default` is there because PortAudio
 * 19.6 asserts (abort) when every device it probes opens and none is `default`.
 *
 * Use: `ALSA_CONFIG_PATH=<configPath>` in the environment of whatever loads
 * PortAudio (it replaces the system's alsa.conf, so no real card is probed),
 * or `HOME=<dir>`: the devices are then a user's `~/.asoundrc` on top of the
 * system's configuration, whose every card PortAudio probes (and ALSA
 * complains about on stderr where there is none).
 */
export interface AlsaDevices {
  dir: string;
  configPath: string;
  /** Where `sbrec` reads from. */
  inputPath: string;
  outputPath(device: 'sbplay' | 'sbplay2'): string;
  /** What the device wrote, as samples (empty before anything was written). */
  played(device: 'sbplay' | 'sbplay2'): Int16Array;
  remove(): void;
}

export function makeAlsaDevices(input: Int16Array): AlsaDevices {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-alsa-'));
  const inputPath = join(dir, 'in.raw');
  writeFileSync(inputPath, new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  const out = (d: string): string => join(dir, d === 'sbplay' ? 'out.raw' : 'out2.raw');
  const filePlay = (name: string): string => `pcm.${name} {\n  type file\n  slave.pcm { type null }\n  file "${out(name)}"\n  format "raw"\n}\n`;
  const config =
    filePlay('sbplay') +
    filePlay('sbplay2') +
    `pcm.sbrec {\n  type file\n  slave.pcm { type null }\n  file "/dev/null"\n  infile "${inputPath}"\n  format "raw"\n}\n` +
    'pcm.default { type null }\n';
  const configPath = join(dir, 'asound.conf');
  writeFileSync(configPath, config);
  // As a user's ~/.asoundrc beside the system's configuration (which has its `default`).
  writeFileSync(join(dir, '.asoundrc'), config.replace('pcm.default { type null }\n', ''));
  return {
    dir,
    configPath,
    inputPath,
    outputPath: out,
    played(device) {
      try {
        const b = readFileSync(out(device));
        return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.byteLength & ~1)));
      } catch {
        return new Int16Array(0);
      }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
