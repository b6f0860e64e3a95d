import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

/**
 * Bearer-token check for the control API. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths (timingSafeEqual needs
 * equal lengths, and comparing lengths first would leak the token's).
 */
export function bearerCheck(token: string): (req: IncomingMessage) => void {
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null) {
      throw new HttpError(
        401,
        'unauthorized',
        header === undefined
          ? 'this route needs "Authorization: Bearer <token>"'
          : 'Authorization header is not of the form "Bearer <token>"',
        { headers: { 'WWW-Authenticate': 'Bearer realm="switchboard"' }, badInput: true },
      );
    }
    const given = createHash('sha256').update(m[1]!).digest();
    if (!timingSafeEqual(given, expected)) {
      throw new HttpError(403, 'forbidden', 'the bearer token is not the control token', { badInput: true });
    }
  };
}
