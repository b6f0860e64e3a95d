import { quote } from '../../wire/text.ts';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config.ts';
import { TWILIO_SIGNATURE_HEADER, validateWebhookSignature } from '../../wire/twilioSignature.ts';
import { connectStreamTwiml } from '../../wire/twilioTwiml.ts';
import { signedStreamUrl } from './TwilioMediaServer.ts';
import { AGENT_NAMES } from '../../supervisor/agentConfig.ts';
import { readFormBody } from '../../server/body.ts';
import { HttpError } from '../../server/errors.ts';
import type { Route } from '../../server/router.ts';

/** The URL Twilio requested, as it signed it: the configured public URL, else this request's Host over https. */
export function signedWebhookUrl(req: IncomingMessage, config: Config): string {
  const target = req.url ?? '/';
  if (config.twilio.publicUrl !== undefined) return new URL(target, config.twilio.publicUrl).toString();
  const proto = req.headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${proto}://${req.headers.host ?? 'localhost'}${target}`;
}

/**
 * `POST /twilio/voice`: Twilio's voice webhook. Answers TwiML that connects
 * the call to a bidirectional Media Stream on `WS /twilio/media`, passing the
 * call's identity and the agent (`?agent=` on the webhook URL, else the
 * configured default) as stream parameters. With TWILIO_AUTH_TOKEN set the
 * request must carry a valid X-Twilio-Signature (403 otherwise). While the
 * daemon drains it answers 503, so Twilio's fallback URL (another instance)
 * takes the call.
 */
export const twilioRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/twilio/voice',
    handler: async ({ req, url, runtime, config }) => {
      const fields = await readFormBody(req, config.http.bodyLimitBytes);
      const token = config.secrets.twilioAuthToken;
      if (token !== undefined) {
        const signed = signedWebhookUrl(req, config);
        if (!validateWebhookSignature(token, req.headers[TWILIO_SIGNATURE_HEADER], signed, fields)) {
          throw new HttpError(403, 'bad_signature', `X-Twilio-Signature does not match the request to ${signed}`, { badInput: true });
        }
      }
      if (runtime.state !== 'running') throw new HttpError(503, 'not_taking_calls', `not taking calls: the daemon is ${runtime.state}`);
      const agent = url.searchParams.get('agent') ?? config.agent.default;
      if (!(AGENT_NAMES as readonly string[]).includes(agent)) {
        throw new HttpError(422, 'bad_agent', `agent: expected one of ${AGENT_NAMES.join(', ')}, got ${quote(agent)}`, { badInput: true });
      }
      const streamUrl = signedStreamUrl(req, config.twilio.publicUrl);
      const parameters: Record<string, string> = { agent };
      for (const key of ['CallSid', 'From', 'To'] as const) if (fields[key] !== undefined) parameters[key] = fields[key];
      return { status: 200, text: connectStreamTwiml({ streamUrl, parameters }), contentType: 'text/xml; charset=utf-8' };
    },
  },
];
