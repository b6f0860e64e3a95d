/**
 * The answer to Twilio's voice webhook: `<Connect><Stream>` opens a
 * bidirectional Media Stream to the engine; each `<Parameter>` arrives in the
 * stream's `start.customParameters`. Built with the `twilio` package's
 * VoiceResponse, which escapes attribute values.
 * @see https://www.twilio.com/docs/voice/twiml/stream
 */
import twilio from 'twilio';

/** The WebSocket route Twilio connects to. */
export const TWILIO_MEDIA_PATH = '/twilio/media';

export interface StreamTwimlOptions {
  /** `wss://host[:port]/twilio/media`: Twilio accepts only wss and no query string. */
  streamUrl: string;
  /** Passed to the stream as `<Parameter name value>`, in insertion order. */
  parameters?: Readonly<Record<string, string>>;
  /** Optional `<Stream name>`, unique per call, used to stop it through the REST API. */
  name?: string;
  /** Optional `statusCallback` for stream-started/stopped/error notifications. */
  statusCallback?: string;
}

/**
 * Characters XML 1.0 does not allow in a document (§2.2 Char: controls other
 * than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF). Escaping cannot
 * carry them, so a caller's field holding one (a From of "%00") would make
 * the whole answer ill-formed and Twilio would drop the call: they are
 * removed from what the document carries.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const xmlText = (text: string): string => text.replace(NOT_XML_CHAR, '');

export class TwimlError extends Error {
  override name = 'TwimlError';
}

/** `wss://…/twilio/media` for a public base URL such as `https://voice.example.com`. */
export function streamUrlFor(publicBaseUrl: string): string {
  const url = new URL(publicBaseUrl);
  url.protocol = 'wss:';
  url.pathname = url.pathname.replace(/\/+$/, '') + TWILIO_MEDIA_PATH;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** TwiML XML that connects the call to a bidirectional Media Stream; throws TwimlError on a bad URL. */
export function connectStreamTwiml(options: StreamTwimlOptions): string {
  let url: URL;
  try {
    url = new URL(options.streamUrl);
  } catch {
    throw new TwimlError(`stream URL does not parse [url:${options.streamUrl}]`);
  }
  // Twilio refuses other schemes (error 31922) and query strings (31920).
  if (url.protocol !== 'wss:') throw new TwimlError(`stream URL must use wss [url:${options.streamUrl}]`);
  if (url.search !== '') throw new TwimlError(`stream URL must not have a query string; use parameters [url:${options.streamUrl}]`);
  const response = new twilio.twiml.VoiceResponse();
  const attrs: { url: string; name?: string; statusCallback?: string } = { url: options.streamUrl };
  if (options.name !== undefined) attrs.name = xmlText(options.name);
  if (options.statusCallback !== undefined) attrs.statusCallback = options.statusCallback;
  const stream = response.connect().stream(attrs);
  for (const [name, value] of Object.entries(options.parameters ?? {})) stream.parameter({ name: xmlText(name), value: xmlText(value) });
  return response.toString();
}
