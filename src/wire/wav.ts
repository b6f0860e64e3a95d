/**
 * RIFF/WAVE reading and writing for 16-bit PCM (the format of every file the
 * project reads or writes as WAV).
 *
 * ```
 *  0  "RIFF"  u32 size  "WAVE"
 * 12  chunks: id[4] u32 size, data, pad byte if size is odd
 *     "fmt "  u16 format (1 PCM, 0xFFFE extensible) u16 channels u32 rateHz
 *             u32 byteRate u16 blockAlign u16 bitsPerSample [extension]
 *     "data"  interleaved little-endian samples
 * ```
 * @see http://soundfile.sapp.org/doc/WaveFormat/ and Microsoft's
 *      "Multimedia Programming Interface and Data Specifications 1.0".
 */

export interface Wav {
  rateHz: number;
  channels: number;
  /** Interleaved samples. */
  samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

/** Parses a 16-bit PCM WAV file; throws WavFormatError naming what is wrong. */
export function readWav(bytes: Uint8Array): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new WavFormatError(`not a WAV file: no RIFF/WAVE header [bytes:${bytes.byteLength}]`);
  }
  let fmt: { format: number; channels: number; rateHz: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.byteLength) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) {
        throw new WavFormatError(`truncated fmt chunk [size:${size}, available:${bytes.byteLength - body}]`);
      }
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        rateHz: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
      if (fmt.format === WAVE_FORMAT_EXTENSIBLE && size >= 26) {
        fmt.format = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
    } else if (id === 'data') {
      if (fmt === undefined) throw new WavFormatError('data chunk before fmt chunk');
      if (fmt.format !== WAVE_FORMAT_PCM || fmt.bits !== 16) {
        throw new WavFormatError(
          `unsupported WAV encoding [format:${fmt.format}, bits:${fmt.bits}]: only 16-bit PCM is read`,
        );
      }
      if (fmt.channels < 1 || fmt.rateHz < 1) {
        throw new WavFormatError(`invalid fmt chunk [channels:${fmt.channels}, rateHz:${fmt.rateHz}]`);
      }
      const available = bytes.byteLength - body;
      // Streams written live often leave size 0 or 0xFFFFFFFF; take what is there.
      const declared = size === 0 || size === 0xffffffff ? available : size;
      if (declared > available) {
        throw new WavFormatError(`truncated data chunk [declared:${declared}, available:${available}]`);
      }
      const frameBytes = 2 * fmt.channels;
      const count = Math.floor(declared / frameBytes) * fmt.channels;
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(body + 2 * i, true);
      return { rateHz: fmt.rateHz, channels: fmt.channels, samples };
    }
    at = body + size + (size & 1);
  }
  throw new WavFormatError(fmt === undefined ? 'no fmt chunk' : 'no data chunk');
}

/** Bytes of the canonical header `wavHeader` writes; the data follows it. */
export const WAV_HEADER_BYTES = 44;
/** Where the RIFF size and the data size sit in the canonical header (a live writer rewrites them). */
export const WAV_RIFF_SIZE_AT = 4;
export const WAV_DATA_SIZE_AT = 40;

/** The canonical 44-byte header of 16-bit PCM with `dataBytes` of samples after it. */
export function wavHeader(channels: number, rateHz: number, dataBytes: number): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  view.setUint32(WAV_RIFF_SIZE_AT, 36 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, rateHz, true);
  view.setUint32(28, rateHz * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  put(36, 'data');
  view.setUint32(WAV_DATA_SIZE_AT, dataBytes, true);
  return out;
}

/** Serializes 16-bit PCM as a canonical 44-byte-header WAV file. */
export function writeWav(wav: Wav): Uint8Array {
  const dataBytes = wav.samples.length * 2;
  const out = new Uint8Array(WAV_HEADER_BYTES + dataBytes);
  out.set(wavHeader(wav.channels, wav.rateHz, dataBytes));
  const view = new DataView(out.buffer);
  for (let i = 0; i < wav.samples.length; i++) view.setInt16(WAV_HEADER_BYTES + 2 * i, wav.samples[i]!, true);
  return out;
}

/** Mono samples: the first channel's, or the mean of all channels. */
export function toMono(wav: Wav): Int16Array {
  if (wav.channels === 1) return wav.samples;
  const n = Math.floor(wav.samples.length / wav.channels);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < wav.channels; c++) sum += wav.samples[i * wav.channels + c]!;
    out[i] = Math.round(sum / wav.channels);
  }
  return out;
}
