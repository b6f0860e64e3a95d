import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/**
 * Token checks for the HTTP routes. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths (timingSafeEqual needs
 * equal lengths, and comparing lengths first would leak the token's).
 * Header values reach node:http as latin1, one character per byte; the
 * bytes are what the client sent, so a token with non-ASCII characters is
 * compared as its UTF-8 bytes.
 */

/** How a 401 asks for credentials: `Basic` makes a browser prompt (the dashboard), `Bearer` suits API clients. */
export type Challenge = 'Bearer' | 'Basic';

const REALM = 'switchboard';
const CHALLENGES: Readonly<Record<Challenge, string>> = {
  Bearer: `Bearer realm="${REALM}"`,
  Basic: `Basic realm="${REALM}", charset="UTF-8"`,
};

const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();
const tokenDigest = (token: string): Buffer => digest(Buffer.from(token, 'utf8'));

function unauthorized(message: string, challenge: Challenge): HttpError {
  return new HttpError(401, 'unauthorized', message, { headers: { 'WWW-Authenticate': CHALLENGES[challenge] }, badInput: true });
}

function bearerSecret(header: string): Buffer | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? undefined : Buffer.from(m[1]!, 'latin1');
}

/** RFC 7617: base64 of `user:password`; the token is the password, the user name anything. */
function basicSecret(header: string): Buffer | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (m === null) return undefined;
  const credentials = Buffer.from(m[1]!, 'base64');
  const colon = credentials.indexOf(0x3a);
  return colon < 0 ? undefined : credentials.subarray(colon + 1);
}

/** Every expected digest is compared, whichever matches, so the time says nothing about which token it was. */
function matchesAny(secret: Buffer, expected: readonly Buffer[]): boolean {
  const given = digest(secret);
  let hit = false;
  for (const e of expected) hit = timingSafeEqual(given, e) || hit;
  return hit;
}

/** The control API (`/v1/*`): `Authorization: Bearer <control token>`. */
export function bearerCheck(token: string): (req: IncomingMessage) => void {
  const expected = [tokenDigest(token)];
  return (req) => {
    const header = req.headers.authorization;
    const secret = header === undefined ? undefined : bearerSecret(header);
    if (secret === undefined) {
      throw unauthorized(
        header === undefined
          ? 'this route needs "Authorization: Bearer <token>"'
          : 'Authorization header is not of the form "Bearer <token>"',
        'Bearer',
      );
    }
    if (!matchesAny(secret, expected)) {
      throw new HttpError(403, 'forbidden', 'the bearer token is not the control token', { badInput: true });
    }
  };
}

/**
 * The read routes (status, metrics, dashboard): the status token or the
 * control token, as `Bearer <token>` or as the password of Basic
 * credentials (what a browser sends after its prompt, and then again with
 * the dashboard's own requests to /status).
 */
export function readCheck(tokens: readonly string[]): (req: IncomingMessage, challenge: Challenge) => void {
  const expected = tokens.map(tokenDigest);
  return (req, challenge) => {
    const header = req.headers.authorization;
    const secret = header === undefined ? undefined : (bearerSecret(header) ?? basicSecret(header));
    if (secret === undefined) {
      throw unauthorized(
        header === undefined
          ? 'this route needs a token: "Authorization: Bearer <token>", or Basic credentials with the token as the password'
          : 'Authorization header is neither "Bearer <token>" nor Basic credentials "user:token"',
        challenge,
      );
    }
    if (!matchesAny(secret, expected)) {
      throw new HttpError(403, 'forbidden', 'the token is neither the status token nor the control token', { badInput: true });
    }
  };
}
