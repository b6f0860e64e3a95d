/**
 * `X-Twilio-Signature` checks for the two requests Twilio makes: the voice
 * webhook (a form POST, signed over the URL plus the sorted form fields) and
 * the Media Streams WebSocket upgrade (a GET, signed over the URL alone).
 *
 * Validation is the `twilio` package's `validateRequest` (HMAC-SHA1 keyed
 * with the auth token, compared in constant time); these wrappers only make
 * it total: a missing header, an unparsable URL or a throwing library call
 * is a plain `false`, so a request handler can answer 403 without a try.
 * The URL must be the public one Twilio requested (as configured behind a
 * proxy), not the Host the request arrived with.
 * @see https://www.twilio.com/docs/usage/security#validating-requests
 */
import twilio from 'twilio';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

export type HeaderValue = string | string[] | undefined;

/** The single signature value, or undefined when absent or repeated. */
function single(header: HeaderValue): string | undefined {
  if (Array.isArray(header)) return header.length === 1 ? header[0] : undefined;
  return header === undefined || header === '' ? undefined : header;
}

/** Checks a webhook POST: `params` are the decoded `application/x-www-form-urlencoded` fields. */
export function validateWebhookSignature(
  authToken: string,
  header: HeaderValue,
  url: string,
  params: Readonly<Record<string, string>>,
): boolean {
  const signature = single(header);
  if (signature === undefined || authToken === '') return false;
  try {
    return twilio.validateRequest(authToken, signature, url, { ...params });
  } catch {
    // An unparsable URL: nothing Twilio could have signed.
    return false;
  }
}

/** Checks a Media Streams WebSocket upgrade: a GET without parameters, signed over its wss URL. */
export function validateUpgradeSignature(authToken: string, header: HeaderValue, url: string): boolean {
  return validateWebhookSignature(authToken, header, url, {});
}

/** The signature Twilio would send: for test peers and the outbound-call tooling. */
export function twilioSignatureFor(authToken: string, url: string, params: Readonly<Record<string, string>> = {}): string {
  return twilio.getExpectedTwilioSignature(authToken, url, { ...params });
}

/** Decodes a form body into the flat record the signature is computed over (last value wins). */
export function formParams(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}
