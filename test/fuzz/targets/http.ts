import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { bearerCheck, readCheck } from '../../../src/server/auth.ts';
import { CallRequestSchema, DtmfRequestSchema, EXPECTED, callRoutes } from '../../../src/server/calls.ts';
import { drainRoutes } from '../../../src/server/drain.ts';
import { HttpError } from '../../../src/server/errors.ts';
import { healthRoutes } from '../../../src/server/health.ts';
import { Router } from '../../../src/server/router.ts';
import { validateBody } from '../../../src/server/validate.ts';
import { parseJson } from '../../../src/wire/jsonSyntax.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedText } from '../mutations.ts';

/**
 * The control API's request handling short of the socket: the body's JSON
 * (with the position of the first syntax error), the body's schema, the
 * path, and the Authorization header. Each either accepts or throws the
 * HttpError that becomes a 4xx; any other throw would be a 500.
 */

const BODIES = [
  '{"transport":"rtp","remote":"127.0.0.1:4000","codec":"PCMU","agent":"echo","record":true}',
  '{"transport":"synthetic","conference":"c1"}',
  '{"transport":"rtp","remote":"[::1]:5004","codec":"opus"}',
  '{"transport":"rtp","remote":"latch","codec":"G722"}',
  '{"digits":"123#"}',
  '[1,2,{"a":[null,true,false,-1.5e3,"\\u00e9"]}]',
];

/** A 4xx from the HTTP layer, the only way a request handler may refuse. */
function refusal(err: unknown, statuses: readonly number[]): string | undefined {
  if (err instanceof HttpError && statuses.includes(err.status) && err.message.length > 0) return undefined;
  throw err;
}

export const jsonBodyTarget = fuzzTarget({
  name: 'json-body',
  entry: 'parseJson, findSyntaxError (src/wire/jsonSyntax.ts): request bodies and config files',
  inputs: fc.oneof(mutatedText(BODIES), fc.json({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 200 })),
  ciRuns: 2000,
  check(text) {
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    const r = parseJson(text);
    if (r.ok !== valid) return `parseJson says ${r.ok ? 'valid' : 'invalid'}, JSON.parse disagrees`;
    if (!r.ok && (r.position < 0 || r.position > text.length || r.line < 1 || r.column < 1)) return `syntax error outside the text ${JSON.stringify(r)}`;
    return undefined;
  },
});

const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('rtp', 'synthetic', 'PCMU', 'opus', 'latch', '127.0.0.1:0', 'h:65536', '[::1]:1', '0#*A'));
const callBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    { transport: field, remote: field, codec: field, agent: field, record: field, conference: field, digits: field, extra: field },
    { requiredKeys: [] },
  ),
  mutatedText(BODIES).map((t) => {
    const r = parseJson(t);
    return r.ok ? r.value : t;
  }),
);

export const callsBodyTarget = fuzzTarget({
  name: 'calls-body',
  entry: 'POST /v1/calls and /v1/calls/:id/dtmf bodies: validateBody with their schemas (src/server/calls.ts)',
  inputs: callBody,
  ciRuns: 1500,
  check(body) {
    for (const [schema, expected] of [[CallRequestSchema, EXPECTED], [DtmfRequestSchema, { digits: '1–32 keys' }]] as const) {
      try {
        const ok = validateBody(schema, body, expected) as Record<string, unknown>;
        if (typeof ok !== 'object' || ok === null) return 'validateBody accepted a body that is not an object';
      } catch (err) {
        refusal(err, [422]);
      }
    }
    return undefined;
  },
});

const router = new Router([...callRoutes, ...drainRoutes, ...healthRoutes]);
const PATHS = ['/v1/calls', '/v1/calls/abc', '/v1/calls/a%20b/dtmf', '/v1/drain', '/healthz', '/readyz', '/v1/calls/%E2%82%AC/tool-output'];

export const pathTarget = fuzzTarget({
  name: 'http-path',
  entry: 'Router.match (src/server/router.ts): method and path of every request',
  inputs: fc.tuple(fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD', 'PUT', 'get', ''), fc.oneof(mutatedText(PATHS), fc.webPath(), fc.string({ unit: 'binary' }))),
  ciRuns: 2000,
  check([method, path]) {
    try {
      const m = router.match(method, path);
      if (m.kind === 'found' && !Object.values(m.params).every((v) => typeof v === 'string')) return 'a path parameter is not a string';
    } catch (err) {
      return refusal(err, [400]);
    }
    return undefined;
  },
});

const CONTROL = 'control-tøken-0123';
const STATUS = 'status token';
const bearer = bearerCheck(CONTROL);
const read = readCheck([STATUS, CONTROL]);
const HEADERS = [`Bearer ${CONTROL}`, `Basic ${Buffer.from(`u:${STATUS}`).toString('base64')}`, 'Bearer x', 'Basic dTp4'];
const request = (authorization: string | undefined): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

/** Whether a header carries `token` as node:http would hand it over (latin1 bytes of the UTF-8). */
const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export const authTarget = fuzzTarget({
  name: 'auth-header',
  entry: 'bearerCheck, readCheck (src/server/auth.ts): the Authorization header',
  inputs: fc.option(fc.oneof(mutatedText(HEADERS).map(latin1), fc.string({ unit: 'binary' }).map(latin1)), { nil: undefined }),
  ciRuns: 2000,
  check(header) {
    const req = request(header);
    for (const [check, tokens] of [[() => bearer(req), [CONTROL]], [() => read(req, 'Bearer'), [STATUS, CONTROL]]] as const) {
      try {
        check();
      } catch (err) {
        refusal(err, [401, 403]);
        continue;
      }
      // Accepted: the header must carry one of the tokens.
      const text = Buffer.from(header ?? '', 'latin1');
      const basic = /^Basic\s+(\S+)/i.exec(header ?? '');
      const decoded = basic === null ? Buffer.alloc(0) : Buffer.from(basic[1]!, 'base64');
      if (!tokens.some((t) => text.includes(Buffer.from(t)) || decoded.includes(Buffer.from(t)))) return `accepted a header without a token: ${JSON.stringify(header)}`;
    }
    return undefined;
  },
});
