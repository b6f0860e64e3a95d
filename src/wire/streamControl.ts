/**
 * The raw audio stream's JSON control messages (DESIGN: "The raw audio
 * stream protocol"), shaped like Twilio's Media Streams events:
 *
 * | from   | message                                                                     |
 * |--------|-----------------------------------------------------------------------------|
 * | client | `{"event":"start","codec":"opus"|"pcmu"|"pcma"|"g722"|"l16","rateHz":N,`  |
 * |        | `"agent"?,"conference"?,"record"?,"custom"?}` — first, once                 |
 * | server | `{"event":"started","callId":"…"}`                                          |
 * | either | `{"event":"mark","name":"…"}` — echoed once the audio before it has played |
 * | server | `{"event":"clear"}` — barge-in: drop the audio not yet played               |
 * | either | `{"event":"stop"}` — the call is over                                       |
 *
 * Parsing returns a reason instead of throwing; every field is checked for
 * its type and bounds, so a message from a peer can never become an error
 * thrown past the session.
 */
import { codecClock, type JitterCodec } from '../dsp/PacketDecoder.ts';
import { quote } from './text.ts';

/** A control message longer than this is refused unparsed (a `start` with its `custom` fits many times over). */
export const STREAM_MAX_TEXT_CHARS = 16 * 1024;
/** Mark names longer than this are refused. */
export const STREAM_MAX_MARK_CHARS = 256;
/** `custom` as JSON at most this long (it is kept with the call). */
export const STREAM_MAX_CUSTOM_CHARS = 4096;

/** The codec names of `start`, and the engine's names for them. */
export const STREAM_CODECS = { opus: 'opus', pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722', l16: 'L16' } as const satisfies Record<string, JitterCodec>;
export type StreamCodecName = keyof typeof STREAM_CODECS;

export interface StreamStart {
  event: 'start';
  codec: StreamCodecName;
  rateHz: number;
  agent?: string;
  conference?: string;
  record?: boolean;
  custom?: Record<string, unknown>;
}
export interface StreamMark {
  event: 'mark';
  name: string;
}
export interface StreamStop {
  event: 'stop';
}
export type StreamInbound = StreamStart | StreamMark | StreamStop;

export type StreamControlResult = { ok: true; msg: StreamInbound } | { ok: false; reason: string; detail: string };

const fail = (reason: string, detail: string): StreamControlResult => ({ ok: false, reason, detail });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one text message from a client. */
export function parseStreamControl(text: string): StreamControlResult {
  if (text.length > STREAM_MAX_TEXT_CHARS) return fail('oversized', `a ${text.length}-character message (limit ${STREAM_MAX_TEXT_CHARS})`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return fail('bad-json', `not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(v)) return fail('not-an-object', `expected a JSON object, got ${quote(v)}`);
  switch (v['event']) {
    case 'start':
      return parseStart(v);
    case 'mark': {
      const name = v['name'];
      if (typeof name !== 'string' || name.length === 0 || name.length > STREAM_MAX_MARK_CHARS) {
        return fail('bad-mark', `mark.name: expected a string of 1–${STREAM_MAX_MARK_CHARS} characters, got ${quote(name)}`);
      }
      return { ok: true, msg: { event: 'mark', name } };
    }
    case 'stop':
      return { ok: true, msg: { event: 'stop' } };
    default:
      return fail('unknown-event', `event: expected start, mark or stop, got ${quote(v['event'])}`);
  }
}

function parseStart(v: Record<string, unknown>): StreamControlResult {
  const codec = v['codec'];
  if (typeof codec !== 'string' || !Object.hasOwn(STREAM_CODECS, codec)) {
    return fail('bad-start', `start.codec: expected one of ${Object.keys(STREAM_CODECS).join(', ')}, got ${quote(codec)}`);
  }
  const name = codec as StreamCodecName;
  const rateHz = v['rateHz'];
  if (typeof rateHz !== 'number' || !Number.isInteger(rateHz)) return fail('bad-start', `start.rateHz: expected an integer, got ${quote(rateHz)}`);
  try {
    codecClock(STREAM_CODECS[name], rateHz);
  } catch (err) {
    return fail('bad-start', `start.rateHz: ${(err as Error).message}`);
  }
  const msg: StreamStart = { event: 'start', codec: name, rateHz };
  for (const key of ['agent', 'conference'] as const) {
    const s = v[key];
    if (s === undefined) continue;
    if (typeof s !== 'string' || s.length === 0 || s.length > 64) return fail('bad-start', `start.${key}: expected a string of 1–64 characters, got ${quote(s)}`);
    msg[key] = s;
  }
  const record = v['record'];
  if (record !== undefined) {
    if (typeof record !== 'boolean') return fail('bad-start', `start.record: expected true or false, got ${quote(record)}`);
    msg.record = record;
  }
  const custom = v['custom'];
  if (custom !== undefined) {
    if (!isRecord(custom)) return fail('bad-start', `start.custom: expected an object, got ${quote(custom)}`);
    if (JSON.stringify(custom).length > STREAM_MAX_CUSTOM_CHARS) return fail('bad-start', `start.custom: longer than ${STREAM_MAX_CUSTOM_CHARS} characters as JSON`);
    msg.custom = custom;
  }
  return { ok: true, msg };
}

/** What the server sends. */
export const buildStreamStarted = (callId: string): string => JSON.stringify({ event: 'started', callId });
export const buildStreamMark = (name: string): string => JSON.stringify({ event: 'mark', name });
export const STREAM_CLEAR = '{"event":"clear"}';
export const STREAM_STOP = '{"event":"stop"}';
