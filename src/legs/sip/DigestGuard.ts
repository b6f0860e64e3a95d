import { createHmac, randomBytes } from 'node:crypto';
import { headerLines, type SipRequest } from '../../wire/sipMessage.ts';
import { DIGEST_ALGORITHMS, digestResponse, readCredentials, sameResponse } from '../../wire/sipDigest.ts';

/** A nonce is good this long after it was issued (a retransmitted INVITE reuses its credentials). */
const NONCE_LIFETIME_MS = 300_000;

/**
 * Digest authentication of INVITEs (RFC 3261 §22.4, RFC 8760): a request
 * without valid credentials gets 401 with one challenge per algorithm,
 * SHA-256 first (RFC 8760 §2.4: the UAC takes the first it supports). Nonces
 * are stateless: the issue time and its HMAC under a per-process secret, so
 * a flood of challenges stores nothing.
 */
export class DigestGuard {
  readonly #secret = randomBytes(32);
  readonly #now: () => number;

  constructor(
    readonly realm: string,
    private readonly users: Readonly<Record<string, string>>,
    now: () => number = Date.now,
  ) {
    this.#now = now;
  }

  /** Undefined when the request carries valid credentials; else the 401's WWW-Authenticate headers. */
  check(req: SipRequest): Array<[string, string]> | undefined {
    let stale = false;
    for (const value of headerLines(req.headers, 'authorization')) {
      const c = readCredentials(value);
      if (c === undefined || c.realm !== this.realm) continue;
      const password = this.users[c.username];
      if (password === undefined) continue;
      if (!this.#nonceValid(c.nonce)) {
        stale = true;
        continue;
      }
      if (c.qop !== undefined && (c.qop !== 'auth' || c.nc === undefined || c.cnonce === undefined)) continue;
      if (sameResponse(digestResponse(c, req.method, password), c.response)) return undefined;
    }
    const nonce = this.#nonce();
    return DIGEST_ALGORITHMS.map((alg) => ['www-authenticate', `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${alg}, qop="auth"${stale ? ', stale=true' : ''}`]);
  }

  #nonce(): string {
    const t = this.#now().toString(36);
    return `${t}.${createHmac('sha256', this.#secret).update(t).digest('base64url').slice(0, 22)}`;
  }

  #nonceValid(nonce: string): boolean {
    const [t, mac] = nonce.split('.');
    if (t === undefined || mac === undefined) return false;
    const expect = createHmac('sha256', this.#secret).update(t).digest('base64url').slice(0, 22);
    if (!sameResponse(expect, mac)) return false;
    const age = this.#now() - parseInt(t, 36);
    return age >= 0 && age <= NONCE_LIFETIME_MS;
  }
}
