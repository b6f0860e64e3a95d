import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { ConfigError, loadConfig } from '../config.ts';
import { connectStreamTwiml, streamUrlFor, TwimlError } from '../wire/twilioTwiml.ts';
import { UsageError } from './main.ts';
import { createTwilioRestClient } from './twilioRestClient.ts';

/**
 * `switchboard call --to NUMBER --from NUMBER [options]`: places an outbound
 * call through Twilio's REST API (Calls resource) whose TwiML is the one the
 * voice webhook answers: `<Connect><Stream url="wss://…/twilio/media">`, so
 * the callee is connected to this engine's agent.
 * @see https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 *
 * Prints `{"sid","status","to","from"}` as JSON and exits 0 once Twilio has
 * accepted (queued) the call. Mistakes found before any request (a number not
 * in E.164, missing credentials, no stream URL, bad options) are UsageErrors:
 * exit 2. Twilio refusing the call, or not answering, is exit 1 with its
 * error code and message.
 */

/** Sends the requests elsewhere than api.twilio.com (a stand-in of the REST API); below --api-base. */
export const API_BASE_ENV = 'SWITCHBOARD_TWILIO_API_BASE';
/** ITU-T E.164: a `+`, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;
/** The Calls resource refuses a `Twiml` parameter longer than this (Twilio's documented limit). */
export const TWIML_MAX_CHARS = 4000;

const USAGE = `usage: switchboard call --to NUMBER --from NUMBER [options]

Places a call through Twilio that connects the callee to this engine's
Media Stream. Numbers are E.164 (+15551234567). TWILIO_ACCOUNT_SID and
TWILIO_AUTH_TOKEN are read from the environment.
  --url WSS_URL           the stream URL (default: wss://<host of twilio.publicUrl>/twilio/media)
  --param NAME=VALUE      a <Parameter> for the stream's start.customParameters (repeatable)
  --status-callback URL   where Twilio posts the call's status changes
  --config FILE           the config file to read twilio.publicUrl from (as for start)
  --api-base URL          send the REST requests to this base URL instead of Twilio's
                          (${API_BASE_ENV}); e.g. a local stand-in of the API, whose
                          certificate the twilio package trusts through TWILIO_CA_BUNDLE`;

interface CallOptions {
  to: string;
  from: string;
  url: string | undefined;
  params: Record<string, string>;
  statusCallback: string | undefined;
  config: string | undefined;
  apiBase: string | undefined;
}

export async function call(args: string[]): Promise<number> {
  const opts = parse(args);
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  checkNumber('--to', opts.to);
  checkNumber('--from', opts.from);
  if (opts.statusCallback !== undefined) httpUrl('--status-callback', opts.statusCallback);
  const apiBaseText = opts.apiBase ?? nonEmpty(process.env[API_BASE_ENV]);
  const apiBase = apiBaseText === undefined ? undefined : httpUrl(opts.apiBase === undefined ? API_BASE_ENV : '--api-base', apiBaseText);

  let config;
  try {
    config = loadConfig({ argv: opts.config === undefined ? [] : ['--config', opts.config], env: process.env, cwd: process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const { twilioAccountSid: accountSid, twilioAuthToken: authToken } = config.secrets;
  if (accountSid === undefined || authToken === undefined) {
    const missing = [accountSid === undefined && 'TWILIO_ACCOUNT_SID', authToken === undefined && 'TWILIO_AUTH_TOKEN'];
    throw new UsageError(`missing Twilio credentials: set ${missing.filter(Boolean).join(' and ')} in the environment`);
  }
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    throw new UsageError('TWILIO_ACCOUNT_SID is not an account SID (AC followed by 32 hex digits)');
  }

  const streamUrl = opts.url ?? (config.twilio.publicUrl === undefined ? undefined : streamUrlFor(config.twilio.publicUrl));
  if (streamUrl === undefined) {
    throw new UsageError('no stream URL: pass --url wss://host/twilio/media or set twilio.publicUrl (SWITCHBOARD_TWILIO__PUBLIC_URL or the config file)');
  }
  let twiml: string;
  try {
    twiml = connectStreamTwiml({ streamUrl, parameters: opts.params });
  } catch (err) {
    if (err instanceof TwimlError) throw new UsageError(err.message);
    throw err;
  }
  if (twiml.length > TWIML_MAX_CHARS) {
    throw new UsageError(`the TwiML is ${twiml.length} characters; Twilio takes at most ${TWIML_MAX_CHARS}: shorten the parameters`);
  }

  const client = createTwilioRestClient({ accountSid, authToken, ...(apiBase === undefined ? {} : { apiBase }) });
  try {
    const placed = await client.calls.create({
      to: opts.to,
      from: opts.from,
      twiml,
      ...(opts.statusCallback === undefined ? {} : { statusCallback: opts.statusCallback }),
    });
    console.log(JSON.stringify({ sid: placed.sid, status: placed.status, to: placed.to, from: placed.from }));
    return 0;
  } catch (err) {
    console.error(`switchboard call: ${describeFailure(err, apiBase)}`);
    return 1;
  }
}

function parse(args: string[]): CallOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        to: { type: 'string' },
        from: { type: 'string' },
        url: { type: 'string' },
        param: { type: 'string', multiple: true },
        'status-callback': { type: 'string' },
        config: { type: 'string' },
        'api-base': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  if (v.to === undefined || v.from === undefined) {
    throw new UsageError(`${v.to === undefined ? '--to' : '--from'} is required\n\n${USAGE}`);
  }
  const params: Record<string, string> = {};
  for (const p of v.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param needs NAME=VALUE [got:"${p}"]`);
    const name = p.slice(0, eq);
    if (Object.hasOwn(params, name)) throw new UsageError(`--param ${name} given twice`);
    params[name] = p.slice(eq + 1);
  }
  return {
    to: v.to,
    from: v.from,
    url: v.url,
    params,
    statusCallback: v['status-callback'],
    config: v.config,
    apiBase: v['api-base'],
  };
}

function checkNumber(flag: string, value: string): void {
  if (!E164.test(value)) {
    throw new UsageError(`${flag} must be an E.164 number such as +15551234567 [got:"${value}"]`);
  }
}

function httpUrl(name: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${name} must be an http(s) URL [got:"${text}"]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${name} must be an http(s) URL [got:"${text}"]`);
  }
  return url;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/**
 * Twilio's error body (`{code, message, more_info, status}`) arrives as the
 * package's RestException; anything else is a failure to get an answer at all.
 */
function describeFailure(err: unknown, apiBase: URL | undefined): string {
  if (err instanceof twilio.RestException) {
    const code = err.code === undefined ? '' : ` ${err.code}`;
    const more = err.moreInfo === undefined ? '' : `, ${err.moreInfo}`;
    return `Twilio error${code}: ${err.message} [HTTP ${err.status}${more}]`;
  }
  const where = apiBase === undefined ? 'api.twilio.com' : apiBase.origin;
  return `no answer from the Twilio REST API [${where}]: ${(err as Error).message}`;
}
