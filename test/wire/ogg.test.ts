import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpusEncoder } from '../../src/dsp/opus.ts';
import {
  NO_GRANULE,
  OGG_BOS,
  OGG_CONTINUED,
  OGG_EOS,
  OggFormatError,
  OggWriter,
  oggCrc,
  oggPackets,
  readOggPages,
  writeOggPage,
} from '../../src/wire/ogg.ts';
import {
  decodeOggOpus,
  encodeOggOpus,
  opusPacketSamples48k,
  parseOpusHead,
  parseOpusTags,
  readOggOpus,
  writeOpusHead,
  writeOpusTags,
} from '../../src/wire/oggOpus.ts';
import { writeWav } from '../../src/wire/wav.ts';
import { speech } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const ffmpegLibopus =
  hasFfmpeg && /libopus/.test(spawnSync('ffmpeg', ['-hide_banner', '-encoders']).stdout?.toString() ?? '');
if (!hasFfmpeg) console.warn('ffmpeg is not installed: skipping the Ogg Opus interoperability tests');

const dir = mkdtempSync(join(tmpdir(), 'switchboard-ogg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/**
 * Normalized cross-correlation, best over lags of ±4 samples: pre-skip is the
 * encoder's reported lookahead, and in SILK mode the true delay at 48 kHz is
 * a few samples shorter.
 */
function ncc(x: Int16Array, y: Int16Array): number {
  let best = -1;
  for (let lag = -4; lag <= 4; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 4; i < Math.min(x.length, y.length) - 4; i++) {
      const a = x[i]!;
      const b = y[i + lag]!;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

/** Two seconds of 48 kHz speech. */
const speech48 = (): Int16Array => speech('synth-m-48k').samples.slice(48000, 3 * 48000);

describe('Ogg CRC (RFC 3533 §6)', () => {
  it('is CRC-32 with polynomial 0x04c11db7, initial 0, unreflected, no final XOR', () => {
    // The catalogued CRC-32/POSIX check value 0x765e7680 uses the same generator
    // with a final XOR of 0xffffffff; Ogg's omits it.
    expect(oggCrc(new Uint8Array(ascii('123456789')))).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
    expect(oggCrc(new Uint8Array(0))).toBe(0);
  });
});

describe('Ogg pages', () => {
  // A one-packet BOS page, field by field.
  const page = Uint8Array.of(
    ...ascii('OggS'), // capture pattern
    0, // stream structure version
    OGG_BOS, // header type
    ...[0x40, 0x01, 0, 0, 0, 0, 0, 0], // granule position 320
    ...[0x78, 0x56, 0x34, 0x12], // serial 0x12345678
    ...[5, 0, 0, 0], // page sequence 5
    ...[0, 0, 0, 0], // CRC, filled below
    1, // page_segments
    3, // segment table: one packet of 3 bytes
    ...[0xaa, 0xbb, 0xcc], // body
  );
  new DataView(page.buffer).setUint32(22, oggCrc(page), true);

  it('parses a page written field by field and serializes it back byte for byte', () => {
    const [p] = readOggPages(page);
    expect(p).toMatchObject({
      headerType: OGG_BOS,
      granulePosition: 320n,
      serialNumber: 0x12345678,
      sequenceNumber: 5,
    });
    expect([...p!.segments]).toEqual([3]);
    expect([...p!.body]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(writeOggPage(p!)).toEqual(page);
  });

  it('laces packets of every awkward length, across pages, and reassembles them', () => {
    const rnd = mulberry32(3);
    const lengths = [0, 1, 254, 255, 256, 510, 511, 70_000, 3, 255 * 255, 200_000, 7];
    const packets = lengths.map((n) => {
      const p = new Uint8Array(n);
      for (let i = 0; i < n; i++) p[i] = Math.floor(rnd() * 256);
      return p;
    });
    const w = new OggWriter(99, 1000);
    packets.forEach((p, i) => w.packet(p, BigInt(1000 * (i + 1))));
    const pages = readOggPages(w.end());
    expect(pages[0]!.headerType & OGG_BOS).toBe(OGG_BOS);
    expect(pages.at(-1)!.headerType & OGG_EOS).toBe(OGG_EOS);
    expect(pages.every((p, i) => p.sequenceNumber === i && p.serialNumber === 99 && p.segments.length <= 255)).toBe(
      true,
    );
    // The 70 000-byte packet needs more than one page: the pages after the first are continued.
    expect(pages.some((p) => (p.headerType & OGG_CONTINUED) !== 0)).toBe(true);
    // A page on which no packet ends has granule position -1.
    expect(pages.some((p) => p.granulePosition === NO_GRANULE)).toBe(true);
    const back = oggPackets(pages);
    expect(back.map((p) => p.data.length)).toEqual(lengths);
    back.forEach((p, i) => expect(Buffer.compare(p.data, packets[i]!), `packet ${i}`).toBe(0));
    // Each page's granule position is that of the last packet completed on it.
    for (const p of back) if (p.granulePosition !== NO_GRANULE) expect(p.granulePosition % 1000n).toBe(0n);
    expect(back.at(-1)).toMatchObject({ granulePosition: 12_000n, eos: true });
  });

  it('names what is wrong with a corrupt stream', () => {
    const bad = page.slice();
    bad[28] ^= 1;
    expect(() => readOggPages(bad)).toThrow(/bad Ogg page CRC \[page:0, offset:0, stored:0x[0-9a-f]{8}, computed:/);
    expect(() => readOggPages(page.subarray(0, 20))).toThrow(/truncated Ogg page header \[page:0/);
    expect(() => readOggPages(page.subarray(0, page.length - 1))).toThrow(
      /truncated Ogg page \[page:0, offset:0, needed:31, available:30\]/,
    );
    expect(() => readOggPages(new Uint8Array(ascii('RIFF....WAVE')))).toThrow(/not an Ogg file/);
    const twoPages = new Uint8Array([...page, 0, 1, 2]);
    expect(() => readOggPages(twoPages)).toThrow(/lost Ogg page sync.*offset:31\]/);
    const v1 = page.slice();
    v1[4] = 1;
    expect(() => readOggPages(v1)).toThrow(OggFormatError);
  });
});

describe('Ogg Opus headers (RFC 7845 §5)', () => {
  it('writes OpusHead field by field and reads it back', () => {
    const head = { version: 1, channels: 1, preSkip: 312, inputRateHz: 16000, outputGainQ8: -256, mappingFamily: 0 };
    const bytes = writeOpusHead(head);
    expect([...bytes]).toEqual([
      ...ascii('OpusHead'),
      1, // version
      1, // channels
      ...[0x38, 0x01], // pre-skip 312
      ...[0x80, 0x3e, 0, 0], // input rate 16000
      ...[0x00, 0xff], // output gain -1 dB (Q7.8)
      0, // mapping family
    ]);
    expect(parseOpusHead(bytes)).toEqual(head);
  });

  it('writes and reads OpusTags', () => {
    const tags = { vendor: 'switchboard', comments: ['TITLE=tést', 'ENCODER=x'] };
    expect(parseOpusTags(writeOpusTags(tags))).toEqual(tags);
    expect(() => parseOpusTags(writeOpusTags(tags).subarray(0, 30))).toThrow(/truncated OpusTags/);
  });

  it('refuses headers it cannot play', () => {
    const head = writeOpusHead({
      version: 1,
      channels: 1,
      preSkip: 0,
      inputRateHz: 0,
      outputGainQ8: 0,
      mappingFamily: 0,
    });
    const family1 = head.slice();
    family1[18] = 1;
    expect(() => parseOpusHead(family1)).toThrow(/unsupported Opus channel mapping family \[family:1/);
    const v16 = head.slice();
    v16[8] = 16;
    expect(() => parseOpusHead(v16)).toThrow(/unsupported OpusHead version/);
    expect(() => parseOpusHead(head.subarray(0, 12))).toThrow(/truncated OpusHead/);
  });

  it('reads packet durations from the TOC byte (RFC 6716 §3.1)', () => {
    expect(opusPacketSamples48k(Uint8Array.of((1 << 3) | 0))).toBe(960); // SILK NB 20 ms
    expect(opusPacketSamples48k(Uint8Array.of((3 << 3) | 1, 0))).toBe(2 * 2880); // SILK 60 ms ×2
    expect(opusPacketSamples48k(Uint8Array.of((13 << 3) | 0))).toBe(960); // hybrid SWB 20 ms
    expect(opusPacketSamples48k(Uint8Array.of((16 << 3) | 3, 4))).toBe(480); // CELT 2.5 ms ×4
    expect(opusPacketSamples48k(Uint8Array.of((31 << 3) | 3, 7))).toBe(0); // 7 × 20 ms: over 120 ms
    expect(opusPacketSamples48k(new Uint8Array(0))).toBe(0);
  });
});

describe('Ogg Opus files', () => {
  for (const rateHz of [48000, 16000]) {
    it(`round trip at ${rateHz} Hz: headers, granule positions, pre-skip and length`, () => {
      const x = rateHz === 48000 ? speech48() : speech('synth-m-16k').samples.slice(16000, 48000);
      const file = encodeOggOpus(x, rateHz, { bitrateBps: 32000, serialNumber: 42, comments: ['TITLE=t'] });
      const lookahead = new OpusEncoder({ rateHz }).lookaheadSamples;
      const preSkip = (lookahead * 48000) / rateHz;
      const pages = readOggPages(file);
      // §3: OpusHead alone on the BOS page, OpusTags on the second page, both granule 0.
      expect(pages[0]).toMatchObject({ headerType: OGG_BOS, granulePosition: 0n, serialNumber: 42 });
      expect(pages[1]).toMatchObject({ headerType: 0, granulePosition: 0n });
      expect(pages.at(-1)!.headerType & OGG_EOS).toBe(OGG_EOS);
      const n48 = (x.length * 48000) / rateHz;
      // §4.4: the last granule position marks the end of the input, past the pre-skip.
      expect(pages.at(-1)!.granulePosition).toBe(BigInt(preSkip + n48));
      const stream = readOggOpus(file);
      expect(stream.head).toEqual({
        version: 1,
        channels: 1,
        preSkip,
        inputRateHz: rateHz,
        outputGainQ8: 0,
        mappingFamily: 0,
      });
      expect(stream.tags.comments).toEqual(['TITLE=t']);
      expect(stream.packets.length).toBe(Math.ceil((n48 + preSkip) / 960));
      const out = decodeOggOpus(file);
      expect(out.rateHz).toBe(48000);
      expect(out.samples.length).toBe(n48);
      if (rateHz === 48000) expect(ncc(x, out.samples)).toBeGreaterThan(0.9);
    });
  }

  it.skipIf(!hasFfmpeg)('ffmpeg decodes the files written here (needs ffmpeg)', () => {
    const x = speech48();
    const path = join(dir, 'ours.opus');
    writeFileSync(path, encodeOggOpus(x, 48000, { bitrateBps: 32000 }));
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', '48000', '-']);
    expect(r.status, r.stderr?.toString()).toBe(0);
    const theirs = new Int16Array(new Uint8Array(r.stdout).buffer.slice(0));
    // ffmpeg applies the same pre-skip and end trimming: same length, aligned.
    expect(theirs.length).toBe(x.length);
    expect(ncc(x, theirs)).toBeGreaterThan(0.9);
  });

  it.skipIf(!ffmpegLibopus)('reads files ffmpeg writes with libopus (needs ffmpeg with libopus)', () => {
    const x = speech48();
    const wav = join(dir, 'in.wav');
    const opus = join(dir, 'theirs.opus');
    writeFileSync(wav, writeWav({ rateHz: 48000, channels: 1, samples: x }));
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', wav, '-c:a', 'libopus', '-b:a', '32k', opus]);
    expect(r.status, r.stderr?.toString()).toBe(0);
    const file = new Uint8Array(readFileSync(opus));
    const stream = readOggOpus(file);
    expect(stream.head).toMatchObject({ version: 1, channels: 1, inputRateHz: 48000, mappingFamily: 0 });
    expect(stream.tags.vendor).toMatch(/libopus|Lavf/);
    const out = decodeOggOpus(file);
    expect(Math.abs(out.samples.length - x.length)).toBeLessThanOrEqual(960);
    expect(ncc(x, out.samples)).toBeGreaterThan(0.9);

    // A stereo file (the same speech on both channels) decodes to mono.
    const stereo = join(dir, 'theirs-stereo.opus');
    const r2 = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', wav, '-ac', '2', '-c:a', 'libopus', '-b:a', '64k', stereo]);
    expect(r2.status, r2.stderr?.toString()).toBe(0);
    const both = decodeOggOpus(new Uint8Array(readFileSync(stereo)));
    expect(both.head.channels).toBe(2);
    expect(ncc(x, both.samples)).toBeGreaterThan(0.9);
  });

  it('names what is wrong with a corrupt file', () => {
    const file = encodeOggOpus(speech48().subarray(0, 9600), 48000, { serialNumber: 1 });
    const badCrc = file.slice();
    badCrc[file.length - 5] ^= 0x40;
    expect(() => readOggOpus(badCrc)).toThrow(/bad Ogg page CRC \[page:\d+/);
    expect(() => decodeOggOpus(file.subarray(0, file.length - 10))).toThrow(/truncated Ogg page/);
    expect(() => readOggOpus(writeWav({ rateHz: 8000, channels: 1, samples: new Int16Array(8) }))).toThrow(
      /not an Ogg file/,
    );
    expect(() => readOggOpus(new Uint8Array(0))).toThrow(/empty Ogg file/);
    const vorbis = new OggWriter(5);
    vorbis.packet(Uint8Array.of(1, ...ascii('vorbis'), 0, 0, 0, 0), 0n);
    expect(() => readOggOpus(vorbis.end())).toThrow(/not an Ogg Opus stream: the first packet is not "OpusHead"/);
    const headOnly = new OggWriter(5);
    headOnly.packet(
      writeOpusHead({ version: 1, channels: 1, preSkip: 312, inputRateHz: 8000, outputGainQ8: 0, mappingFamily: 0 }),
      0n,
    );
    expect(() => readOggOpus(headOnly.end())).toThrow(/no OpusTags packet/);
  });

  it('applies the output gain and conceals an undecodable packet', () => {
    const x = speech48();
    const stream = readOggOpus(encodeOggOpus(x, 48000, { serialNumber: 2 }));
    const plain = decodeOggOpus(encodeOggOpus(x, 48000, { serialNumber: 2 }));
    // Rewrite with -6.02 dB of output gain (Q7.8) and one packet replaced by garbage.
    const packets = stream.packets.slice();
    // A code 0 packet of 1300 bytes: its TOC still says 20 ms, but a frame is at most 1275 bytes (RFC 6716 §3.2.1).
    packets[10] = new Uint8Array(1300);
    packets[10][0] = stream.packets[10]![0]! & 0xfc;
    const ogg = new OggWriter(2);
    ogg.packet(writeOpusHead({ ...stream.head, outputGainQ8: -1541 }), 0n);
    ogg.flush();
    ogg.packet(writeOpusTags(stream.tags), 0n);
    ogg.flush();
    packets.forEach((p, i) => ogg.packet(p, i === packets.length - 1 ? stream.endGranule : BigInt(960 * (i + 1))));
    const out = decodeOggOpus(ogg.end());
    expect(out.corruptPackets).toBe(1);
    expect(out.samples.length).toBe(plain.samples.length);
    // Energy after the concealed packet has healed: half the amplitude.
    const energy = (a: Int16Array): number => a.subarray(48000).reduce((s, v) => s + v * v, 0);
    const ratio = Math.sqrt(energy(out.samples) / energy(plain.samples));
    expect(ratio).toBeCloseTo(0.5, 1);
  });
});
