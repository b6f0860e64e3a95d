import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Recorder } from '../recording/Recorder.ts';
import { CONTENT_TYPES, RECORDING_FORMATS, RECORDING_ID, type RecordingFormat, type RecordingInfo } from '../recording/RecordingInfo.ts';
import type { Runtime } from '../supervisor/Runtime.ts';
import { parseByteRange } from '../wire/httpRange.ts';
import { quote } from '../wire/text.ts';
import { HttpError } from './errors.ts';
import type { RequestContext, Route } from './router.ts';

/**
 * `GET /v1/recordings`, `GET /v1/recordings/:id`, `GET /v1/recordings/:id/audio`
 * (`?format=wav|opus|mp3`, HTTP Range) and `DELETE /v1/recordings/:id`.
 * An id is looked up among the recorder's own; it never becomes part of a
 * path (RecordingStore), so a `../` id is just a 400.
 */
export const recordingRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/recordings',
    handler: ({ runtime }) => ({ status: 200, json: { recordings: recorderOf(runtime).store.list() } }),
  },
  {
    method: 'GET',
    path: '/v1/recordings/:id',
    handler: ({ runtime, params }) => ({ status: 200, json: recordingOf(recorderOf(runtime), params.id!) }),
  },
  {
    method: 'GET',
    path: '/v1/recordings/:id/audio',
    handler: async (ctx) => {
      const rec = recorderOf(ctx.runtime);
      const info = recordingOf(rec, ctx.params.id!);
      const format = formatOf(ctx.url.searchParams.get('format'));
      await sendAudio(ctx, rec, info, format);
      return { status: 200, taken: true };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/recordings/:id',
    handler: async ({ runtime, params }) => {
      const rec = recorderOf(runtime);
      checkId(params.id!);
      if (!(await rec.delete(params.id!))) throw noSuchRecording(params.id!);
      return { status: 204 };
    },
  },
];

/**
 * An ended call as GET /v1/calls/:id shows it when it was recorded: its
 * recording with the post-call report (a live call is the registry's).
 */
export function endedCallView(runtime: Runtime, callId: string): Record<string, unknown> | undefined {
  const r = runtime.recordings?.store.byCall(callId);
  if (r === undefined) return undefined;
  return { id: callId, transport: r.transport, state: 'ended', createdAt: r.startedAt, endedAt: r.endedAt, recording: r, report: r.report };
}

function recorderOf(runtime: Runtime): Recorder {
  const r = runtime.recordings;
  if (r === undefined) throw new HttpError(501, 'recording_disabled', 'this daemon does not record (no recording configuration)');
  return r;
}

function checkId(id: string): void {
  if (!RECORDING_ID.test(id)) {
    throw new HttpError(400, 'bad_recording_id', `not a recording id: ${quote(id.slice(0, 80))} (recording ids are UUIDs the daemon made)`, { badInput: true });
  }
}

function recordingOf(rec: Recorder, id: string): RecordingInfo {
  checkId(id);
  const info = rec.store.get(id);
  if (info === undefined) throw noSuchRecording(id);
  return info;
}

function noSuchRecording(id: string): HttpError {
  return new HttpError(404, 'recording_not_found', `no recording with id "${id}"`);
}

function formatOf(asked: string | null): RecordingFormat {
  if (asked === null) return 'wav';
  if ((RECORDING_FORMATS as readonly string[]).includes(asked)) return asked as RecordingFormat;
  throw new HttpError(400, 'bad_format', `format: expected one of ${RECORDING_FORMATS.join(', ')}, got ${quote(asked.slice(0, 40))}`, { badInput: true });
}

/** The file, whole or the one range asked (RFC 9110 §14), streamed from disk. */
async function sendAudio({ req, res }: RequestContext, rec: Recorder, info: RecordingInfo, format: RecordingFormat): Promise<void> {
  let file;
  try {
    file = await open(rec.store.path(info.id, format), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const why = format === 'wav' ? 'its file is gone' : `no ${format} copy (yet): see the recording's jobs`;
    throw new HttpError(404, 'recording_audio_not_found', `recording ${info.id}: ${why}`);
  }
  try {
    const size = (await file.stat()).size;
    const range = parseByteRange(req.headers.range, size);
    if (range.kind === 'invalid' || range.kind === 'unsatisfiable') {
      const [code, why] = range.kind === 'invalid' ? ['bad_range', `Range not served: ${range.reason}`] : ['range_not_satisfiable', `no byte of the file is in the range (it has ${size} bytes)`];
      throw new HttpError(416, code, why, { headers: { 'Content-Range': `bytes */${size}` }, badInput: true });
    }
    head(res, info, format);
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end : size - 1;
    res.statusCode = range.kind === 'range' ? 206 : 200;
    if (range.kind === 'range') res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    res.setHeader('Content-Length', Math.max(0, end - start + 1));
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await pipeline(file.createReadStream({ start, end, autoClose: false }), res);
  } finally {
    await file.close();
  }
}

function head(res: ServerResponse, info: RecordingInfo, format: RecordingFormat): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', CONTENT_TYPES[format]);
  res.setHeader('Content-Disposition', `attachment; filename="${info.id}.${format}"`);
}
