import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../dsp/g711.ts';
import { G722Decoder, G722Encoder } from '../dsp/g722.ts';
import { OPUS_RATES_HZ } from '../dsp/opus.ts';
import { resampleWhole, SUPPORTED_RATES_HZ } from '../dsp/resampler.ts';
import { OggFormatError } from '../wire/ogg.ts';
import { decodeOggOpus, encodeOggOpus } from '../wire/oggOpus.ts';
import { WavFormatError, readWav, toMono, writeWav } from '../wire/wav.ts';
import { UsageError } from './main.ts';

/**
 * `switchboard convert IN OUT [--rate HZ] [--bitrate BPS]`: converts mono
 * audio between formats chosen by file extension, resampling through the same
 * DSP core the engine runs.
 *
 * | extension | format | rate |
 * |---|---|---|
 * | `.wav`  | RIFF WAVE, 16-bit PCM (multichannel input is mixed to mono) | the file's; output: `--rate`, else the input's |
 * | `.ulaw` | raw G.711 µ-law, one byte a sample | 8000 Hz |
 * | `.alaw` | raw G.711 A-law | 8000 Hz |
 * | `.g722` | raw G.722 at 64 kbit/s, one byte per two samples | 16000 Hz |
 * | `.l16`  | raw 16-bit PCM, big-endian (network byte order, RFC 3551 §4.5.11) | `--rate`, else 8000 Hz, in and out |
 * | `.opus` | Ogg Opus (RFC 7845), 20 ms packets | decoded at 48000 Hz; encoded at `--rate`, else the input's rate (48000 Hz if Opus has no such rate) |
 *
 * L16 has no header, so its rate must be agreed out of band; without
 * `--rate`, L16 is 8000 Hz like the other telephony formats, both when read
 * and when written. `--rate` sets the rate of a WAV, L16 or Opus output, and
 * of an L16 input; G.711 and G.722 have fixed rates and refuse any other.
 * Resampling is between 8, 16, 24 and 48 kHz, with the resampler's delay
 * removed so the output lines up with the input.
 *
 * Mistakes (unknown extension, unsupported rate, missing or malformed input,
 * bad arguments) are UsageErrors: a message and exit code 2.
 */

type Format = 'wav' | 'ulaw' | 'alaw' | 'g722' | 'l16' | 'opus';

const FORMATS: Record<string, { format: Format; name: string }> = {
  '.wav': { format: 'wav', name: 'WAV' },
  '.ulaw': { format: 'ulaw', name: 'G.711 µ-law' },
  '.alaw': { format: 'alaw', name: 'G.711 A-law' },
  '.g722': { format: 'g722', name: 'G.722' },
  '.l16': { format: 'l16', name: 'L16' },
  '.opus': { format: 'opus', name: 'Ogg Opus' },
};

/** Rates fixed by the codec (ITU-T G.711: 8 kHz; G.722: 16 kHz sampling). */
const FIXED_RATE_HZ: Partial<Record<Format, number>> = { ulaw: 8000, alaw: 8000, g722: 16000 };
/** RFC 3551 gives L16 no default rate; telephony's is 8 kHz. */
const L16_DEFAULT_RATE_HZ = 8000;
/** RFC 7845 §5.1: players decode Ogg Opus at 48 kHz whatever the input rate was. */
const OPUS_DECODE_RATE_HZ = 48000;

const USAGE = `usage: switchboard convert IN OUT [--rate HZ] [--bitrate BPS]

Converts mono audio by file extension: ${Object.keys(FORMATS).join(' ')}
  --rate HZ       rate of a .wav, .l16 or .opus output, and of an .l16 input (L16 default: 8000)
  --bitrate BPS   Opus bitrate for an .opus output (default: chosen by libopus)`;

export interface Audio {
  rateHz: number;
  samples: Int16Array;
}

export async function convert(args: string[]): Promise<number> {
  const { inPath, outPath, rateHz, bitrateBps, help } = parse(args);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const input = formatOf(inPath);
  const output = formatOf(outPath);
  if (bitrateBps !== undefined && output.format !== 'opus') {
    throw new UsageError(`--bitrate applies to an .opus output only [output:${outPath}]`);
  }
  checkRateOption(output.format, rateHz, outPath);

  const decoded = decode(input.format, readInput(inPath), inPath, rateHz);
  const targetHz = outputRate(output.format, decoded.rateHz, rateHz);
  const audio = decoded.rateHz === targetHz ? decoded : resample(decoded, targetHz, outPath);
  const bytes = encode(output.format, audio, bitrateBps);
  try {
    writeFileSync(outPath, bytes);
  } catch (err) {
    throw new UsageError(`cannot write output [file:${outPath}]: ${(err as Error).message}`);
  }
  const seconds = (audio.samples.length / audio.rateHz).toFixed(2);
  console.log(
    `${inPath} (${input.name}, ${decoded.rateHz} Hz) → ${outPath} (${output.name}, ${audio.rateHz} Hz): ${seconds} s, ${bytes.length} bytes`,
  );
  return 0;
}

function parse(args: string[]): {
  inPath: string;
  outPath: string;
  rateHz: number | undefined;
  bitrateBps: number | undefined;
  help: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        rate: { type: 'string' },
        bitrate: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  if (!help && positionals.length !== 2) {
    throw new UsageError(
      `${positionals.length < 2 ? 'missing' : 'too many'} arguments: expected IN and OUT, got ${positionals.length}\n\n${USAGE}`,
    );
  }
  return {
    inPath: positionals[0] ?? '',
    outPath: positionals[1] ?? '',
    rateHz: positiveInt('--rate', values.rate),
    bitrateBps: positiveInt('--bitrate', values.bitrate),
    help,
  };
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag} needs a positive whole number [got:"${value}"]`);
  }
  return n;
}

function formatOf(path: string): { format: Format; name: string } {
  const ext = extname(path).toLowerCase();
  const f = FORMATS[ext];
  if (f === undefined) {
    throw new UsageError(
      `unknown extension "${ext}" [file:${path}]: use one of ${Object.keys(FORMATS).join(', ')}`,
    );
  }
  return f;
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new UsageError(`cannot read input [file:${path}]: ${why}`);
  }
}

/** `l16RateHz` is --rate: the only input format without a rate of its own. */
function decode(format: Format, bytes: Uint8Array, path: string, l16RateHz: number | undefined): Audio {
  switch (format) {
    case 'wav': {
      let wav;
      try {
        wav = readWav(bytes);
      } catch (err) {
        if (err instanceof WavFormatError) throw new UsageError(`bad WAV input [file:${path}]: ${err.message}`);
        throw err;
      }
      return { rateHz: wav.rateHz, samples: toMono(wav) };
    }
    case 'ulaw':
    case 'alaw': {
      const samples = new Int16Array(bytes.length);
      (format === 'ulaw' ? ulawDecode : alawDecode)(bytes, samples);
      return { rateHz: 8000, samples };
    }
    case 'g722': {
      const dec = new G722Decoder();
      try {
        const samples = new Int16Array(2 * bytes.length);
        dec.decode(bytes, samples);
        return { rateHz: 16000, samples };
      } finally {
        dec.destroy();
      }
    }
    case 'l16': {
      if (bytes.length % 2 !== 0) {
        throw new UsageError(
          `truncated L16 input [file:${path}, bytes:${bytes.length}]: 16-bit samples need an even byte count`,
        );
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, false);
      return { rateHz: l16RateHz ?? L16_DEFAULT_RATE_HZ, samples };
    }
    case 'opus':
      try {
        const { samples } = decodeOggOpus(bytes);
        return { rateHz: OPUS_DECODE_RATE_HZ, samples };
      } catch (err) {
        if (err instanceof OggFormatError) throw new UsageError(`bad Ogg Opus input [file:${path}]: ${err.message}`);
        throw err;
      }
  }
}

/** Refuses a --rate the output format cannot take, before any work is done. */
function checkRateOption(format: Format, rateHz: number | undefined, path: string): void {
  if (rateHz === undefined) return;
  const fixed = FIXED_RATE_HZ[format];
  if (fixed !== undefined && rateHz !== fixed) {
    throw new UsageError(`wrong rate [--rate ${rateHz}, file:${path}]: ${extname(path)} is ${fixed} Hz only`);
  }
  if (format === 'opus' && !OPUS_RATES_HZ.includes(rateHz)) {
    throw new UsageError(`wrong rate [--rate ${rateHz}, file:${path}]: Opus encodes at ${OPUS_RATES_HZ.join(', ')} Hz`);
  }
}

function outputRate(format: Format, inputHz: number, rateHz: number | undefined): number {
  const fixed = FIXED_RATE_HZ[format];
  if (fixed !== undefined) return fixed;
  if (format === 'l16') return rateHz ?? L16_DEFAULT_RATE_HZ;
  if (format === 'opus') return rateHz ?? (OPUS_RATES_HZ.includes(inputHz) ? inputHz : OPUS_DECODE_RATE_HZ);
  return rateHz ?? inputHz;
}

/**
 * Whole-file resampling with the filter's delay removed: the first
 * `delaySamples` outputs are dropped and zeros pushed through at the end, so
 * output sample k is input instant k and the length scales with the rate.
 */
export function resample(audio: Audio, toHz: number, outPath: string): Audio {
  const rates = SUPPORTED_RATES_HZ as readonly number[];
  if (!rates.includes(audio.rateHz) || !rates.includes(toHz)) {
    const bad = rates.includes(audio.rateHz) ? toHz : audio.rateHz;
    throw new UsageError(
      `wrong rate [${bad} Hz, converting ${audio.rateHz} Hz to ${toHz} Hz for ${outPath}]: resampling supports ${rates.join(', ')} Hz`,
    );
  }
  return { rateHz: toHz, samples: resampleWhole(audio.samples, audio.rateHz, toHz) };
}

function encode(format: Format, audio: Audio, bitrateBps: number | undefined): Uint8Array {
  const { samples } = audio;
  switch (format) {
    case 'wav':
      return writeWav({ rateHz: audio.rateHz, channels: 1, samples });
    case 'ulaw':
    case 'alaw': {
      const out = new Uint8Array(samples.length);
      (format === 'ulaw' ? ulawEncode : alawEncode)(samples, out);
      return out;
    }
    case 'g722': {
      // G.722 codes sample pairs: an odd last sample is padded with silence.
      let even = samples;
      if (samples.length % 2 !== 0) {
        even = new Int16Array(samples.length + 1);
        even.set(samples);
      }
      const enc = new G722Encoder();
      try {
        const out = new Uint8Array(even.length / 2);
        enc.encode(even, out);
        return out;
      } finally {
        enc.destroy();
      }
    }
    case 'l16': {
      const out = new Uint8Array(2 * samples.length);
      const view = new DataView(out.buffer);
      for (let i = 0; i < samples.length; i++) view.setInt16(2 * i, samples[i]!, false);
      return out;
    }
    case 'opus':
      return encodeOggOpus(samples, audio.rateHz, bitrateBps === undefined ? {} : { bitrateBps });
  }
}
