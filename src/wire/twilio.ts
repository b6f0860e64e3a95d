import { quote } from './text.ts';
/**
 * Twilio Media Streams messages (bidirectional `<Connect><Stream>`).
 *
 * Every message is one JSON text frame with an `event` discriminator. Numbers
 * Twilio sends as strings (`sequenceNumber`, `media.chunk`, `media.timestamp`)
 * are returned as numbers; `mediaFormat.sampleRate`/`channels` are JSON numbers.
 *
 * ```
 * from Twilio                                        to Twilio (bidirectional only)
 * connected {protocol, version}                      media {streamSid, media:{payload}}
 * start     {sequenceNumber, streamSid, start:{      mark  {streamSid, mark:{name}}
 *             streamSid, accountSid, callSid,        clear {streamSid}
 *             tracks[], customParameters{},
 *             mediaFormat{encoding, sampleRate, channels}}}
 * media     {sequenceNumber, streamSid, media:{track, chunk, timestamp, payload}}
 * dtmf      {sequenceNumber, streamSid, dtmf:{track, digit}}
 * mark      {sequenceNumber, streamSid, mark:{name}}  (echo once the audio before it played)
 * stop      {sequenceNumber, streamSid, stop:{accountSid, callSid}}
 * ```
 * @see https://www.twilio.com/docs/voice/media-streams/websocket-messages
 *
 * Parsing never throws: a message is `{ ok: true, msg }` or `{ ok: false,
 * reason, detail }`. A media payload is decoded into the caller's buffer
 * (base64 below), so the bytes are never held in a fresh array.
 */
import { BASE64_INVALID, base64Decode, base64Encode } from './base64.ts';

export { base64Decode, base64Encode, BASE64_INVALID, BASE64_TOO_LARGE } from './base64.ts';

/** Twilio's only format on a bidirectional stream: µ-law, 8 kHz, mono. */
export const TWILIO_ENCODING = 'audio/x-mulaw';
export const TWILIO_RATE_HZ = 8000;
/** A text frame longer than this is refused before JSON.parse sees it. */
export const TWILIO_MAX_MESSAGE_CHARS = 64 * 1024;

export interface TwilioConnected {
  event: 'connected';
  protocol: string;
  version: string;
}
export interface TwilioStart {
  event: 'start';
  sequenceNumber: number;
  streamSid: string;
  accountSid: string;
  callSid: string;
  tracks: string[];
  customParameters: Record<string, string>;
  mediaFormat: { encoding: string; sampleRate: number; channels: number };
}
export interface TwilioMedia {
  event: 'media';
  sequenceNumber: number;
  streamSid: string;
  track: string;
  chunk: number;
  timestampMs: number;
  /** Bytes decoded into the caller's payload buffer. */
  payloadBytes: number;
}
export interface TwilioDtmf {
  event: 'dtmf';
  sequenceNumber: number;
  streamSid: string;
  track: string;
  digit: string;
}
export interface TwilioMarkEcho {
  event: 'mark';
  sequenceNumber: number;
  streamSid: string;
  name: string;
}
export interface TwilioStop {
  event: 'stop';
  sequenceNumber: number;
  streamSid: string;
  accountSid: string;
  callSid: string;
}
export type TwilioInbound = TwilioConnected | TwilioStart | TwilioMedia | TwilioDtmf | TwilioMarkEcho | TwilioStop;

/** What the server may send: Twilio refuses anything else (warning 31951). */
export type TwilioOutbound =
  | { event: 'media'; streamSid: string; payloadBytes: number }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'clear'; streamSid: string };

export type TwilioParseFailure =
  | 'oversized'
  | 'bad-json'
  | 'not-object'
  | 'unknown-event'
  | 'missing-field'
  | 'bad-field'
  | 'bad-base64';

export type TwilioParseResult<M> = { ok: true; msg: M } | { ok: false; reason: TwilioParseFailure; detail: string };

type Obj = Record<string, unknown>;

/** A failed field check: carries what `fail` reports. */
class FieldError {
  constructor(
    readonly reason: TwilioParseFailure,
    readonly detail: string,
  ) {}
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(o: Obj, key: string, path: string): Obj {
  const v = o[key];
  if (v === undefined) throw new FieldError('missing-field', `missing ${path}`);
  if (!isObj(v)) throw new FieldError('bad-field', `${path} is not an object`);
  return v;
}
function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (v === undefined) throw new FieldError('missing-field', `missing ${path}`);
  if (typeof v !== 'string') throw new FieldError('bad-field', `${path} is not a string`);
  return v;
}
/**
 * Twilio's identifiers are two letters and 32 hex digits (`MZ…`, `CA…`,
 * `AC…`); they are echoed in every outbound message and shown under the call,
 * so a start whose ids are not short identifiers is refused rather than
 * carried (a looser shape than Twilio's own, for peers that stand in for it).
 */
const SID = /^[A-Za-z0-9_-]{1,64}$/;
function sid(o: Obj, key: string, path: string): string {
  const v = str(o, key, path);
  if (!SID.test(v)) throw new FieldError('bad-field', `${path} is not an identifier of 1–64 letters, digits, _ or - [value:${quote(v)}]`);
  return v;
}
/** Twilio sends counters as decimal strings; a JSON number is accepted too. */
function uint(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (v === undefined) throw new FieldError('missing-field', `missing ${path}`);
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new FieldError('bad-field', `${path} is not a non-negative integer [value:${quote(v)}]`);
  }
  return n;
}

function parseJson(text: string, maxChars: number): TwilioParseResult<Obj> {
  if (text.length > maxChars) {
    return { ok: false, reason: 'oversized', detail: `message of ${text.length} chars exceeds ${maxChars}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'bad-json', detail: (err as Error).message };
  }
  if (!isObj(value)) return { ok: false, reason: 'not-object', detail: 'message is not a JSON object' };
  return { ok: true, msg: value };
}

function decodePayload(media: Obj, payloadOut: Uint8Array): number {
  const payload = str(media, 'payload', 'media.payload');
  const n = base64Decode(payload, payloadOut);
  if (n === BASE64_INVALID) throw new FieldError('bad-base64', 'media.payload is not valid base64');
  if (n < 0) {
    throw new FieldError(
      'oversized',
      `media.payload decodes to more than ${payloadOut.length} bytes [chars:${payload.length}]`,
    );
  }
  return n;
}

function inbound(m: Obj, event: string, payloadOut: Uint8Array): TwilioInbound | undefined {
  switch (event) {
    case 'connected':
      return { event, protocol: str(m, 'protocol', 'protocol'), version: str(m, 'version', 'version') };
    case 'start': {
      const s = obj(m, 'start', 'start');
      const fmt = obj(s, 'mediaFormat', 'start.mediaFormat');
      const mediaFormat = {
        encoding: str(fmt, 'encoding', 'start.mediaFormat.encoding'),
        sampleRate: uint(fmt, 'sampleRate', 'start.mediaFormat.sampleRate'),
        channels: uint(fmt, 'channels', 'start.mediaFormat.channels'),
      };
      if (mediaFormat.encoding !== TWILIO_ENCODING || mediaFormat.sampleRate !== TWILIO_RATE_HZ || mediaFormat.channels !== 1) {
        throw new FieldError('bad-field', `unsupported start.mediaFormat [${quote(mediaFormat)}]`);
      }
      const tracks = s['tracks'];
      if (!Array.isArray(tracks) || !tracks.every((t) => typeof t === 'string')) {
        throw new FieldError(tracks === undefined ? 'missing-field' : 'bad-field', 'start.tracks is not an array of strings');
      }
      const params = s['customParameters'] ?? {};
      if (!isObj(params) || !Object.values(params).every((v) => typeof v === 'string')) {
        throw new FieldError('bad-field', 'start.customParameters is not an object of strings');
      }
      return {
        event,
        sequenceNumber: uint(m, 'sequenceNumber', 'sequenceNumber'),
        streamSid: sid(s, 'streamSid', 'start.streamSid'),
        accountSid: sid(s, 'accountSid', 'start.accountSid'),
        callSid: sid(s, 'callSid', 'start.callSid'),
        tracks: tracks as string[],
        customParameters: params as Record<string, string>,
        mediaFormat,
      };
    }
    case 'media': {
      const media = obj(m, 'media', 'media');
      return {
        event,
        sequenceNumber: uint(m, 'sequenceNumber', 'sequenceNumber'),
        streamSid: str(m, 'streamSid', 'streamSid'),
        track: str(media, 'track', 'media.track'),
        chunk: uint(media, 'chunk', 'media.chunk'),
        timestampMs: uint(media, 'timestamp', 'media.timestamp'),
        payloadBytes: decodePayload(media, payloadOut),
      };
    }
    case 'dtmf': {
      const d = obj(m, 'dtmf', 'dtmf');
      const digit = str(d, 'digit', 'dtmf.digit');
      if (!/^[0-9*#A-D]$/.test(digit)) throw new FieldError('bad-field', `dtmf.digit is not a key [value:${quote(digit)}]`);
      return {
        event,
        sequenceNumber: uint(m, 'sequenceNumber', 'sequenceNumber'),
        streamSid: str(m, 'streamSid', 'streamSid'),
        track: str(d, 'track', 'dtmf.track'),
        digit,
      };
    }
    case 'mark':
      return {
        event,
        sequenceNumber: uint(m, 'sequenceNumber', 'sequenceNumber'),
        streamSid: str(m, 'streamSid', 'streamSid'),
        name: str(obj(m, 'mark', 'mark'), 'name', 'mark.name'),
      };
    case 'stop': {
      const s = obj(m, 'stop', 'stop');
      return {
        event,
        sequenceNumber: uint(m, 'sequenceNumber', 'sequenceNumber'),
        streamSid: str(m, 'streamSid', 'streamSid'),
        accountSid: str(s, 'accountSid', 'stop.accountSid'),
        callSid: str(s, 'callSid', 'stop.callSid'),
      };
    }
    default:
      return undefined;
  }
}

/** Twilio refuses unexpected fields in what it is sent (warning 31951). */
function onlyKeys(o: Obj, allowed: readonly string[], path: string): Obj {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new FieldError('bad-field', `unexpected field ${path}${key}`);
  }
  return o;
}

function outbound(m: Obj, event: string, payloadOut: Uint8Array): TwilioOutbound | undefined {
  switch (event) {
    case 'media':
      onlyKeys(m, ['event', 'streamSid', 'media'], '');
      onlyKeys(obj(m, 'media', 'media'), ['payload'], 'media.');
      return { event, streamSid: str(m, 'streamSid', 'streamSid'), payloadBytes: decodePayload(obj(m, 'media', 'media'), payloadOut) };
    case 'mark':
      onlyKeys(m, ['event', 'streamSid', 'mark'], '');
      onlyKeys(obj(m, 'mark', 'mark'), ['name'], 'mark.');
      return { event, streamSid: str(m, 'streamSid', 'streamSid'), name: str(obj(m, 'mark', 'mark'), 'name', 'mark.name') };
    case 'clear':
      onlyKeys(m, ['event', 'streamSid'], '');
      return { event, streamSid: str(m, 'streamSid', 'streamSid') };
    default:
      return undefined;
  }
}

function parseWith<M>(
  text: string,
  payloadOut: Uint8Array,
  maxChars: number,
  pick: (m: Obj, event: string, out: Uint8Array) => M | undefined,
): TwilioParseResult<M> {
  const json = parseJson(text, maxChars);
  if (!json.ok) return json;
  const m = json.msg;
  const event = m['event'];
  if (typeof event !== 'string') {
    return { ok: false, reason: event === undefined ? 'missing-field' : 'bad-field', detail: 'event is not a string' };
  }
  try {
    const msg = pick(m, event, payloadOut);
    if (msg === undefined) return { ok: false, reason: 'unknown-event', detail: `unknown event [event:${quote(event, 40)}]` };
    return { ok: true, msg };
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, reason: err.reason, detail: `${event}: ${err.detail}` };
    return { ok: false, reason: 'bad-field', detail: `${event}: ${String(err)}` };
  }
}

/**
 * Parses a message from Twilio; a `media` payload is decoded into
 * `payloadOut` (a payload larger than it is `oversized`).
 */
export function parseTwilioInbound(
  text: string,
  payloadOut: Uint8Array,
  maxChars = TWILIO_MAX_MESSAGE_CHARS,
): TwilioParseResult<TwilioInbound> {
  return parseWith(text, payloadOut, maxChars, inbound);
}

/** Parses a message sent to Twilio (what Twilio accepts): the other side of the wire. */
export function parseTwilioOutbound(
  text: string,
  payloadOut: Uint8Array,
  maxChars = TWILIO_MAX_MESSAGE_CHARS,
): TwilioParseResult<TwilioOutbound> {
  return parseWith(text, payloadOut, maxChars, outbound);
}

/** `{"event":"media","streamSid":…,"media":{"payload":…}}` for `count` µ-law bytes. */
export function buildTwilioMedia(streamSid: string, codes: Uint8Array, count: number): string {
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${base64Encode(codes, count)}"}}`;
}

/** A mark Twilio echoes once every byte of audio sent before it has played. */
export function buildTwilioMark(streamSid: string, name: string): string {
  return `{"event":"mark","streamSid":${JSON.stringify(streamSid)},"mark":{"name":${JSON.stringify(name)}}}`;
}

/** Drops the audio Twilio has buffered; Twilio then echoes every pending mark. */
export function buildTwilioClear(streamSid: string): string {
  return `{"event":"clear","streamSid":${JSON.stringify(streamSid)}}`;
}
