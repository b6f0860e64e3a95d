import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, toMono } from '../../src/wire/wav.ts';

/** Whether Debian's baresip is installed (.ci/run installs it). */
export const HAVE_BARESIP = spawnSync('baresip', ['-h'], { stdio: 'ignore' }).error === undefined;

/**
 * One real baresip user agent in a temporary config dir: it plays `source`
 * (aufile) into its calls, and its sndfile module records what it sent
 * (`-enc.wav`) and what it heard (`-dec.wav`) per call. It answers calls by
 * itself, dials `dial` when given, and quits after `seconds`; `stop()` kills
 * it and removes the dir (afterAll).
 */
export class Baresip {
  readonly dir: string;
  readonly proc: ChildProcess;
  log = '';
  readonly exited: Promise<number | null>;

  constructor(opts: { port: number; rtpPorts: string; source: string; seconds: number; dial?: string }) {
    this.dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    writeFileSync(
      join(this.dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${opts.port}`,
        `audio_source aufile,${opts.source}`,
        // No sound card here: ALSA's null device plays what the call hears (the sndfile filter records it first).
        'audio_player alsa,null',
        'audio_alert alsa,null',
        'module_path /usr/lib/baresip/modules',
        ...['g711', 'aufile', 'alsa', 'sndfile', 'menu', 'account'].map((m) => `module ${m}.so`),
        `snd_path ${this.dir}`,
        'rtp_timeout 0',
        `rtp_ports ${opts.rtpPorts}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'accounts'), '<sip:bs@127.0.0.1>;regint=0;answermode=auto\n');
    const args = ['-f', this.dir, '-t', String(opts.seconds), ...(opts.dial !== undefined ? ['-e', `/dial ${opts.dial}`] : [])];
    this.proc = spawn('baresip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (b: Buffer) => (this.log += b.toString()));
    this.proc.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** The call's recordings: what baresip sent and what it heard. */
  recordings(): { sent: Int16Array; heard: Int16Array } {
    const files = readdirSync(this.dir);
    const read = (suffix: string): Int16Array => {
      const name = files.find((f) => f.endsWith(suffix));
      if (name === undefined) throw new Error(`baresip recorded no *${suffix} [files:${files.join(', ')}]`);
      return toMono(readWav(new Uint8Array(readFileSync(join(this.dir, name)))));
    };
    return { sent: read('-enc.wav'), heard: read('-dec.wav') };
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    if (process.env['BARESIP_KEEP'] === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}
