import type { Logger } from 'pino';
import { answerChallenge } from '../../wire/sipDigest.ts';
import { header, type SipResponse } from '../../wire/sipMessage.ts';
import { headerValues, parseNameAddr, type SipUri } from '../../wire/sipHeaders.ts';
import { token } from './sipBuild.ts';
import type { SipCore } from './SipDialog.ts';
import type { SipPeer } from './SipSockets.ts';

export interface RegistrationOptions {
  /** The registrar, resolved (`sip.register.registrar`). */
  registrar: SipUri;
  peer: SipPeer;
  /** The address-of-record's user (`sip:<user>@registrar-host`), also our Contact's user. */
  user: string;
  expiresS: number;
  /** `sip.trunk`: answers the registrar's challenge. */
  credentials: { username: string; password: string } | undefined;
  log: Logger;
}

/** A failed or unanswered registration is tried again after this. */
const RETRY_MS = 30_000;
/** A refresh goes out this long before the binding would lapse, at the latest halfway through it. */
const REFRESH_LEAD_MS = 30_000;

/**
 * Our binding at a registrar (RFC 3261 §10.2): REGISTER with our Contact and
 * Expires, one Call-ID for the life of the binding and a CSeq that grows by
 * one per request (§10.2.4); a 401/407 is answered once per challenge with
 * the trunk's credentials (§22.2); the binding is refreshed before the
 * expiry the registrar granted (the Contact's `expires`, else Expires:
 * §10.2.4), failures retried, and removed with Expires 0 on stop (§10.2.2).
 */
export class Registration {
  state: 'idle' | 'registering' | 'registered' | 'failed' = 'idle';
  /** The expiry the registrar granted last, in seconds. */
  grantedS = 0;
  readonly #opts: RegistrationOptions;
  readonly #core: SipCore;
  readonly #callId = `${token(12)}@switchboard`;
  readonly #tag = token();
  #cseq = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(core: SipCore, opts: RegistrationOptions) {
    this.#core = core;
    this.#opts = opts;
  }

  start(): void {
    this.#register(this.#opts.expiresS, undefined);
  }

  /** Removes the binding (best effort: the sockets close right after). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.state === 'registered') this.#send(0, undefined, () => undefined);
  }

  #aor(): string {
    const r = this.#opts.registrar;
    return `<sip:${this.#opts.user}@${r.host}>`;
  }

  #send(expiresS: number, auth: [string, string] | undefined, onResponse: (res: SipResponse | 'timeout') => void): void {
    const local = this.#core.local(this.#opts.peer.proto);
    const host = local.address.includes(':') ? `[${local.address}]` : local.address;
    const r = this.#opts.registrar;
    this.#core.request(
      this.#opts.peer,
      {
        method: 'REGISTER',
        uri: `sip:${r.host}${r.port !== undefined ? `:${r.port}` : ''}`,
        from: `${this.#aor()};tag=${this.#tag}`,
        to: this.#aor(),
        callId: this.#callId,
        cseq: ++this.#cseq,
        headers: [['contact', `<sip:${this.#opts.user}@${host}:${local.port}>`], ['expires', String(expiresS)], ...(auth !== undefined ? [auth] : [])],
      },
      onResponse,
    );
  }

  #register(expiresS: number, auth: [string, string] | undefined): void {
    if (this.#stopped) return;
    this.state = 'registering';
    this.#send(expiresS, auth, (res) => this.#onResponse(res, expiresS, auth !== undefined));
  }

  #onResponse(res: SipResponse | 'timeout', expiresS: number, authTried: boolean): void {
    if (this.#stopped) return;
    if (res === 'timeout' || res.status < 200) {
      if (res === 'timeout') this.#retry('no response (timer F)');
      return;
    }
    if ((res.status === 401 || res.status === 407) && !authTried && this.#opts.credentials !== undefined) {
      const challenge = header(res.headers, res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
      const r = this.#opts.registrar;
      const value = challenge === undefined ? undefined : answerChallenge(challenge, 'REGISTER', `sip:${r.host}${r.port !== undefined ? `:${r.port}` : ''}`, this.#opts.credentials.username, this.#opts.credentials.password, token());
      if (value !== undefined) {
        this.#register(expiresS, [res.status === 401 ? 'authorization' : 'proxy-authorization', value]);
        return;
      }
    }
    if (res.status >= 300) {
      this.#retry(`${res.status} ${res.reason}`);
      return;
    }
    this.grantedS = grantedExpiry(res, expiresS);
    this.state = 'registered';
    const refreshMs = Math.max(1000 * this.grantedS - REFRESH_LEAD_MS, (1000 * this.grantedS) / 2);
    this.#opts.log.info({ registrar: this.#opts.peer.address, user: this.#opts.user, expiresS: this.grantedS }, 'SIP registered');
    this.#timer = setTimeout(() => this.#register(this.#opts.expiresS, undefined), refreshMs);
    this.#timer.unref();
  }

  #retry(why: string): void {
    this.state = 'failed';
    this.#opts.log.warn({ registrar: this.#opts.peer.address, user: this.#opts.user, why }, 'SIP registration failed; retrying');
    this.#timer = setTimeout(() => this.#register(this.#opts.expiresS, undefined), RETRY_MS);
    this.#timer.unref();
  }
}

/** What the registrar granted (§10.2.4): our Contact's `expires` in the 200, else its Expires, else what we asked. */
function grantedExpiry(res: SipResponse, askedS: number): number {
  for (const c of headerValues(res.headers, 'contact')) {
    const e = parseNameAddr(c)?.params.get('expires');
    if (e !== undefined && /^\d{1,10}$/.test(e)) return Number(e);
  }
  const e = header(res.headers, 'expires');
  return e !== undefined && /^\d{1,10}$/.test(e) ? Number(e) : askedS;
}
