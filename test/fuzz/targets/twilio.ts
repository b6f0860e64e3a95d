import fc from 'fast-check';
import { BASE64_INVALID, BASE64_TOO_LARGE, base64Decode, buildTwilioMark, buildTwilioMedia, parseTwilioInbound, parseTwilioOutbound } from '../../../src/wire/twilio.ts';
import { WS_CLOSE_REASON_MAX_BYTES, quote, truncateUtf8 } from '../../../src/wire/text.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedText } from '../mutations.ts';

/**
 * Twilio Media Streams text frames (`WS /twilio/media`), each side of the
 * wire, and the helpers that quote what a peer sent back into logs and close
 * reasons. Inputs: valid messages with bytes edited, valid messages with one
 * field swapped for any JSON value (wrong types, nesting, huge numbers), and
 * arbitrary strings.
 */

const SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const CALL = 'CA0123456789abcdef0123456789abcdef';
const PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');
const MESSAGES: ReadonlyArray<Record<string, unknown>> = [
  { event: 'connected', protocol: 'Call', version: '1.0.0' },
  {
    event: 'start', sequenceNumber: '1', streamSid: SID,
    start: { accountSid: ACCOUNT, streamSid: SID, callSid: CALL, tracks: ['inbound'], customParameters: { agent: 'echo' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
  },
  { event: 'media', sequenceNumber: '3', streamSid: SID, media: { track: 'inbound', chunk: '1', timestamp: '5', payload: PAYLOAD } },
  { event: 'dtmf', sequenceNumber: '5', streamSid: SID, dtmf: { track: 'inbound_track', digit: '1' } },
  { event: 'mark', sequenceNumber: '4', streamSid: SID, mark: { name: 'turn-1' } },
  { event: 'stop', sequenceNumber: '5', streamSid: SID, stop: { accountSid: ACCOUNT, callSid: CALL } },
  { event: 'clear', streamSid: SID },
];
const TEXTS = [...MESSAGES.map((m) => JSON.stringify(m)), buildTwilioMedia(SID, new Uint8Array(160), 160), buildTwilioMark(SID, 'x')];

/** Every path to a value in `m` (objects and leaves alike). */
function paths(m: unknown, prefix: string[] = []): string[][] {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return [prefix];
  return [prefix, ...Object.entries(m).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}
const PATHS = MESSAGES.map((m) => paths(m).filter((p) => p.length > 0));

function withValue(m: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(m);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const swapped = fc
  .tuple(fc.nat({ max: MESSAGES.length - 1 }), fc.nat(), fc.jsonValue({ maxDepth: 3 }))
  .map(([i, p, value]) => JSON.stringify(withValue(MESSAGES[i]!, PATHS[i]![p % PATHS[i]!.length]!, value)));

export const twilioText = fc.oneof({ weight: 3, arbitrary: mutatedText(TEXTS) }, { weight: 2, arbitrary: swapped });

const REASONS: ReadonlySet<string> = new Set(['oversized', 'bad-json', 'not-object', 'unknown-event', 'missing-field', 'bad-field', 'bad-base64']);
const payloadOut = new Uint8Array(400);

function checkResult(r: ReturnType<typeof parseTwilioInbound> | ReturnType<typeof parseTwilioOutbound>): string | undefined {
  if (!r.ok) return REASONS.has(r.reason) && typeof r.detail === 'string' ? undefined : `unknown failure ${JSON.stringify(r)}`;
  if (r.msg.event === 'media' && (r.msg.payloadBytes < 0 || r.msg.payloadBytes > payloadOut.length)) return `payload of ${r.msg.payloadBytes} bytes`;
  return undefined;
}

export const twilioTarget = fuzzTarget({
  name: 'twilio',
  entry: 'parseTwilioInbound, parseTwilioOutbound (src/wire/twilio.ts)',
  inputs: twilioText,
  ciRuns: 2000,
  check(text) {
    return checkResult(parseTwilioInbound(text, payloadOut)) ?? checkResult(parseTwilioOutbound(text, payloadOut));
  },
});

const base64Out = new Uint8Array(64);
/** Canonical padded base64, the form base64Decode accepts. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const base64Target = fuzzTarget({
  name: 'base64',
  entry: 'base64Decode (src/wire/base64.ts), the media payload decoder',
  inputs: fc.oneof(fc.base64String({ maxLength: 120 }), mutatedText([PAYLOAD.slice(0, 88), 'AAAA', 'QQ==']), fc.string({ unit: 'binary', maxLength: 100 })),
  ciRuns: 3000,
  check(text) {
    const n = base64Decode(text, base64Out);
    if (n === BASE64_INVALID || n === BASE64_TOO_LARGE) return undefined;
    if (n < 0 || n > base64Out.length) return `decoded length ${n}`;
    if (!STRICT_BASE64.test(text)) return 'accepted text that is not base64';
    const want = Buffer.from(text, 'base64');
    return want.equals(base64Out.subarray(0, n)) ? undefined : 'decoded bytes differ from Node’s decoder';
  },
});

export const quoteTarget = fuzzTarget({
  name: 'quote',
  entry: 'quote, truncateUtf8 (src/wire/text.ts): peer text echoed into logs and WebSocket close reasons',
  inputs: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.jsonValue({ maxDepth: 2 }), fc.anything({ maxDepth: 2 })),
  ciRuns: 2000,
  check(value) {
    const shown = quote(value);
    if (typeof shown !== 'string' || shown.length > 200) return `quote gave ${shown.length} chars`;
    const reason = truncateUtf8(typeof value === 'string' ? value : shown, WS_CLOSE_REASON_MAX_BYTES);
    // RFC 6455 §5.5: a close frame's reason is at most 123 bytes of valid UTF-8 (ws throws past it).
    if (Buffer.byteLength(reason) > WS_CLOSE_REASON_MAX_BYTES) return `close reason of ${Buffer.byteLength(reason)} bytes`;
    if (Buffer.from(reason).toString() !== reason) return 'close reason is not valid UTF-8';
    return undefined;
  },
});
