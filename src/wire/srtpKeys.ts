/**
 * SRTP master keys and the AES-CM machinery under both key derivation and
 * packet encryption.
 *
 * - SDES key params (RFC 4568 §6.1): `inline:` and the base64 of the 16-byte
 *   master key followed by the 14-byte master salt.
 * - AES in counter mode (RFC 3711 §4.1.1): keystream block j is AES_k(IV + j).
 *   Node has no way to reset a CTR cipher's IV, so one ECB cipher per key
 *   encrypts the counter blocks instead of a new CTR cipher per packet.
 * - The key derivation PRF (RFC 3711 §4.3.1, §4.3.3) with key derivation
 *   rate 0, the SDES default.
 * @see RFC 3711 §4.1.1, §4.3; RFC 4568 §6.1.
 */
import { type Cipher, createCipheriv } from 'node:crypto';

export const SRTP_MASTER_KEY_BYTES = 16;
export const SRTP_MASTER_SALT_BYTES = 14;

export interface SrtpKeys {
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

/**
 * Parses RFC 4568 key params: `inline:<base64 of 16-byte key ‖ 14-byte salt>`
 * with an optional `|lifetime` and refused `|MKI:len` (MKI is not supported).
 * Throws a RangeError naming what is wrong.
 */
export function parseSdesInline(keyParams: string): SrtpKeys {
  const m = /^inline:([A-Za-z0-9+/=]+)(\|[^|]*)?(\|[^|]*)?$/.exec(keyParams.trim());
  if (!m) throw new RangeError(`not an SDES inline key [value:${JSON.stringify(keyParams.slice(0, 80))}]`);
  const parts = [m[2], m[3]].filter((p): p is string => p !== undefined).map((p) => p.slice(1));
  if (parts.some((p) => p.includes(':'))) throw new RangeError(`SDES MKI is not supported [params:${parts.join('|')}]`);
  const raw = Buffer.from(m[1]!, 'base64');
  const need = SRTP_MASTER_KEY_BYTES + SRTP_MASTER_SALT_BYTES;
  if (raw.length !== need) throw new RangeError(`SDES key length wrong [length:${raw.length}, expected:${need}]`);
  return {
    masterKey: new Uint8Array(raw.subarray(0, SRTP_MASTER_KEY_BYTES)),
    masterSalt: new Uint8Array(raw.subarray(SRTP_MASTER_KEY_BYTES)),
  };
}

/** `inline:<base64>` for a key and salt (what ffmpeg's `-srtp_out_params` takes without the prefix). */
export function sdesInline(keys: SrtpKeys): string {
  return `inline:${Buffer.concat([keys.masterKey, keys.masterSalt]).toString('base64')}`;
}

/**
 * AES-CM keystream (§4.1.1): AES_k(IV), AES_k(IV+1), … — `length` bytes.
 * `ecb` is an AES-128-ECB cipher without padding under the session key.
 */
export function aesCmKeystream(ecb: Cipher, iv: Uint8Array, length: number, counters: Uint8Array): Buffer {
  const blocks = (length + 15) >>> 4;
  for (let b = 0; b < blocks; b++) {
    const o = b << 4;
    for (let i = 0; i < 16; i++) counters[o + i] = iv[i]!;
    // Add b to the 128-bit big-endian counter.
    let carry = b;
    for (let i = 15; i >= 0 && carry !== 0; i--) {
      const v = counters[o + i]! + (carry & 0xff);
      counters[o + i] = v & 0xff;
      carry = (carry >>> 8) + (v >>> 8);
    }
  }
  return ecb.update(counters.subarray(0, blocks << 4));
}

export function aesEcb(key: Uint8Array): Cipher {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return c;
}

/**
 * Session key derivation (§4.3.1, kdr 0): x = label·2^48 ⊕ master salt, and
 * the PRF output is the AES-CM keystream under the master key with IV x·2^16.
 */
export function deriveSrtpKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(masterSalt.subarray(0, SRTP_MASTER_SALT_BYTES));
  iv[7]! ^= label; // label sits just above the 48-bit index r, which is 0 with kdr 0
  const ks = aesCmKeystream(aesEcb(masterKey), iv, length, new Uint8Array(((length + 15) >>> 4) << 4));
  return new Uint8Array(ks.subarray(0, length));
}
