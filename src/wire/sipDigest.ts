/**
 * HTTP Digest authentication for SIP (RFC 3261 §22.4, with RFC 8760's
 * SHA-256 and RFC 7616 §3.4's qop=auth computation):
 *
 *   HA1 = H(username ":" realm ":" password)
 *   HA2 = H(method ":" digest-uri)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)   (qop=auth)
 *            = H(HA1 ":" nonce ":" HA2)                              (no qop, RFC 2069)
 */

import { createHash, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

const HASH: Readonly<Record<DigestAlgorithm, string>> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(HASH[algorithm]).update(text, 'utf8').digest('hex');
}

export interface DigestParams {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: string | undefined;
  nc: string | undefined;
  cnonce: string | undefined;
  opaque: string | undefined;
}

/** `Digest k=v, k="v"` → its parameters (names lower-case); undefined when not Digest. */
export function parseDigestHeader(value: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (m === null) return undefined;
  const params = new Map<string, string>();
  const re = /([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,|$)/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[1]!)) !== null) params.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  return params;
}

/** The parameters of an Authorization value, or undefined when one is missing or unknown. */
export function readCredentials(value: string): DigestParams | undefined {
  const p = parseDigestHeader(value);
  if (p === undefined) return undefined;
  const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase() as DigestAlgorithm;
  if (!DIGEST_ALGORITHMS.includes(algorithm)) return undefined;
  const need = ['username', 'realm', 'nonce', 'uri', 'response'].map((k) => p.get(k));
  if (need.some((v) => v === undefined)) return undefined;
  const [username, realm, nonce, uri, response] = need as string[];
  return { username: username!, realm: realm!, nonce: nonce!, uri: uri!, response: response!, algorithm, qop: p.get('qop'), nc: p.get('nc'), cnonce: p.get('cnonce'), opaque: p.get('opaque') };
}

/** The response a client computes (and the server recomputes to check). */
export function digestResponse(c: Omit<DigestParams, 'response' | 'opaque'>, method: string, password: string): string {
  const ha1 = digestHash(c.algorithm, `${c.username}:${c.realm}:${password}`);
  const ha2 = digestHash(c.algorithm, `${method}:${c.uri}`);
  if (c.qop === 'auth') return digestHash(c.algorithm, `${ha1}:${c.nonce}:${c.nc}:${c.cnonce}:auth:${ha2}`);
  return digestHash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
}

/** Compares in constant time (a response guessed byte by byte learns nothing from timing). */
export function sameResponse(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * An Authorization value answering a challenge (a WWW- or Proxy-Authenticate
 * value) for `method` on `uri`; undefined when the challenge is not one we
 * can answer (not Digest, an unknown algorithm, a qop without `auth`).
 */
export function answerChallenge(challenge: string, method: string, uri: string, user: string, password: string, cnonce: string): string | undefined {
  const p = parseDigestHeader(challenge);
  if (p === undefined || p.get('realm') === undefined || p.get('nonce') === undefined) return undefined;
  const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase() as DigestAlgorithm;
  if (!DIGEST_ALGORITHMS.includes(algorithm)) return undefined;
  const qops = p.get('qop')?.split(',').map((s) => s.trim());
  if (qops !== undefined && !qops.includes('auth')) return undefined;
  const c = { username: user, realm: p.get('realm')!, nonce: p.get('nonce')!, uri, algorithm, qop: qops ? 'auth' : undefined, nc: '00000001', cnonce };
  const response = digestResponse(c, method, password);
  let out = `Digest username=${q(user)}, realm=${q(c.realm)}, nonce=${q(c.nonce)}, uri=${q(uri)}, response=${q(response)}, algorithm=${algorithm}`;
  if (c.qop !== undefined) out += `, qop=auth, nc=${c.nc}, cnonce=${q(cnonce)}`;
  const opaque = p.get('opaque');
  if (opaque !== undefined) out += `, opaque=${q(opaque)}`;
  return out;
}
