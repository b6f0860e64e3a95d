import { z } from 'zod';
import { SUPPORTED_RATES_HZ } from '../dsp/resampler.ts';
import { MIXER_MAX_GAIN } from '../dsp/mixer.ts';
import { quote } from '../wire/text.ts';
import { readJsonBody } from './body.ts';
import { HttpError } from './errors.ts';
import type { Route } from './router.ts';
import { validateBody } from './validate.ts';

const RATES = SUPPORTED_RATES_HZ as readonly number[];

const DuckingSchema = z.union([
  z.boolean(),
  z.strictObject({
    depthDb: z.number().min(0).max(40).optional(),
    attackMs: z.number().min(0).max(5000).optional(),
    releaseMs: z.number().min(0).max(10_000).optional(),
  }),
]);

const ConferenceRequestSchema = z.strictObject({
  rateHz: z.number().refine((r) => RATES.includes(r)).optional(),
  ducking: DuckingSchema.optional(),
  record: z.boolean().optional(),
});

const gain = z.number().min(0).max(MIXER_MAX_GAIN);
const MemberRequestSchema = z.strictObject({ call: z.string().min(1).max(200), gain: gain.optional(), muted: z.boolean().optional() });
const MemberPatchSchema = z
  .strictObject({ gain: gain.optional(), muted: z.boolean().optional() })
  .refine((p) => p.gain !== undefined || p.muted !== undefined, { message: 'give gain, muted or both', params: { explained: true } });

const EXPECTED: Readonly<Record<string, string>> = {
  rateHz: `one of ${RATES.join(', ')}`,
  ducking: 'true, false or { depthDb 0–40, attackMs 0–5000, releaseMs 0–10000 }',
  'ducking.depthDb': 'a number 0–40',
  'ducking.attackMs': 'a number 0–5000',
  'ducking.releaseMs': 'a number 0–10000',
  record: 'true or false',
  call: 'the id of a live call',
  gain: `a linear gain 0–${MIXER_MAX_GAIN} (1: unchanged)`,
  muted: 'true or false',
};

/**
 * Conferences (DESIGN.md, mixing): `POST /v1/conferences` makes one (a mixer
 * actor), calls join as members and leave; `GET` shows each member's level
 * and talk state. A conference's mix is N−1: every member hears everyone but
 * itself.
 */
export const conferenceRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/conferences',
    handler: async ({ req, runtime, config }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: false });
      const request = validateBody(ConferenceRequestSchema, body ?? {}, EXPECTED);
      const info = await runtime.conferences.create(request);
      return { status: 201, json: info, headers: { Location: `/v1/conferences/${encodeURIComponent(info.id)}` } };
    },
  },
  {
    method: 'GET',
    path: '/v1/conferences',
    handler: ({ runtime }) => ({ status: 200, json: { conferences: runtime.conferences.list() } }),
  },
  {
    method: 'GET',
    path: '/v1/conferences/:id',
    handler: ({ runtime, params }) => {
      const info = runtime.conferences.get(params.id!);
      if (info === undefined) throw noSuchConference(params.id!);
      return { status: 200, json: info };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/conferences/:id',
    handler: async ({ runtime, params }) => {
      if (!(await runtime.conferences.delete(params.id!))) throw noSuchConference(params.id!);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/v1/conferences/:id/members',
    handler: async ({ req, runtime, config, params }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const member = validateBody(MemberRequestSchema, body, EXPECTED);
      const info = await runtime.conferences.addMember(params.id!, member);
      const location = `/v1/conferences/${encodeURIComponent(params.id!)}/members/${encodeURIComponent(info.call)}`;
      return { status: 201, json: info, headers: { Location: location } };
    },
  },
  {
    method: 'PATCH',
    path: '/v1/conferences/:id/members/:call',
    handler: async ({ req, runtime, config, params }) => {
      const body = await readJsonBody(req, config.http.bodyLimitBytes, { required: true });
      const patch = validateBody(MemberPatchSchema, body, EXPECTED);
      return { status: 200, json: await runtime.conferences.updateMember(params.id!, params.call!, patch) };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/conferences/:id/members/:call',
    handler: async ({ runtime, params }) => {
      if (!(await runtime.conferences.removeMember(params.id!, params.call!))) {
        throw new HttpError(404, 'member_not_found', `call ${quote(params.call!)} is not a member of conference ${quote(params.id!)}`);
      }
      return { status: 204 };
    },
  },
];

function noSuchConference(id: string): HttpError {
  return new HttpError(404, 'conference_not_found', `no conference with id ${quote(id)}`);
}
