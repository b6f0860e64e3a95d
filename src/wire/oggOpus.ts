import { randomInt } from 'node:crypto';
import { OPUS_FRAME_MS, OpusDecoder, OpusEncoder, type OpusEncoderOptions } from '../dsp/opus.ts';
import { NO_GRANULE, OggFormatError, OggWriter, oggPackets, readOggPages } from './ogg.ts';

/**
 * Ogg Opus files (RFC 7845): an identification header, a comment header, then
 * one Opus packet per Ogg packet. Granule positions count 48 kHz samples
 * whatever the input rate (§4), including the `preSkip` samples the decoder
 * discards at the start (§4.2); the last page's granule position marks where
 * the audio ends, so a final partial frame is trimmed (§4.4).
 */

export { OggFormatError };

/** Granule positions and pre-skip are in 48 kHz samples (RFC 7845 §4). */
export const OGG_OPUS_RATE_HZ = 48000;

/**
 * Identification header (RFC 7845 §5.1), alone on the first page:
 * ```
 *  0  "OpusHead"
 *  8  version u8 (1)   channels u8   pre-skip u16
 * 12  input sample rate u32 (Hz, informational)
 * 16  output gain i16 (Q7.8 dB)   mapping family u8 (0: mono/stereo, no table)
 * ```
 */
export interface OpusHead {
  version: number;
  channels: number;
  preSkip: number;
  inputRateHz: number;
  /** dB in Q7.8, applied to the decoded output. */
  outputGainQ8: number;
  mappingFamily: number;
}

/** Comment header (RFC 7845 §5.2): vendor string and "NAME=value" comments, lengths u32 LE, UTF-8. */
export interface OpusTags {
  vendor: string;
  comments: string[];
}

const HEAD_MAGIC = 'OpusHead';
const TAGS_MAGIC = 'OpusTags';
const HEAD_BYTES = 19;

function hasMagic(p: Uint8Array, magic: string): boolean {
  if (p.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (p[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function writeOpusHead(h: OpusHead): Uint8Array {
  if (h.mappingFamily !== 0) {
    throw new RangeError(`only channel mapping family 0 is written [family:${h.mappingFamily}]`);
  }
  const out = new Uint8Array(HEAD_BYTES);
  const v = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = HEAD_MAGIC.charCodeAt(i);
  out[8] = h.version;
  out[9] = h.channels;
  v.setUint16(10, h.preSkip, true);
  v.setUint32(12, h.inputRateHz, true);
  v.setInt16(16, h.outputGainQ8, true);
  out[18] = h.mappingFamily;
  return out;
}

export function parseOpusHead(p: Uint8Array): OpusHead {
  if (!hasMagic(p, HEAD_MAGIC)) throw new OggFormatError('not an Ogg Opus stream: the first packet is not "OpusHead"');
  if (p.length < HEAD_BYTES) {
    throw new OggFormatError(`truncated OpusHead [bytes:${p.length}, needed:${HEAD_BYTES}]`);
  }
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const head: OpusHead = {
    version: p[8]!,
    channels: p[9]!,
    preSkip: v.getUint16(10, true),
    inputRateHz: v.getUint32(12, true),
    outputGainQ8: v.getInt16(16, true),
    mappingFamily: p[18]!,
  };
  // §5.1: the major version is the upper four bits; only 0 is defined.
  if (head.version >> 4 !== 0) throw new OggFormatError(`unsupported OpusHead version [version:${head.version}]`);
  if (head.channels === 0) throw new OggFormatError('invalid OpusHead: 0 channels');
  if (head.mappingFamily !== 0) {
    throw new OggFormatError(
      `unsupported Opus channel mapping family [family:${head.mappingFamily}, channels:${head.channels}]: only mono and stereo (family 0) are read`,
    );
  }
  if (head.channels > 2) throw new OggFormatError(`invalid OpusHead: family 0 with ${head.channels} channels`);
  return head;
}

export function writeOpusTags(t: OpusTags): Uint8Array {
  const enc = new TextEncoder();
  const strings = [t.vendor, ...t.comments].map((s) => enc.encode(s));
  const size = 8 + 4 + 4 + strings.reduce((n, s) => n + 4 + s.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = TAGS_MAGIC.charCodeAt(i);
  let at = 8;
  const put = (s: Uint8Array): void => {
    v.setUint32(at, s.length, true);
    out.set(s, at + 4);
    at += 4 + s.length;
  };
  put(strings[0]!);
  v.setUint32(at, t.comments.length, true);
  at += 4;
  for (const s of strings.slice(1)) put(s);
  return out;
}

export function parseOpusTags(p: Uint8Array): OpusTags {
  if (!hasMagic(p, TAGS_MAGIC)) {
    throw new OggFormatError('invalid Ogg Opus stream: the second packet is not "OpusTags"');
  }
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const dec = new TextDecoder();
  let at = 8;
  const u32 = (what: string): number => {
    if (at + 4 > p.length) {
      throw new OggFormatError(`truncated OpusTags [field:${what}, offset:${at}, bytes:${p.length}]`);
    }
    const n = v.getUint32(at, true);
    at += 4;
    return n;
  };
  const str = (what: string): string => {
    const n = u32(what);
    if (at + n > p.length) {
      throw new OggFormatError(`truncated OpusTags [field:${what}, length:${n}, available:${p.length - at}]`);
    }
    const s = dec.decode(p.subarray(at, at + n));
    at += n;
    return s;
  };
  const vendor = str('vendor');
  const count = u32('comment count');
  const comments: string[] = [];
  for (let i = 0; i < count; i++) comments.push(str(`comment ${i}`));
  return { vendor, comments };
}

const SILK_FRAME_48K = [480, 960, 1920, 2880] as const;

/**
 * Duration of an Opus packet in 48 kHz samples from its TOC byte (RFC 6716
 * §3.1: config → frame size; §3.2: frame count code), or 0 when the packet is
 * malformed.
 */
export function opusPacketSamples48k(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const toc = packet[0]!;
  const config = toc >> 3;
  let frame: number;
  if (config < 12) frame = SILK_FRAME_48K[config & 3]!; // SILK-only: 10, 20, 40, 60 ms
  else if (config < 16) frame = (config & 1) === 0 ? 480 : 960; // hybrid: 10, 20 ms
  else frame = 120 << (config & 3); // CELT-only: 2.5, 5, 10, 20 ms
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code !== 3) frames = 2;
  else {
    if (packet.length < 2) return 0;
    frames = packet[1]! & 0x3f;
  }
  const total = frame * frames;
  return total > 5760 ? 0 : total; // §3.2.5: at most 120 ms
}

export interface OggOpusStream {
  head: OpusHead;
  tags: OpusTags;
  /** Audio packets in order. */
  packets: Uint8Array[];
  /**
   * The granule position (48 kHz) where the audio ends: the last page's.
   * Output spans granules [preSkip, endGranule).
   */
  endGranule: bigint;
  /** Granule of the stream's first decoded sample (non-zero only for a stream cut from a longer one). */
  startGranule: bigint;
}

/** Parses an Ogg Opus file into its headers and audio packets; throws OggFormatError. */
export function readOggOpus(bytes: Uint8Array): OggOpusStream {
  const pages = readOggPages(bytes);
  if (pages.length === 0) throw new OggFormatError('empty Ogg file');
  const packets = oggPackets(pages);
  if (packets.length === 0) throw new OggFormatError('not an Ogg Opus stream: no complete packet');
  const head = parseOpusHead(packets[0]!.data);
  if (packets.length < 2) throw new OggFormatError('invalid Ogg Opus stream: no OpusTags packet');
  const tags = parseOpusTags(packets[1]!.data);
  const audio = packets.slice(2);
  let cumulative = 0n;
  let startGranule: bigint | undefined;
  let endGranule = NO_GRANULE;
  for (const p of audio) {
    cumulative += BigInt(opusPacketSamples48k(p.data));
    if (p.granulePosition === NO_GRANULE) continue;
    // §4.3, §4.5: a first granule position larger than the samples completed
    // by then means the stream starts after granule 0 (joined mid-stream).
    startGranule ??= p.granulePosition - cumulative > 0n ? p.granulePosition - cumulative : 0n;
    endGranule = p.granulePosition;
  }
  if (endGranule === NO_GRANULE) endGranule = cumulative;
  return { head, tags, packets: audio.map((p) => p.data), endGranule, startGranule: startGranule ?? 0n };
}

export interface WriteOggOpusOptions {
  /** Random unless given (tests pass one for reproducible bytes). */
  serialNumber?: number;
  vendor?: string;
  comments?: string[];
}

/**
 * Serializes headers and packets (RFC 7845 §3): OpusHead alone on the first
 * page, OpusTags on the next, then audio pages, the last flagged end-of-stream
 * with granule `endGranule` (end trimming, §4.4).
 */
export function writeOggOpus(
  head: OpusHead,
  packets: readonly Uint8Array[],
  endGranule: bigint,
  opts: WriteOggOpusOptions = {},
): Uint8Array {
  const w = new OggWriter(opts.serialNumber ?? randomInt(0, 2 ** 32));
  w.packet(writeOpusHead(head), 0n);
  w.flush();
  w.packet(writeOpusTags({ vendor: opts.vendor ?? 'switchboard', comments: opts.comments ?? [] }), 0n);
  w.flush();
  // Granules count decoded samples, pre-skip included (§4).
  let granule = 0n;
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    granule += BigInt(opusPacketSamples48k(p));
    w.packet(p, i === packets.length - 1 ? endGranule : granule);
  }
  return w.end();
}

export interface EncodeOggOpusOptions extends WriteOggOpusOptions {
  bitrateBps?: number;
  complexity?: number;
  backend?: OpusEncoderOptions['backend'];
}

/**
 * Encodes mono PCM at any Opus rate as an Ogg Opus file in 20 ms packets.
 * Allocates: a whole-file conversion, not the real-time path.
 */
export function encodeOggOpus(pcm: Int16Array, rateHz: number, opts: EncodeOggOpusOptions = {}): Uint8Array {
  const enc = new OpusEncoder({
    rateHz,
    ...(opts.bitrateBps === undefined ? {} : { bitrateBps: opts.bitrateBps }),
    ...(opts.complexity === undefined ? {} : { complexity: opts.complexity }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
  });
  try {
    const scale = OGG_OPUS_RATE_HZ / rateHz;
    // §4.2: pre-skip is the encoder's delay, in 48 kHz samples.
    const preSkip = Math.round(enc.lookaheadSamples * scale);
    const samples48k = Math.round(pcm.length * scale);
    const frame48k = (OGG_OPUS_RATE_HZ * OPUS_FRAME_MS) / 1000;
    // Enough frames that the delayed signal comes out whole; the zero tail is trimmed by endGranule.
    const frames = Math.ceil((samples48k + preSkip) / frame48k);
    const frame = new Int16Array(enc.frameSamples);
    const out = new Uint8Array(1500);
    const packets: Uint8Array[] = [];
    for (let f = 0; f < frames; f++) {
      const from = f * enc.frameSamples;
      frame.fill(0);
      if (from < pcm.length) frame.set(pcm.subarray(from, Math.min(from + enc.frameSamples, pcm.length)));
      const n = enc.encode(frame, out);
      if (n < 0) throw new Error(`Opus encoding failed [frame:${f}, code:${n}]`);
      packets.push(out.slice(0, n));
    }
    const head: OpusHead = { version: 1, channels: 1, preSkip, inputRateHz: rateHz, outputGainQ8: 0, mappingFamily: 0 };
    return writeOggOpus(head, packets, BigInt(preSkip + samples48k), opts);
  } finally {
    enc.destroy();
  }
}

export interface DecodedOggOpus {
  rateHz: typeof OGG_OPUS_RATE_HZ;
  samples: Int16Array;
  head: OpusHead;
  tags: OpusTags;
  /** Packets that did not decode and were concealed. */
  corruptPackets: number;
}

/**
 * Decodes an Ogg Opus file to mono 48 kHz PCM (stereo is downmixed by the
 * decoder), dropping pre-skip, trimming the end to the last granule position
 * and applying the header's output gain (RFC 7845 §4.2, §4.4, §5.1).
 */
export function decodeOggOpus(bytes: Uint8Array): DecodedOggOpus {
  const stream = readOggOpus(bytes);
  const dec = new OpusDecoder({ rateHz: OGG_OPUS_RATE_HZ });
  try {
    let decoded = new Int16Array(Math.max(5760, stream.packets.length * 960));
    let length = 0;
    const buf = new Int16Array(5760);
    const append = (n: number): void => {
      if (length + n > decoded.length) {
        const grown = new Int16Array(2 * (length + n));
        grown.set(decoded.subarray(0, length));
        decoded = grown;
      }
      decoded.set(buf.subarray(0, n), length);
      length += n;
    };
    for (const p of stream.packets) {
      const n = dec.decode(p, buf);
      if (n >= 0) {
        append(n);
        continue;
      }
      // Keep the timeline: conceal as long as the TOC says the packet lasted (20 ms if unreadable).
      const lostSamples = opusPacketSamples48k(p) || dec.frameSamples;
      for (let done = 0; done < lostSamples; done += dec.frameSamples) {
        const c = dec.conceal(buf);
        if (c > 0) append(c);
      }
    }
    // Sample i of the decoded output has granule startGranule + i.
    const start = Math.max(0, Number(BigInt(stream.head.preSkip) - stream.startGranule));
    const end = Math.min(length, Math.max(start, Number(stream.endGranule - stream.startGranule)));
    const samples = decoded.slice(start, end);
    if (stream.head.outputGainQ8 !== 0) applyGain(samples, stream.head.outputGainQ8);
    return {
      rateHz: OGG_OPUS_RATE_HZ,
      samples,
      head: stream.head,
      tags: stream.tags,
      corruptPackets: dec.counters.corrupt,
    };
  } finally {
    dec.destroy();
  }
}

/** §5.1: output gain in Q7.8 dB, applied as 10^(gain / (20 × 256)). */
function applyGain(samples: Int16Array, gainQ8: number): void {
  const k = 10 ** (gainQ8 / (20 * 256));
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * k);
    samples[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
