import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';
import { parseJson } from '../wire/jsonSyntax.ts';

/**
 * Reads a request's JSON body within a byte limit. A body announced larger
 * than the limit is refused before a byte of it is read; one that turns out
 * larger (chunked) is refused as soon as it passes the limit, and the rest is
 * left unread: the connection is closed after the answer rather than
 * spending memory or time on what will be thrown away.
 */

/** `application/json`, or a structured `+json` type (RFC 6839 §3.1). */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

function checkContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  const [type = '', ...params] = (header ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (JSON_TYPE.test(type) && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return;
  const got = header === undefined ? 'no Content-Type' : `Content-Type "${header}"`;
  throw new HttpError(415, 'unsupported_media_type', `expected Content-Type: application/json (UTF-8), got ${got}`, {
    badInput: true,
    closeConnection: true,
  });
}

function tooLarge(limitBytes: number, what: string): HttpError {
  return new HttpError(413, 'payload_too_large', `request body ${what}; the limit is ${limitBytes} bytes`, {
    badInput: true,
    closeConnection: true,
  });
}

function readLimited(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limitBytes) {
        done();
        req.pause();
        reject(tooLarge(limitBytes, `exceeds ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      done();
      reject(new HttpError(400, 'incomplete_body', `request body could not be read: ${err.message}`, { badInput: true }));
    };
    const onClose = (): void => {
      if (req.complete) return;
      done();
      reject(new HttpError(400, 'incomplete_body', 'the client closed the connection before the body ended', { badInput: true }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request's body parsed as JSON, or `undefined` when there is none and
 * none is required. Throws HttpError 400, 413 or 415, naming the problem.
 */
export async function readJsonBody(
  req: IncomingMessage,
  limitBytes: number,
  { required }: { required: boolean },
): Promise<unknown> {
  if (!hasBody(req)) {
    if (!required) return undefined;
    throw new HttpError(400, 'body_required', 'this request needs a JSON body (Content-Type: application/json)', {
      badInput: true,
    });
  }
  checkContentType(req);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    throw tooLarge(limitBytes, `is ${declared} bytes`);
  }
  const bytes = await readLimited(req, limitBytes);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new HttpError(400, 'bad_encoding', 'request body is not valid UTF-8', { badInput: true });
  }
  if (text.trim() === '') {
    if (!required) return undefined;
    throw new HttpError(400, 'body_required', 'request body is empty; expected a JSON object', { badInput: true });
  }
  const parsed = parseJson(text);
  if (!parsed.ok) throw new HttpError(400, 'bad_json', `request body is not valid JSON: ${parsed.message}`, { badInput: true });
  return parsed.value;
}

/**
 * An `application/x-www-form-urlencoded` body (Twilio's webhooks) as its
 * fields, the last value of a repeated name winning (as Twilio's signature
 * is computed). Throws HttpError 413 or 415.
 */
export async function readFormBody(req: IncomingMessage, limitBytes: number): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (hasBody(req) && type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'unsupported_media_type', `expected Content-Type: application/x-www-form-urlencoded, got "${req.headers['content-type'] ?? ''}"`, {
      badInput: true,
      closeConnection: true,
    });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes, `is ${declared} bytes`);
  const bytes = hasBody(req) ? await readLimited(req, limitBytes) : Buffer.alloc(0);
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(bytes.toString('utf8'))) out[k] = v;
  return out;
}
