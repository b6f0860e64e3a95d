/**
 * SRTP and SRTCP with AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32.
 *
 * ```
 * SRTP:  | RTP header | payload (encrypted) | auth tag (10 or 4) |
 *        <---------- authenticated -------->  (+ ROC, not sent)
 * SRTCP: | hdr+SSRC (8) | rest (encrypted) |E| SRTCP index (31) | auth tag (10) |
 *        <----------------- authenticated ------------------->
 * ```
 * - Session keys from the master key and salt with the AES-CM PRF (§4.3.1,
 *   §4.3.3), key derivation rate 0 (the SDES default), no MKI.
 * - AES counter mode with IV = salt·2^16 ⊕ SSRC·2^64 ⊕ index·2^16 (§4.1.1).
 * - HMAC-SHA1 over the authenticated portion and, for SRTP, the 32-bit ROC
 *   (§4.2). SRTCP's tag is 80 bits for both suites: §7.5 keeps short tags
 *   for media only, RFC 4568 §6.2 defines _32 that way and libsrtp does so;
 *   {@link SrtpOptions.srtcpTagBytes} covers peers that differ (ffmpeg's
 *   `srtp` protocol truncates SRTCP tags to 32 bits with the _32 suite).
 * - The receiver estimates the ROC from the sequence number (§3.3.1,
 *   Appendix A), rejects replays with a 64-packet window (§3.3.2), and only
 *   updates state after the tag verifies.
 *
 * One {@link SrtpContext} per direction: with SDES each side has its own key.
 * node:crypto has no in-place or reset API, so each packet costs one HMAC
 * object and one keystream buffer; the AES key schedule is built once per
 * context (an ECB cipher encrypts the counter blocks).
 * @see RFC 3711 §3.1–§3.4, §4.1.1, §4.2; keys in ./srtpKeys.ts.
 */
import { type Cipher, type KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { SRTP_MASTER_KEY_BYTES, SRTP_MASTER_SALT_BYTES, type SrtpKeys, aesCmKeystream, aesEcb, deriveSrtpKey } from './srtpKeys.ts';
import { RTP_HEADER_BYTES } from './rtp.ts';

export type SrtpProfile = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

const AUTH_KEY_BYTES = 20;
const SRTCP_TAG_BYTES = 10;
const SRTCP_INDEX_BYTES = 4;
const REPLAY_WINDOW = 64;
/** Counter blocks for the largest packet we encrypt (a jumbo UDP datagram). */
const MAX_PACKET_BYTES = 65536;

/** §4.3.2 labels. */
const LABEL_RTP_ENCRYPTION = 0x00;
const LABEL_RTP_AUTH = 0x01;
const LABEL_RTP_SALT = 0x02;
const LABEL_RTCP_ENCRYPTION = 0x03;
const LABEL_RTCP_AUTH = 0x04;
const LABEL_RTCP_SALT = 0x05;

/** Negative results of protect/unprotect; callers count them. */
export const SrtpError = {
  /** Too short to hold a header and tag, or the RTP header does not parse. */
  MALFORMED: -1,
  /** The authentication tag did not verify. */
  AUTH_FAILED: -2,
  /** Seen before (within the replay window). */
  REPLAY: -3,
  /** Older than the replay window. */
  TOO_OLD: -4,
  /** `out` cannot hold the result. */
  NO_ROOM: -5,
  /** A new SSRC beyond the per-context limit. */
  SOURCE_LIMIT: -6,
} as const;

export function srtpErrorName(code: number): string {
  return ['', 'malformed', 'auth failed', 'replay', 'too old', 'no room', 'source limit'][-code] ?? 'unknown';
}

export function srtpTagBytes(profile: SrtpProfile): number {
  return profile === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;
}

interface SessionKeys {
  ecb: Cipher;
  salt: Uint8Array;
  auth: KeyObject;
}

function sessionKeys(keys: SrtpKeys, enc: number, auth: number, salt: number): SessionKeys {
  return {
    ecb: aesEcb(deriveSrtpKey(keys.masterKey, keys.masterSalt, enc, SRTP_MASTER_KEY_BYTES)),
    auth: createSecretKey(deriveSrtpKey(keys.masterKey, keys.masterSalt, auth, AUTH_KEY_BYTES)),
    salt: deriveSrtpKey(keys.masterKey, keys.masterSalt, salt, SRTP_MASTER_SALT_BYTES),
  };
}

/**
 * The 64-packet replay window of §3.3.2 over 48-bit (SRTP) or 31-bit (SRTCP)
 * indices: a slot per index modulo 64, cleared as the window slides.
 */
class ReplayWindow {
  highest = -1;
  readonly #seen = new Uint8Array(REPLAY_WINDOW);

  /** 0 when `index` is new, else the SrtpError it earns. */
  check(index: number): number {
    if (this.highest < 0 || index > this.highest) return 0;
    if (this.highest - index >= REPLAY_WINDOW) return SrtpError.TOO_OLD;
    return this.#seen[index % REPLAY_WINDOW] ? SrtpError.REPLAY : 0;
  }

  /** Records an authenticated index. */
  accept(index: number): void {
    if (index > this.highest) {
      const from = this.highest < 0 || index - this.highest > REPLAY_WINDOW ? index - REPLAY_WINDOW + 1 : this.highest + 1;
      for (let i = from; i <= index; i++) this.#seen[((i % REPLAY_WINDOW) + REPLAY_WINDOW) % REPLAY_WINDOW] = 0;
      this.highest = index;
    }
    this.#seen[index % REPLAY_WINDOW] = 1;
  }
}

/** Per-SSRC SRTP state: the ROC and highest sequence (s_l) of §3.3.1, and the replay window. */
class SsrcState {
  roc = 0;
  seq = 0;
  /** Highest index protected (sender side), -1 before the first. */
  sentIndex = -1;
  readonly replay = new ReplayWindow();
  rtcpIndex = 0;
  readonly rtcpReplay = new ReplayWindow();
}

/** SSRC states kept per context; beyond this, new sources are refused (a flood cannot grow memory). */
const MAX_SOURCES = 16;

export interface SrtpOptions {
  /** SRTCP tag length: 10 for both suites by default; 4 for a peer that truncates like SRTP (ffmpeg with _32). */
  srtcpTagBytes?: 4 | 10;
}

export class SrtpContext {
  readonly profile: SrtpProfile;
  readonly tagBytes: number;
  readonly srtcpTagBytes: number;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #sources = new Map<number, SsrcState>();
  readonly #iv = new Uint8Array(16);
  readonly #counters = new Uint8Array(MAX_PACKET_BYTES + 16);
  readonly #roc = new Uint8Array(4);

  constructor(keys: SrtpKeys, profile: SrtpProfile = 'AES_CM_128_HMAC_SHA1_80', options: SrtpOptions = {}) {
    if (keys.masterKey.length !== SRTP_MASTER_KEY_BYTES || keys.masterSalt.length !== SRTP_MASTER_SALT_BYTES) {
      throw new RangeError(
        `SRTP master key/salt length wrong [key:${keys.masterKey.length}, salt:${keys.masterSalt.length}, expected:16/14]`,
      );
    }
    this.profile = profile;
    this.tagBytes = srtpTagBytes(profile);
    this.srtcpTagBytes = options.srtcpTagBytes ?? SRTCP_TAG_BYTES;
    this.#rtp = sessionKeys(keys, LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT);
    this.#rtcp = sessionKeys(keys, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT);
  }

  /**
   * Encrypts and authenticates RTP `buf[0, len)` into `out` (which may be
   * `buf`); returns the SRTP length or a negative {@link SrtpError}. Never throws.
   */
  protectRtp(buf: Uint8Array, len: number, out: Uint8Array): number {
    const start = len <= MAX_PACKET_BYTES ? rtpPayloadStart(buf, len) : -1;
    if (start < 0) return SrtpError.MALFORMED;
    if (len + this.tagBytes > out.length) return SrtpError.NO_ROOM;
    const ssrc = readSsrc(buf, 8);
    const seq = (buf[2]! << 8) | buf[3]!;
    let st = this.#sources.get(ssrc);
    if (!st) {
      if (this.#sources.size >= MAX_SOURCES) return SrtpError.SOURCE_LIMIT;
      st = new SsrcState();
      st.seq = seq;
      this.#sources.set(ssrc, st);
    }
    const index = estimateIndex(st, seq);
    if (index > st.sentIndex) {
      st.roc = Math.floor(index / 65536);
      st.seq = seq;
      st.sentIndex = index;
    }
    if (out !== buf) out.set(buf.subarray(0, len));
    this.#crypt(this.#rtp, ssrc, index, out, start, len);
    this.#tag(this.#rtp, out, len, Math.floor(index / 65536), this.tagBytes, out, len);
    return len + this.tagBytes;
  }

  /**
   * Verifies and decrypts SRTP `buf[0, len)` into `out` (which may be `buf`);
   * returns the RTP length or a negative {@link SrtpError}. Never throws.
   */
  unprotectRtp(buf: Uint8Array, len: number, out: Uint8Array): number {
    const rtpLen = len - this.tagBytes;
    const start = rtpLen <= MAX_PACKET_BYTES && len <= buf.length ? rtpPayloadStart(buf, rtpLen) : -1;
    if (start < 0) return SrtpError.MALFORMED;
    if (rtpLen > out.length) return SrtpError.NO_ROOM;
    const ssrc = readSsrc(buf, 8);
    const seq = (buf[2]! << 8) | buf[3]!;
    const st = this.#sources.get(ssrc);
    const index = st ? estimateIndex(st, seq) : seq;
    if (st) {
      const replay = st.replay.check(index);
      if (replay !== 0) return replay;
    } else if (this.#sources.size >= MAX_SOURCES) return SrtpError.SOURCE_LIMIT;
    if (!this.#verify(this.#rtp, buf, rtpLen, Math.floor(index / 65536), this.tagBytes)) return SrtpError.AUTH_FAILED;
    let state = st;
    if (!state) {
      state = new SsrcState();
      this.#sources.set(ssrc, state);
    }
    if (index > state.replay.highest) {
      state.roc = Math.floor(index / 65536);
      state.seq = seq;
    }
    state.replay.accept(index);
    if (out !== buf) out.set(buf.subarray(0, rtpLen));
    this.#crypt(this.#rtp, ssrc, index, out, start, rtpLen);
    return rtpLen;
  }

  /** Protects an RTCP compound packet into `out`; returns the SRTCP length or a negative {@link SrtpError}. */
  protectRtcp(buf: Uint8Array, len: number, out: Uint8Array): number {
    if (len < 8 || len > buf.length || len > MAX_PACKET_BYTES) return SrtpError.MALFORMED;
    const total = len + SRTCP_INDEX_BYTES + this.srtcpTagBytes;
    if (total > out.length) return SrtpError.NO_ROOM;
    const ssrc = readSsrc(buf, 4);
    let st = this.#sources.get(ssrc);
    if (!st) {
      if (this.#sources.size >= MAX_SOURCES) return SrtpError.SOURCE_LIMIT;
      st = new SsrcState();
      this.#sources.set(ssrc, st);
    }
    const index = st.rtcpIndex;
    st.rtcpIndex = (index + 1) & 0x7fffffff;
    if (out !== buf) out.set(buf.subarray(0, len));
    this.#crypt(this.#rtcp, ssrc, index, out, 8, len);
    writeIndex(out, len, (0x80000000 | index) >>> 0);
    this.#tag(this.#rtcp, out, len + SRTCP_INDEX_BYTES, -1, this.srtcpTagBytes, out, len + SRTCP_INDEX_BYTES);
    return total;
  }

  /** Verifies and decrypts SRTCP into `out`; returns the RTCP length or a negative {@link SrtpError}. */
  unprotectRtcp(buf: Uint8Array, len: number, out: Uint8Array): number {
    const rtcpLen = len - SRTCP_INDEX_BYTES - this.srtcpTagBytes;
    if (rtcpLen < 8 || len > buf.length || rtcpLen > MAX_PACKET_BYTES) return SrtpError.MALFORMED;
    if (rtcpLen > out.length) return SrtpError.NO_ROOM;
    const ssrc = readSsrc(buf, 4);
    const e = readSsrc(buf, rtcpLen);
    const encrypted = e >= 0x80000000;
    const index = e & 0x7fffffff;
    const st = this.#sources.get(ssrc);
    if (st) {
      const replay = st.rtcpReplay.check(index);
      if (replay !== 0) return replay;
    } else if (this.#sources.size >= MAX_SOURCES) return SrtpError.SOURCE_LIMIT;
    if (!this.#verify(this.#rtcp, buf, rtcpLen + SRTCP_INDEX_BYTES, -1, this.srtcpTagBytes)) return SrtpError.AUTH_FAILED;
    let state = st;
    if (!state) {
      state = new SsrcState();
      this.#sources.set(ssrc, state);
    }
    state.rtcpReplay.accept(index);
    if (out !== buf) out.set(buf.subarray(0, rtcpLen));
    if (encrypted) this.#crypt(this.#rtcp, ssrc, index, out, 8, rtcpLen);
    return rtcpLen;
  }

  /** The ROC the context holds for an SSRC (for tests and diagnostics). */
  rolloverCounter(ssrc: number): number {
    return this.#sources.get(ssrc >>> 0)?.roc ?? 0;
  }

  /** XORs the §4.1.1 keystream into `buf[from, to)`. */
  #crypt(keys: SessionKeys, ssrc: number, index: number, buf: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const iv = this.#iv;
    iv.fill(0);
    iv.set(keys.salt);
    iv[4]! ^= ssrc >>> 24;
    iv[5]! ^= (ssrc >>> 16) & 0xff;
    iv[6]! ^= (ssrc >>> 8) & 0xff;
    iv[7]! ^= ssrc & 0xff;
    const hi = Math.floor(index / 4294967296);
    iv[8]! ^= (hi >>> 8) & 0xff;
    iv[9]! ^= hi & 0xff;
    iv[10]! ^= (index >>> 24) & 0xff;
    iv[11]! ^= (index >>> 16) & 0xff;
    iv[12]! ^= (index >>> 8) & 0xff;
    iv[13]! ^= index & 0xff;
    const ks = aesCmKeystream(keys.ecb, iv, n, this.#counters);
    for (let i = 0; i < n; i++) buf[from + i]! ^= ks[i]!;
  }

  /** HMAC-SHA1 of `buf[0, len)` (‖ ROC when roc ≥ 0), truncated to `tagBytes`, written at `out[at]`. */
  #tag(keys: SessionKeys, buf: Uint8Array, len: number, roc: number, tagBytes: number, out: Uint8Array, at: number): void {
    const mac = this.#mac(keys, buf, len, roc);
    for (let i = 0; i < tagBytes; i++) out[at + i] = mac[i]!;
  }

  #verify(keys: SessionKeys, buf: Uint8Array, len: number, roc: number, tagBytes: number): boolean {
    const mac = this.#mac(keys, buf, len, roc);
    return timingSafeEqual(mac.subarray(0, tagBytes), buf.subarray(len, len + tagBytes));
  }

  #mac(keys: SessionKeys, buf: Uint8Array, len: number, roc: number): Buffer {
    const h = createHmac('sha1', keys.auth).update(buf.subarray(0, len));
    if (roc >= 0) {
      writeIndex(this.#roc, 0, roc >>> 0);
      h.update(this.#roc);
    }
    return h.digest();
  }
}

/**
 * The packet index for sequence number `seq` given the highest seen (§3.3.1,
 * Appendix A): the ROC guess v is ROC−1, ROC or ROC+1, whichever puts the
 * index nearest s_l.
 */
function estimateIndex(st: SsrcState, seq: number): number {
  const sl = st.seq;
  let v = st.roc;
  if (sl < 32768) {
    if (seq - sl > 32768 && v > 0) v -= 1;
  } else if (sl - 32768 > seq) {
    v = (v + 1) % 4294967296;
  }
  return seq + v * 65536;
}

/** Offset of the RTP payload, or -1 if the header is malformed (RFC 3550 §5.1). */
function rtpPayloadStart(buf: Uint8Array, len: number): number {
  if (len < RTP_HEADER_BYTES || len > buf.length || buf[0]! >>> 6 !== 2) return -1;
  let o = RTP_HEADER_BYTES + 4 * (buf[0]! & 0x0f);
  if (buf[0]! & 0x10) {
    if (o + 4 > len) return -1;
    o += 4 + 4 * ((buf[o + 2]! << 8) | buf[o + 3]!);
  }
  return o > len ? -1 : o;
}

function readSsrc(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

function writeIndex(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}
