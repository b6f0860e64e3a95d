/**
 * The `twilio` package's REST client, optionally aimed at another host than
 * api.twilio.com (a stand-in of the REST API in tests, a recording proxy).
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

export interface TwilioRestClientOptions {
  accountSid: string;
  authToken: string;
  /** `https://host[:port][/prefix]` to send the requests to instead of Twilio's own hosts. */
  apiBase?: URL;
}

/**
 * twilio-node has no base-URL option: each domain's URL is fixed
 * (`https://api.twilio.com`), and `edge`/`region`/TWILIO_EDGE only choose among
 * Twilio's hostnames. Its documented way to reach another host is a custom
 * `httpClient` (twilio-node advanced-examples/custom-http-client.md; the
 * maintainers' answer in twilio/twilio-node#326). This one IS the library's
 * RequestClient — the same axios instance, https agent (TWILIO_CA_BUNDLE,
 * `ca`), auth header, form encoding and response handling — and only swaps the
 * origin of each request URL, so the other host receives exactly what Twilio
 * would.
 */
class RebasedRequestClient extends twilio.RequestClient {
  readonly #base: URL;

  constructor(base: URL) {
    super();
    this.#base = base;
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: rebase(opts.uri, this.#base) });
  }
}

/** `https://api.twilio.com/2010-04-01/…?q` on `base` → `<base origin><base path>/2010-04-01/…?q`. */
export function rebase(uri: string, base: URL): string {
  const u = new URL(uri);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

/** A REST client; throws the package's Error when the account SID does not start with AC. */
export function createTwilioRestClient({ accountSid, authToken, apiBase }: TwilioRestClientOptions): twilio.Twilio {
  return twilio(accountSid, authToken, apiBase === undefined ? {} : { httpClient: new RebasedRequestClient(apiBase) });
}
