import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRtcpCompound, serializeRtcpCompound } from '../../src/wire/rtcp.ts';
import { RtpPacketView, RtpParse, isRtcp, parseRtpInto, serializeRtp } from '../../src/wire/rtp.ts';
import { SrtpContext, SrtpError, type SrtpProfile, srtpErrorName } from '../../src/wire/srtp.ts';
import {
  type SrtpKeys,
  aesCmKeystream,
  aesEcb,
  deriveSrtpKey,
  parseSdesInline,
  sdesInline,
} from '../../src/wire/srtpKeys.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { runFfmpeg } from '../helpers/ffmpeg.ts';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!hasFfmpeg) console.warn('ffmpeg is not installed: skipping the SRTP interoperability test');

/** RFC 3711 B.3 master key and salt. */
const RFC_KEYS: SrtpKeys = {
  masterKey: hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
  masterSalt: hex('0EC675AD498AFEEBB6960B3AABE6'),
};
const PROFILES: SrtpProfile[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

function rtpPacket(seq: number, ssrc = 0xcafebabe, payloadBytes = 160, seed = seq): Uint8Array {
  const rnd = mulberry32(seed);
  return serializeRtp({
    marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc, csrc: [],
    payload: Uint8Array.from({ length: payloadBytes }, () => Math.floor(rnd() * 256)), paddingLength: 0,
  });
}

function protect(ctx: SrtpContext, pkt: Uint8Array): Uint8Array {
  const out = new Uint8Array(pkt.length + 16);
  const n = ctx.protectRtp(pkt, pkt.length, out);
  expect(n, srtpErrorName(n)).toBeGreaterThan(0);
  return out.subarray(0, n);
}

function unprotect(ctx: SrtpContext, pkt: Uint8Array): number | Uint8Array {
  const out = new Uint8Array(pkt.length);
  const n = ctx.unprotectRtp(pkt, pkt.length, out);
  return n < 0 ? n : out.subarray(0, n);
}

describe('RFC 3711 Appendix B test vectors', () => {
  it('B.2: the AES-CM keystream, over the whole 65282-block segment', () => {
    const blocks = 65282;
    const ks = aesCmKeystream(
      aesEcb(hex('2B7E151628AED2A6ABF7158809CF4F3C')),
      hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'),
      blocks * 16,
      new Uint8Array(blocks * 16),
    );
    expect(toHex(ks.subarray(0, 48))).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4' + 'D23513162B02D0F72A43A2FE4A5F97AB' + '41E95B3BB0A2E8DD477901E4FCA894C0',
    );
    expect(toHex(ks.subarray(ks.length - 48))).toBe(
      'EC8CDF7398607CB0F2D21675EA9EA1E4' + '362B7C3C6773516318A077D7FC5073AE' + '6A2CC3787889374FBEB4C81B17BA6C44',
    );
  });

  it('B.3: session key derivation', () => {
    const { masterKey, masterSalt } = RFC_KEYS;
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 0x00, 16))).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 0x02, 14))).toBe('30CBBC08863D8C85D49DB34A9AE1');
    // The RFC lists 94 octets of the auth-key PRF output; HMAC-SHA1 uses the first 20.
    expect(toHex(deriveSrtpKey(masterKey, masterSalt, 0x01, 94))).toBe(
      'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE' +
        'E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25' +
        '6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
    );
  });
});

describe.each(PROFILES)('SRTP %s', (profile) => {
  const tag = profile.endsWith('80') ? 10 : 4;

  it('round-trips protect → unprotect, header in clear, payload encrypted', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    for (let seq = 100; seq < 150; seq++) {
      const pkt = rtpPacket(seq);
      const srtp = protect(tx, pkt);
      expect(srtp.length).toBe(pkt.length + tag);
      expect(srtp.subarray(0, 12)).toEqual(pkt.subarray(0, 12));
      expect(srtp.subarray(12, pkt.length)).not.toEqual(pkt.subarray(12));
      expect(unprotect(rx, srtp)).toEqual(pkt);
    }
  });

  it('works in place', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    const pkt = rtpPacket(1);
    const buf = new Uint8Array(pkt.length + tag);
    buf.set(pkt);
    const n = tx.protectRtp(buf, pkt.length, buf);
    expect(rx.unprotectRtp(buf, n, buf)).toBe(pkt.length);
    expect(buf.subarray(0, pkt.length)).toEqual(pkt);
  });

  it('rejects a bad tag, a changed header or payload, and the wrong key, then accepts the genuine packet', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    const srtp = protect(tx, rtpPacket(7));
    for (const at of [srtp.length - 1, 1, 20]) {
      const bad = srtp.slice();
      bad[at]! ^= 0x01;
      expect(unprotect(rx, bad)).toBe(SrtpError.AUTH_FAILED);
    }
    const other = new SrtpContext({ masterKey: new Uint8Array(16), masterSalt: new Uint8Array(14) }, profile);
    expect(unprotect(other, srtp)).toBe(SrtpError.AUTH_FAILED);
    expect(unprotect(rx, srtp)).toEqual(rtpPacket(7));
  });

  it('rejects replays and packets older than the 64-packet window, accepts reordering within it', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    const sent = Array.from({ length: 200 }, (_, i) => protect(tx, rtpPacket(1000 + i)));
    expect(unprotect(rx, sent[0]!)).toBeInstanceOf(Uint8Array);
    expect(unprotect(rx, sent[0]!)).toBe(SrtpError.REPLAY);
    expect(unprotect(rx, sent[100]!)).toBeInstanceOf(Uint8Array);
    expect(unprotect(rx, sent[50]!)).toBeInstanceOf(Uint8Array); // 50 behind: inside the window
    expect(unprotect(rx, sent[50]!)).toBe(SrtpError.REPLAY);
    expect(unprotect(rx, sent[36]!)).toBe(SrtpError.TOO_OLD); // 64 behind
    expect(unprotect(rx, sent[37]!)).toBeInstanceOf(Uint8Array); // 63 behind
    expect(unprotect(rx, sent[199]!)).toBeInstanceOf(Uint8Array);
    expect(unprotect(rx, sent[100]!)).toBe(SrtpError.TOO_OLD);
  });

  it('rolls the ROC over across 65535 → 0, with reordering across the wrap', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    const seqs = Array.from({ length: 40 }, (_, i) => (65520 + i) & 0xffff);
    const sent = seqs.map((s) => protect(tx, rtpPacket(s)));
    expect(tx.rolloverCounter(0xcafebabe)).toBe(1);
    // Deliver 65535 after 0 and 1.
    const order = [...Array(40).keys()];
    [order[15], order[16], order[17]] = [16, 17, 15];
    for (const i of order) expect(unprotect(rx, sent[i]!), `seq ${seqs[i]}`).toEqual(rtpPacket(seqs[i]!));
    expect(rx.rolloverCounter(0xcafebabe)).toBe(1);
    // A second wrap, 65536 packets later, takes the ROC to 2.
    for (let s = 1020; s < 65536 + 2000; s += 1000) {
      const seq = s & 0xffff;
      expect(unprotect(rx, protect(tx, rtpPacket(seq, 0xcafebabe, 20))), `seq ${seq}`).toBeInstanceOf(Uint8Array);
    }
    expect(rx.rolloverCounter(0xcafebabe)).toBe(2);
  });

  it('keeps sources apart: per-SSRC ROC and replay state', () => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    const a = protect(tx, rtpPacket(5, 1));
    const b = protect(tx, rtpPacket(5, 2));
    expect(unprotect(rx, a)).toBeInstanceOf(Uint8Array);
    expect(unprotect(rx, b)).toBeInstanceOf(Uint8Array);
    expect(unprotect(rx, b)).toBe(SrtpError.REPLAY);
    // State per source is bounded: a flood of SSRCs cannot grow it.
    for (let ssrc = 3; ssrc <= 16; ssrc++) expect(unprotect(rx, protect(tx, rtpPacket(1, ssrc)))).toBeInstanceOf(Uint8Array);
    const extra = rtpPacket(1, 17);
    expect(tx.protectRtp(extra, extra.length, new Uint8Array(400))).toBe(SrtpError.SOURCE_LIMIT);
    expect(unprotect(rx, protect(new SrtpContext(RFC_KEYS, profile), extra))).toBe(SrtpError.SOURCE_LIMIT);
  });

  it('refuses malformed input and small output buffers without throwing', () => {
    const rx = new SrtpContext(RFC_KEYS, profile);
    expect(rx.unprotectRtp(new Uint8Array(10), 10, new Uint8Array(10))).toBe(SrtpError.MALFORMED);
    const srtp = protect(new SrtpContext(RFC_KEYS, profile), rtpPacket(1));
    expect(rx.unprotectRtp(srtp, srtp.length, new Uint8Array(20))).toBe(SrtpError.NO_ROOM);
    const pkt = rtpPacket(1);
    expect(rx.protectRtp(pkt, pkt.length, new Uint8Array(pkt.length))).toBe(SrtpError.NO_ROOM);
    expect(rx.protectRtp(pkt, pkt.length + 1, new Uint8Array(400))).toBe(SrtpError.MALFORMED);
  });
});

describe('SRTCP', () => {
  const compound = serializeRtcpCompound([
    { type: 'rr', ssrc: 0x1234, reports: [] },
    { type: 'sdes', chunks: [{ ssrc: 0x1234, items: [{ type: 1, text: 'user@example' }] }] },
  ]);

  it.each(PROFILES)('round-trips with the E bit, an 80-bit tag and a rising index (%s)', (profile) => {
    const tx = new SrtpContext(RFC_KEYS, profile);
    const rx = new SrtpContext(RFC_KEYS, profile);
    for (let i = 0; i < 3; i++) {
      const out = new Uint8Array(compound.length + 14);
      const n = tx.protectRtcp(compound, compound.length, out);
      expect(n).toBe(compound.length + 4 + 10); // SRTCP keeps 80 bits for _32 too (RFC 3711 §7.5, RFC 4568 §6.2)
      expect(out.subarray(0, 8)).toEqual(compound.subarray(0, 8));
      expect([...out.subarray(compound.length, compound.length + 4)]).toEqual([0x80, 0, 0, i]);
      const back = new Uint8Array(n);
      const tampered = out.slice(0, n);
      tampered[10]! ^= 4;
      expect(rx.unprotectRtcp(tampered, n, back)).toBe(SrtpError.AUTH_FAILED);
      expect(rx.unprotectRtcp(out, n, back)).toBe(compound.length);
      expect(parseRtcpCompound(back.subarray(0, compound.length))).toEqual(parseRtcpCompound(compound));
      expect(rx.unprotectRtcp(out, n, back)).toBe(SrtpError.REPLAY);
    }
    expect(rx.unprotectRtcp(compound, 13, new Uint8Array(64))).toBe(SrtpError.MALFORMED);
  });

  it('can truncate SRTCP tags to 32 bits for peers that do', () => {
    const tx = new SrtpContext(RFC_KEYS, 'AES_CM_128_HMAC_SHA1_32', { srtcpTagBytes: 4 });
    const rx = new SrtpContext(RFC_KEYS, 'AES_CM_128_HMAC_SHA1_32', { srtcpTagBytes: 4 });
    const out = new Uint8Array(compound.length + 14);
    const n = tx.protectRtcp(compound, compound.length, out);
    expect(n).toBe(compound.length + 8);
    expect(rx.unprotectRtcp(out, n, new Uint8Array(n))).toBe(compound.length);
    const strict = new SrtpContext(RFC_KEYS, 'AES_CM_128_HMAC_SHA1_32');
    expect(strict.unprotectRtcp(out, n, new Uint8Array(n))).toBeLessThan(0);
  });
});

describe('SDES keys (RFC 4568 §6.1)', () => {
  it('parses inline key params, and writes them back', () => {
    const b64 = Buffer.concat([RFC_KEYS.masterKey, RFC_KEYS.masterSalt]).toString('base64');
    expect(parseSdesInline(`inline:${b64}`)).toEqual(RFC_KEYS);
    expect(parseSdesInline(`inline:${b64}|2^20`)).toEqual(RFC_KEYS);
    expect(sdesInline(RFC_KEYS)).toBe(`inline:${b64}`);
    expect(() => parseSdesInline(`inline:${b64}|2^20|1:4`)).toThrow(/MKI is not supported/);
    expect(() => parseSdesInline('inline:AAAA')).toThrow(/length:3, expected:30/);
    expect(() => parseSdesInline('key:xyz')).toThrow(RangeError);
    expect(() => new SrtpContext({ masterKey: new Uint8Array(15), masterSalt: new Uint8Array(14) })).toThrow(/key:15/);
  });
});

describe.skipIf(!hasFfmpeg)('interoperability: ffmpeg SRTP sender', () => {
  it.each(PROFILES)("unprotects ffmpeg's SRTP and SRTCP (%s)", async (profile) => {
    const keys: SrtpKeys = { masterKey: hex('00112233445566778899aabbccddeeff'), masterSalt: hex('0102030405060708090a0b0c0d0e') };
    const params = sdesInline(keys).slice('inline:'.length);
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = (sock.address() as AddressInfo).port;
    const packets: Uint8Array[] = [];
    sock.on('message', (m) => packets.push(new Uint8Array(m)));
    // Rejects with ffmpeg's stderr unless it exits 0.
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1',
      '-ar', '8000', '-ac', '1', '-c:a', 'pcm_mulaw', '-f', 'rtp',
      '-srtp_out_suite', profile, '-srtp_out_params', params, `srtp://127.0.0.1:${port}?rtcpport=${port}`,
    ]);
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    // ffmpeg truncates SRTCP tags like SRTP ones with _32, where libsrtp keeps 80 bits.
    const rx = new SrtpContext(keys, profile, { srtcpTagBytes: profile.endsWith('32') ? 4 : 10 });
    const view = new RtpPacketView();
    const out = new Uint8Array(2048);
    let rtp = 0;
    let rtcp = 0;
    let bytes = 0;
    for (const p of packets) {
      if (isRtcp(p)) {
        const n = rx.unprotectRtcp(p, p.length, out);
        expect(n, srtpErrorName(n)).toBeGreaterThan(0);
        expect(parseRtcpCompound(out.subarray(0, n))[0]?.type).toBe('sr');
        rtcp++;
      } else {
        const n = rx.unprotectRtp(p, p.length, out);
        expect(n, srtpErrorName(n)).toBeGreaterThan(0);
        expect(parseRtpInto(out, n, view)).toBe(RtpParse.OK);
        bytes += view.payloadLength;
        rtp++;
      }
    }
    expect(rtp).toBeGreaterThan(5);
    expect(rtcp).toBeGreaterThanOrEqual(1);
    expect(bytes).toBe(8000);
  });
});

describe.skipIf(!hasFfmpeg)('interoperability: ffmpeg SRTP receiver', () => {
  it('ffmpeg decrypts and authenticates our SRTP across a ROC rollover', async () => {
    const keys: SrtpKeys = { masterKey: hex('f0e1d2c3b4a5968778695a4b3c2d1e0f'), masterSalt: hex('a1a2a3a4a5a6a7a8a9aaabacadae') };
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-srtp-'));
    const sdp = join(dir, 'in.sdp');
    const outFile = join(dir, 'out.ulaw');
    // The key travels in an RFC 4568 a=crypto line of an RTP/SAVP media description.
    writeFileSync(
      sdp,
      ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=srtp', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/SAVP 0`,
        'a=rtpmap:0 PCMU/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${sdesInline(keys)}`, ''].join('\n'),
    );
    const ff = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y', '-protocol_whitelist', 'file,udp,rtp,srtp',
      '-i', sdp, '-t', '2', '-c:a', 'copy', '-f', 'mulaw', outFile,
    ]);
    let stderr = '';
    ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => ff.on('exit', r));
    const killer = setTimeout(() => ff.kill('SIGKILL'), 20_000);
    // Distinct bytes per packet so the output can be located in what was sent.
    const PACKETS = 220;
    const sent = Uint8Array.from({ length: 160 * PACKETS }, (_, i) => (i * 7 + (i >>> 5)) & 0xff);
    const tx = new SrtpContext(keys);
    const sock = createSocket('udp4');
    await new Promise((r) => setTimeout(r, 1000)); // let ffmpeg open its socket
    for (let i = 0; i < PACKETS; i++) {
      // The sequence wraps at the 60th packet: ffmpeg must follow the ROC.
      const p = serializeRtp({
        marker: i === 0, payloadType: 0, sequenceNumber: (65476 + i) & 0xffff, timestamp: 160 * i, ssrc: 0x5b5b5b5b,
        csrc: [], payload: sent.subarray(160 * i, 160 * (i + 1)), paddingLength: 0,
      });
      sock.send(protect(tx, p), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 10));
    }
    sock.close();
    const code = await exited;
    clearTimeout(killer);
    const got = code === 0 ? new Uint8Array(readFileSync(outFile)) : new Uint8Array(0);
    rmSync(dir, { recursive: true, force: true });
    expect(code, `ffmpeg failed or timed out: ${stderr}`).toBe(0);
    expect(got.length).toBeGreaterThanOrEqual(16000);
    const at = Buffer.from(sent).indexOf(Buffer.from(got.subarray(0, 160)));
    expect(at % 160).toBe(0);
    expect(at / 160).toBeLessThan(60); // it started before the wrap
    expect(got).toEqual(sent.subarray(at, at + got.length));
  });
});
