import { STREAM_CODECS, parseStreamControl } from '../../../src/wire/streamControl.ts';
import { frameDurationMs } from '../../../src/wire/frameDuration.ts';
import {
  STREAM_CODEC_NUMBER,
  STREAM_HEADER_BYTES,
  STREAM_HEADER_CLOSE,
  STREAM_HEADER_REASON,
  StreamHeaderError,
  StreamHeaderView,
  parseStreamHeader,
  streamCodecOf,
  writeStreamHeader,
} from '../../../src/wire/streamHeader.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedBytes, mutatedText } from '../mutations.ts';

/**
 * The raw audio stream (`WS /v1/stream`): the binary frame's 8-byte header
 * with the frame's duration read from its bytes (what StreamSession does with
 * every binary message), and the JSON control messages. Inputs: a valid
 * frame of each codec and valid control messages, edited, or anything.
 */

function frame(codecNumber: number, payload: number[]): Uint8Array {
  const out = new Uint8Array(STREAM_HEADER_BYTES + payload.length);
  writeStreamHeader(out, 123_456, 7, codecNumber, 1);
  out.set(payload, STREAM_HEADER_BYTES);
  return out;
}
const FRAMES = [
  frame(STREAM_CODEC_NUMBER.PCMU, new Array<number>(160).fill(0xff)),
  frame(STREAM_CODEC_NUMBER.PCMA, new Array<number>(160).fill(0xd5)),
  frame(STREAM_CODEC_NUMBER.G722, new Array<number>(160).fill(0xfa)),
  frame(STREAM_CODEC_NUMBER.L16, new Array<number>(640).fill(0)),
  // Opus: CELT fullband 20 ms, code 3 (a count byte follows), two frames.
  frame(STREAM_CODEC_NUMBER.opus, [(31 << 3) | 3, 2, 0xff, 0xfe]),
];
const HEADER_CODES = new Set<number>(Object.values(StreamHeaderError));
const view = new StreamHeaderView();

export const streamHeaderTarget = fuzzTarget({
  name: 'stream-header',
  entry: 'parseStreamHeader (src/wire/streamHeader.ts), frameDurationMs (src/wire/frameDuration.ts)',
  inputs: mutatedBytes(FRAMES, 1600),
  ciRuns: 3000,
  check(buf) {
    const code = parseStreamHeader(buf, buf.length, view);
    if (!HEADER_CODES.has(code)) return `unknown stream header code ${code}`;
    if (code !== StreamHeaderError.OK) {
      const c = code as Exclude<StreamHeaderError, 0>;
      if (STREAM_HEADER_CLOSE[c] === undefined || STREAM_HEADER_REASON[c] === undefined) return `no close code or reason for ${code}`;
      return undefined;
    }
    if (view.payloadOffset + view.payloadLength !== buf.length || view.payloadLength < 1) return 'header view does not add up';
    const codec = streamCodecOf(view.codec);
    if (codec === undefined) return `accepted codec byte ${view.codec}`;
    const ms = frameDurationMs(codec, buf.subarray(view.payloadOffset), view.payloadLength, codec === 'L16' ? 16000 : 48000);
    // At most what a TOC can say: code 3 counts up to 63 frames of up to 60 ms (RFC 6716 §3.2.5).
    if (!(ms >= 0 && ms <= 63 * 60)) return `frame duration ${ms} ms`;
    return undefined;
  },
});

const CONTROL = [
  '{"event":"start","codec":"opus","rateHz":48000,"agent":"echo","record":false,"custom":{"caller":"+15551234567"}}',
  '{"event":"start","codec":"pcmu","rateHz":8000}',
  '{"event":"mark","name":"turn-1"}',
  '{"event":"stop"}',
];
const EVENTS = new Set(['start', 'mark', 'stop']);

export const streamControlTarget = fuzzTarget({
  name: 'stream-control',
  entry: 'parseStreamControl (src/wire/streamControl.ts)',
  inputs: mutatedText(CONTROL),
  ciRuns: 2000,
  check(text) {
    const r = parseStreamControl(text);
    if (!r.ok) return r.reason.length > 0 && r.detail.length > 0 ? undefined : 'a refusal without its reason or detail';
    if (!EVENTS.has(r.msg.event)) return `accepted event ${String(r.msg.event)}`;
    if (r.msg.event === 'start' && !Object.hasOwn(STREAM_CODECS, r.msg.codec)) return `accepted codec ${r.msg.codec}`;
    return undefined;
  },
});
