import { DTMF_DIGITS } from '../wire/dtmf.ts';
import { z } from 'zod';
import type { CallRequest } from '../supervisor/Runtime.ts';
import { readJsonBody } from './body.ts';
import { HttpError } from './errors.ts';
import type { Route } from './router.ts';
import { validateBody } from './validate.ts';
import { endedCallView } from './recordings.ts';

export const CODECS = ['PCMU', 'PCMA', 'G722', 'opus'] as const;

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * The fields this layer knows (DESIGN.md, `POST /v1/calls`). Other fields
 * pass through to the call's transport, which checks its own (e.g. the
 * synthetic transport's `rateHz`).
 */
export const CallRequestSchema = z
  .looseObject({
    transport: z.string().min(1),
    // "latch": the peer's address is unknown; the leg takes the first source and keeps it.
    remote: z
      .string()
      .refine((s) => {
        if (s === 'latch') return true;
        const port = Number(HOST_PORT.exec(s)?.[1]);
        return port >= 1 && port <= 65535;
      })
      .optional(),
    codec: z.enum(CODECS).optional(),
    agent: z.string().min(1).optional(),
    record: z.boolean().optional(),
    conference: z.string().min(1).optional(),
  })
  .superRefine((req, ctx) => {
    if (req.transport !== 'rtp') return;
    // An RTP leg sends to the peer from the first frame, so it must know where and how.
    for (const field of ['remote', 'codec'] as const) {
      if (req[field] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `required for transport "rtp" (${EXPECTED[field]})`,
          params: { explained: true },
        });
      }
    }
  });

export const EXPECTED: Readonly<Record<string, string>> = {
  transport: 'a non-empty string such as "rtp" or "synthetic"',
  remote: '"host:port" with a port 1–65535, or "latch"',
  codec: `one of ${CODECS.join(', ')}`,
  agent: 'an agent name such as "echo"',
  record: 'true or false',
  conference: 'a conference id',
};

export const DtmfRequestSchema = z.strictObject({ digits: z.string().regex(DTMF_DIGITS) });
const ToolOutputSchema = z.strictObject({ callId: z.string().min(1).max(200), output: z.string() });

export const callRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/calls',
    handler: async ({ req, runtime, config }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const call: CallRequest = validateBody(CallRequestSchema, body, EXPECTED);
      const info = await runtime.createCall(call);
      return { status: 201, json: info, headers: { Location: `/v1/calls/${encodeURIComponent(info.id)}` } };
    },
  },
  {
    method: 'GET',
    path: '/v1/calls',
    handler: ({ runtime }) => ({ status: 200, json: { calls: runtime.listCalls() } }),
  },
  {
    method: 'GET',
    path: '/v1/calls/:id',
    handler: ({ runtime, params }) => {
      // An ended call that was recorded shows its recording and post-call report.
      const info = runtime.getCall(params.id!) ?? endedCallView(runtime, params.id!);
      if (info === undefined) throw noSuchCall(params.id!);
      return { status: 200, json: info };
    },
  },
  {
    // Not in the original route table: DTMF towards the caller, `{ "digits": "123#" }`.
    method: 'POST',
    path: '/v1/calls/:id/dtmf',
    handler: async ({ req, runtime, config, params }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const { digits } = validateBody(DtmfRequestSchema, body, { digits: '1–32 of 0-9 * # A-D' });
      if (!(await runtime.sendDtmf(params.id!, digits))) throw noSuchCall(params.id!);
      return { status: 202, json: { id: params.id, digits } };
    },
  },
  {
    // Not in the original route table: answers the agent's tool call (a `tool.call` event on the call).
    method: 'POST',
    path: '/v1/calls/:id/tool-output',
    handler: async ({ req, runtime, config, params }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const { callId, output } = validateBody(ToolOutputSchema, body, { callId: "the tool call's callId from its event", output: 'a string' });
      if (!(await runtime.sendToolOutput(params.id!, callId, output))) throw noSuchCall(params.id!);
      return { status: 202, json: { id: params.id, callId } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/calls/:id',
    handler: async ({ runtime, params }) => {
      if (!(await runtime.deleteCall(params.id!))) throw noSuchCall(params.id!);
      return { status: 204 };
    },
  },
];

function noSuchCall(id: string): HttpError {
  return new HttpError(404, 'call_not_found', `no call with id "${id}"`);
}
