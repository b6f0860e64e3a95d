import fc from 'fast-check';
import { formParams, twilioSignatureFor, validateWebhookSignature } from '../../../src/wire/twilioSignature.ts';
import { connectStreamTwiml } from '../../../src/wire/twilioTwiml.ts';
import { fuzzTarget } from '../FuzzTarget.ts';
import { mutatedText } from '../mutations.ts';

/**
 * `POST /twilio/voice` as src/legs/twilio/webhook.ts handles it: the form
 * body, the X-Twilio-Signature check over it, and the TwiML answer that
 * carries the caller's From/To/CallSid back as stream parameters. A forged
 * signature must never pass, and the answer must be well-formed XML
 * whatever the caller's fields hold, or Twilio drops the call.
 */

const TOKEN = '12345678901234567890123456789012';
const URL_SIGNED = 'https://voice.example.com/twilio/voice?agent=echo';
const BODIES = [
  'CallSid=CA0123456789abcdef0123456789abcdef&From=%2B15551230000&To=%2B15559870000&AccountSid=AC01',
  'From=sip%3Aalice%40example.org&To=%2B1&CallStatus=ringing',
];
const body = fc.oneof(
  mutatedText(BODIES),
  fc.dictionary(fc.constantFrom('CallSid', 'From', 'To', 'Digits', 'x'), fc.string({ unit: 'binary', maxLength: 40 })).map((d) => new URLSearchParams(d).toString()),
);
const genuine = (params: Record<string, string>): string => twilioSignatureFor(TOKEN, URL_SIGNED, params);

/** XML 1.0 §2.2 Char: what a well-formed document may contain. */
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

export const webhookTarget = fuzzTarget({
  name: 'webhook',
  entry: 'formParams, validateWebhookSignature (src/wire/twilioSignature.ts), connectStreamTwiml (src/wire/twilioTwiml.ts)',
  inputs: fc.tuple(body, fc.oneof(fc.constant('genuine'), fc.constant(undefined), fc.base64String({ minLength: 28, maxLength: 28 }), fc.string())),
  ciRuns: 600,
  check([text, header]) {
    const params = formParams(text);
    const signature = header === 'genuine' ? genuine(params) : header;
    const valid = validateWebhookSignature(TOKEN, signature, URL_SIGNED, params);
    if (typeof valid !== 'boolean') return 'signature check is not a boolean';
    if (valid !== (signature === genuine(params))) return `signature check says ${valid} for ${JSON.stringify(signature)}`;
    const parameters: Record<string, string> = { agent: 'echo' };
    for (const key of ['CallSid', 'From', 'To'] as const) if (params[key] !== undefined) parameters[key] = params[key];
    const xml = connectStreamTwiml({ streamUrl: 'wss://voice.example.com/twilio/media', parameters });
    if (!XML_CHARS.test(xml)) return 'TwiML holds a character XML 1.0 does not allow';
    const tags = xml.match(/<Parameter /g)?.length ?? 0;
    if (tags !== Object.keys(parameters).length || /value="[^"]*[<"][^"]*"\/>/.test(xml.replace(/&(?:lt|gt|amp|quot|apos);/g, ''))) {
      return 'TwiML parameters did not survive escaping';
    }
    return undefined;
  },
});
