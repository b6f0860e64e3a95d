import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { readOggOpus } from '../../src/wire/oggOpus.ts';
import { readWav, writeWav } from '../../src/wire/wav.ts';
import { fixturePath, readS16le, speech } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);

let errors: string[] = [];
beforeEach(() => {
  errors = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

const run = (...args: string[]): Promise<number> => main(['convert', ...args]);
const wavAt = (path: string): { rateHz: number; samples: Int16Array } => {
  const w = readWav(new Uint8Array(readFileSync(path)));
  expect(w.channels).toBe(1);
  return { rateHz: w.rateHz, samples: w.samples };
};

/** A few seconds of a speech fixture as a mono WAV in the temp folder. */
function speechWav(name: string, seconds: number): { path: string; samples: Int16Array; rateHz: number } {
  const s = speech(name);
  const samples = s.samples.slice(s.rateHz, s.rateHz * (1 + seconds));
  const path = tmp(`${name}-${seconds}s.wav`);
  writeFileSync(path, writeWav({ rateHz: s.rateHz, channels: 1, samples }));
  return { path, samples, rateHz: s.rateHz };
}

function snrDb(ref: Int16Array, x: Int16Array, lag = 0): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i + lag < x.length && i < ref.length; i++) {
    s += ref[i]! ** 2;
    e += (ref[i]! - x[i + lag]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

/** Best normalized cross-correlation of x with y delayed by 0…maxLag samples. */
function bestNcc(x: Int16Array, y: Int16Array, maxLag: number, minLag = 0): { lag: number; r: number } {
  let best = { lag: 0, r: -1 };
  for (let lag = minLag; lag <= maxLag; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    const n = Math.min(x.length, y.length - lag) - Math.max(0, -lag);
    for (let i = Math.max(0, -lag); i < n; i++) {
      xy += x[i]! * y[i + lag]!;
      xx += x[i]! ** 2;
      yy += y[i + lag]! ** 2;
    }
    const r = xy / Math.sqrt(xx * yy);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

describe('switchboard convert: formats', () => {
  it('decodes raw G.711 exactly as an independent decoder (ffmpeg) does', async () => {
    for (const law of ['ulaw', 'alaw']) {
      const out = tmp(`fixture-${law}.wav`);
      expect(await run(fixturePath(`g711/synth-m-8k.${law}`), out)).toBe(0);
      const wav = wavAt(out);
      expect(wav.rateHz).toBe(8000);
      const ref = readS16le(`g711/synth-m-8k.${law}.decoded.s16le`);
      expect(Buffer.compare(Buffer.from(wav.samples.buffer), Buffer.from(ref.buffer))).toBe(0);
    }
  });

  it('decodes raw G.722 to 16 kHz WAV matching the independent decoding', async () => {
    const out = tmp('fixture-g722.wav');
    expect(await run(fixturePath('g722/synth-m-16k.g722'), out)).toBe(0);
    const wav = wavAt(out);
    expect(wav.rateHz).toBe(16000);
    const ref = readS16le('g722/synth-m-16k.g722.decoded.s16le');
    expect(wav.samples.length).toBe(ref.length);
    expect(snrDb(ref, wav.samples)).toBeGreaterThan(60);
  });

  it('WAV → .ulaw → WAV and WAV → .alaw → WAV keep speech at G.711 quality', async () => {
    const src = speechWav('synth-m-8k', 3);
    for (const law of ['ulaw', 'alaw']) {
      expect(await run(src.path, tmp(`rt.${law}`))).toBe(0);
      expect(readFileSync(tmp(`rt.${law}`)).length).toBe(src.samples.length);
      expect(await run(tmp(`rt.${law}`), tmp(`rt-${law}.wav`))).toBe(0);
      const back = wavAt(tmp(`rt-${law}.wav`));
      expect(back.rateHz).toBe(8000);
      expect(back.samples.length).toBe(src.samples.length);
      expect(snrDb(src.samples, back.samples)).toBeGreaterThan(30);
    }
  });

  it('WAV 48 kHz → .g722 → WAV: resampled to 16 kHz, then G.722 quality after its 22-sample delay', async () => {
    const src = speechWav('synth-m-48k', 3);
    expect(await run(src.path, tmp('a.g722'))).toBe(0);
    expect(readFileSync(tmp('a.g722')).length).toBe(src.samples.length / 3 / 2);
    expect(await run(tmp('a.g722'), tmp('a-g722.wav'))).toBe(0);
    const back = wavAt(tmp('a-g722.wav'));
    expect(back.rateHz).toBe(16000);
    expect(back.samples.length).toBe(src.samples.length / 3);
    // The same speech resampled alone: what G.722 was given.
    expect(await run(src.path, tmp('a-16k.wav'), '--rate', '16000')).toBe(0);
    const given = wavAt(tmp('a-16k.wav')).samples;
    const { lag, r } = bestNcc(given, back.samples, 40);
    expect(lag).toBe(22); // the QMF filter pair's delay (ITU-T G.722 §1.4.1)
    expect(r).toBeGreaterThan(0.99);
    expect(snrDb(given, back.samples, lag)).toBeGreaterThan(20);
  });

  it('WAV → .opus → WAV correlates with the input (48 kHz, and 16 kHz encoding)', async () => {
    const src = speechWav('synth-m-48k', 2);
    expect(await run(src.path, tmp('a.opus'), '--bitrate', '32000')).toBe(0);
    const ogg = readOggOpus(new Uint8Array(readFileSync(tmp('a.opus'))));
    expect(ogg.head).toMatchObject({ channels: 1, inputRateHz: 48000 });
    expect(await run(tmp('a.opus'), tmp('a-opus.wav'))).toBe(0);
    const back = wavAt(tmp('a-opus.wav'));
    expect(back.rateHz).toBe(48000);
    expect(back.samples.length).toBe(src.samples.length);
    // Pre-skip removes the encoder's reported lookahead; the true delay differs by a few samples.
    expect(bestNcc(src.samples, back.samples, 4, -4).r).toBeGreaterThan(0.9);

    const src16 = speechWav('synth-m-16k', 2);
    expect(await run(src16.path, tmp('b.opus'))).toBe(0);
    expect(readOggOpus(new Uint8Array(readFileSync(tmp('b.opus')))).head.inputRateHz).toBe(16000);
    expect(await run(tmp('b.opus'), tmp('b-opus.wav'), '--rate', '16000')).toBe(0);
    const back16 = wavAt(tmp('b-opus.wav'));
    expect(back16.rateHz).toBe(16000);
    expect(back16.samples.length).toBe(src16.samples.length);
    expect(bestNcc(src16.samples, back16.samples, 4, -4).r).toBeGreaterThan(0.85);
  });

  it('.l16 is big-endian, 8 kHz unless --rate says otherwise', async () => {
    const samples = Int16Array.of(0x0102, -2, 32767, -32768);
    writeFileSync(tmp('tiny.wav'), writeWav({ rateHz: 16000, channels: 1, samples }));
    expect(await run(tmp('tiny.wav'), tmp('tiny.l16'), '--rate', '16000')).toBe(0);
    expect([...readFileSync(tmp('tiny.l16'))]).toEqual([0x01, 0x02, 0xff, 0xfe, 0x7f, 0xff, 0x80, 0x00]);
    expect(await run(tmp('tiny.l16'), tmp('tiny-back.wav'), '--rate', '16000')).toBe(0);
    expect(wavAt(tmp('tiny-back.wav'))).toEqual({ rateHz: 16000, samples });

    const src = speechWav('synth-m-16k', 1);
    expect(await run(src.path, tmp('s.l16'))).toBe(0); // resampled to the default 8 kHz
    expect(readFileSync(tmp('s.l16')).length).toBe(src.samples.length);
    expect(await run(tmp('s.l16'), tmp('s-l16.wav'))).toBe(0);
    expect(wavAt(tmp('s-l16.wav')).rateHz).toBe(8000);
  });

  it('WAV → WAV with --rate resamples with the delay removed: 16 → 48 → 16 kHz lines up', async () => {
    const src = speechWav('synth-m-16k', 2);
    expect(await run(src.path, tmp('up.wav'), '--rate', '48000')).toBe(0);
    const up = wavAt(tmp('up.wav'));
    expect(up).toMatchObject({ rateHz: 48000 });
    expect(up.samples.length).toBe(3 * src.samples.length);
    expect(await run(tmp('up.wav'), tmp('down.wav'), '--rate', '16000')).toBe(0);
    const down = wavAt(tmp('down.wav'));
    expect(down.samples.length).toBe(src.samples.length);
    expect(bestNcc(src.samples, down.samples, 3, -3).lag).toBe(0);
    expect(snrDb(src.samples, down.samples)).toBeGreaterThan(20);
    // And against the independently made 8 kHz rendering of the same speech.
    expect(await run(src.path, tmp('8k.wav'), '--rate', '8000')).toBe(0);
    const ref8 = speech('synth-m-8k').samples.slice(8000, 24000);
    expect(bestNcc(ref8, wavAt(tmp('8k.wav')).samples, 3, -3)).toMatchObject({ lag: 0 });
  });

  it('an empty WAV converts to every format and back to an empty WAV', async () => {
    writeFileSync(tmp('empty.wav'), writeWav({ rateHz: 48000, channels: 1, samples: new Int16Array(0) }));
    for (const ext of ['ulaw', 'alaw', 'g722', 'l16', 'opus']) {
      expect(await run(tmp('empty.wav'), tmp(`empty.${ext}`))).toBe(0);
      expect(await run(tmp(`empty.${ext}`), tmp(`empty-${ext}.wav`))).toBe(0);
      expect(wavAt(tmp(`empty-${ext}.wav`)).samples.length).toBe(0);
    }
  });

  it('mixes a stereo WAV to mono', async () => {
    const stereo = Int16Array.of(100, 300, -100, -300, 0, 1000);
    writeFileSync(tmp('st.wav'), writeWav({ rateHz: 8000, channels: 2, samples: stereo }));
    expect(await run(tmp('st.wav'), tmp('st-mono.wav'))).toBe(0);
    expect([...wavAt(tmp('st-mono.wav')).samples]).toEqual([200, -200, 500]);
  });
});

describe('switchboard convert: mistakes', () => {
  const expectUsage = async (args: string[], message: RegExp): Promise<void> => {
    expect(await run(...args)).toBe(2);
    expect(errors.join('\n')).toMatch(message);
    expect(errors.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
  };

  it('missing or extra arguments', async () => {
    await expectUsage([], /missing arguments: expected IN and OUT, got 0[\s\S]*usage: switchboard convert/);
    await expectUsage(['a.wav'], /missing arguments/);
    await expectUsage(['a.wav', 'b.wav', 'c.wav'], /too many arguments/);
    await expectUsage(['a.wav', 'b.wav', '--frobnicate'], /Unknown option '--frobnicate'/);
    await expectUsage(['a.wav', 'b.wav', '--rate', 'fast'], /--rate needs a positive whole number \[got:"fast"\]/);
  });

  it('unknown extensions, in and out', async () => {
    const src = speechWav('synth-m-8k', 1);
    await expectUsage([src.path, tmp('x.mp3')], /unknown extension "\.mp3" .*use one of \.wav, \.ulaw, \.alaw, \.g722, \.l16, \.opus/);
    await expectUsage([tmp('x.flac'), tmp('x.wav')], /unknown extension "\.flac"/);
    await expectUsage([src.path, tmp('noext')], /unknown extension ""/);
  });

  it('a rate the target cannot take', async () => {
    writeFileSync(tmp('cd.wav'), writeWav({ rateHz: 44100, channels: 1, samples: new Int16Array(4410) }));
    await expectUsage([tmp('cd.wav'), tmp('cd.ulaw')], /wrong rate \[44100 Hz.*resampling supports 8000, 16000, 24000, 48000 Hz/);
    await expectUsage([tmp('cd.wav'), tmp('cd.opus')], /wrong rate \[44100 Hz/);
    const src = speechWav('synth-m-8k', 1);
    await expectUsage([src.path, tmp('x.ulaw'), '--rate', '16000'], /wrong rate \[--rate 16000.*\.ulaw is 8000 Hz only/);
    await expectUsage([src.path, tmp('x.g722'), '--rate', '8000'], /\.g722 is 16000 Hz only/);
    await expectUsage([src.path, tmp('x.opus'), '--rate', '32000'], /Opus encodes at 8000, 12000, 16000, 24000, 48000 Hz/);
    await expectUsage([src.path, tmp('x.wav'), '--rate', '11025'], /wrong rate \[11025 Hz/);
    await expectUsage([src.path, tmp('x.wav'), '--bitrate', '20000'], /--bitrate applies to an \.opus output only/);
  });

  it('missing, truncated or malformed input', async () => {
    await expectUsage([tmp('absent.wav'), tmp('x.ulaw')], /cannot read input \[file:.*absent\.wav\]: no such file/);
    mkdirSync(tmp('folder.wav'), { recursive: true });
    await expectUsage([tmp('folder.wav'), tmp('x.ulaw')], /cannot read input .*is a directory/);
    const src = speechWav('synth-m-8k', 1);
    const whole = readFileSync(src.path);
    writeFileSync(tmp('cut.wav'), whole.subarray(0, 1000));
    await expectUsage([tmp('cut.wav'), tmp('x.ulaw')], /bad WAV input .*truncated data chunk \[declared:16000, available:956\]/);
    writeFileSync(tmp('text.wav'), 'hello, not audio');
    await expectUsage([tmp('text.wav'), tmp('x.ulaw')], /bad WAV input .*not a WAV file/);
    writeFileSync(tmp('odd.l16'), Uint8Array.of(1, 2, 3));
    await expectUsage([tmp('odd.l16'), tmp('x.wav')], /truncated L16 input .*bytes:3/);
    writeFileSync(tmp('fake.opus'), whole);
    await expectUsage([tmp('fake.opus'), tmp('x.wav')], /bad Ogg Opus input .*not an Ogg file/);
    expect(await run(src.path, tmp('ok.opus'))).toBe(0);
    const opus = readFileSync(tmp('ok.opus'));
    writeFileSync(tmp('cut.opus'), opus.subarray(0, opus.length - 7));
    await expectUsage([tmp('cut.opus'), tmp('x.wav')], /bad Ogg Opus input .*truncated Ogg page/);
  });

  it('an output that cannot be written', async () => {
    const src = speechWav('synth-m-8k', 1);
    await expectUsage([src.path, join(dir, 'no', 'such', 'folder', 'x.ulaw')], /cannot write output \[file:.*x\.ulaw\]/);
  });
});

describe('switchboard convert: the real command', () => {
  const entry = fileURLToPath(new URL('../fixtures/switchboard.ts', import.meta.url));
  const cli = (...args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ['--import', 'tsx', entry, 'convert', ...args], { encoding: 'utf8', timeout: 30_000 });

  it('exits 0 on success and 2 with a one-line message on a mistake', () => {
    const src = speechWav('synth-m-8k', 1);
    const ok = cli(src.path, tmp('cli.ulaw'));
    expect(ok.status, String(ok.stderr)).toBe(0);
    expect(String(ok.stdout)).toMatch(/→ .*cli\.ulaw \(G\.711 µ-law, 8000 Hz\)/);
    const bad = cli(tmp('absent.wav'), tmp('x.ulaw'));
    expect(bad.status).toBe(2);
    expect(String(bad.stderr).trim()).toMatch(/^switchboard convert: cannot read input \[file:.*absent\.wav\]: no such file$/);
  });
});
