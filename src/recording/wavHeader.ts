import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { WAV_DATA_SIZE_AT, WAV_HEADER_BYTES, WavFormatError } from '../wire/wav.ts';

/**
 * The samples' bytes a recording's WAV holds by its header (RecordingFile
 * writes the canonical 44-byte one), capped at what the file has: what a
 * reader of a file cut by a kill will play.
 */
export function readWavDataBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(WAV_HEADER_BYTES);
    const n = readSync(fd, head, 0, WAV_HEADER_BYTES, 0);
    const tag = (at: number): string => String.fromCharCode(...head.subarray(at, at + 4));
    if (n < WAV_HEADER_BYTES || tag(0) !== 'RIFF' || tag(8) !== 'WAVE' || tag(36) !== 'data') {
      throw new WavFormatError(`not a recording's WAV header [file:${path}, bytes:${n}]`);
    }
    const declared = new DataView(head.buffer).getUint32(WAV_DATA_SIZE_AT, true);
    return Math.min(declared, fstatSync(fd).size - WAV_HEADER_BYTES);
  } finally {
    closeSync(fd);
  }
}
