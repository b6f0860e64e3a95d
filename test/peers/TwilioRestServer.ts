/**
 * A local stand-in for the part of Twilio's REST API that places calls:
 * `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` on
 * `https://127.0.0.1:<port>`, answering as Twilio documents it.
 * @see https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 * @see https://www.twilio.com/docs/usage/twilios-response
 *
 * - TLS, like api.twilio.com (the client is pointed at it with TWILIO_CA_BUNDLE
 *   or its `ca` option, so its own https agent is the one that connects).
 * - HTTP Basic auth with AccountSid:AuthToken; a wrong or missing pair, or a
 *   path naming another account, is 401 with error 20003.
 * - A form-encoded body (`application/x-www-form-urlencoded`) with `To`,
 *   `From` and one of `Url`, `Twiml` or `ApplicationSid`; optional
 *   `StatusCallback` and the rest are recorded as sent.
 * - 201 with the Call resource (`sid` CA…, `status` queued, `direction`
 *   outbound-api, …); errors as Twilio's JSON body `{code, message, more_info, status}`.
 * - `invalidNumbers` are refused as Twilio refuses a To it cannot dial
 *   (21211); with `ownedNumbers`, any other From is refused (21210).
 *
 * Every request is recorded, accepted or not, for assertions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const TLS_CERT = readFileSync(new URL('./tls/localhost.crt', import.meta.url));
const TLS_KEY = readFileSync(new URL('./tls/localhost.key', import.meta.url));
/** The certificate the stand-in presents (CN localhost, SAN 127.0.0.1), for a client's CA bundle. */
export const TLS_CERT_PATH = new URL('./tls/localhost.crt', import.meta.url).pathname;

const API_VERSION = '2010-04-01';
const CALLS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
/** Twilio caps request bodies well above any call's form; this keeps a runaway client from filling memory. */
const BODY_LIMIT_BYTES = 64 * 1024;

export interface TwilioRestServerOptions {
  accountSid: string;
  authToken: string;
  /** To numbers refused with 21211, as Twilio refuses numbers it cannot dial. */
  invalidNumbers?: readonly string[];
  /** When given, a From outside this list is refused with 21210 (not a number of the account). */
  ownedNumbers?: readonly string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Decoded Basic credentials, when the header was Basic. */
  auth: { username: string; password: string } | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
  /** The form fields, in the order sent; repeated names keep every value. */
  form: Array<[string, string]>;
  /** The status answered. */
  status: number;
}

interface TwilioError {
  status: number;
  code: number;
  message: string;
}

export class TwilioRestServer {
  readonly requests: RecordedRequest[] = [];
  readonly #o: TwilioRestServerOptions;
  readonly #https: Server;
  #calls = 0;

  constructor(options: TwilioRestServerOptions) {
    this.#o = options;
    this.#https = createServer({ cert: TLS_CERT, key: TLS_KEY }, (req, res) => void this.#handle(req, res));
  }

  /** Listens on 127.0.0.1 and resolves with the base URL (`https://127.0.0.1:<port>`). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#https.listen(0, '127.0.0.1', resolve));
    return this.baseUrl;
  }

  get baseUrl(): string {
    return `https://127.0.0.1:${(this.#https.address() as AddressInfo).port}`;
  }

  /** Closes the listener and any kept-alive connection (clients keep them open). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#https.close(() => resolve()));
    this.#https.closeAllConnections();
    await closed;
  }

  /** The form field `name` of a recorded request (the first, when repeated). */
  static field(req: RecordedRequest, name: string): string | undefined {
    return req.form.find(([k]) => k === name)?.[1];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    const record: RecordedRequest = {
      method: req.method ?? '',
      path,
      auth: basicAuth(req.headers.authorization),
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
      form: [],
      status: 0,
    };
    this.requests.push(record);
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      return this.#error(res, record, { status: 413, code: 20001, message: (err as Error).message });
    }
    // Twilio authenticates before anything else, so a bad token is 401 whatever the request.
    const sid = CALLS_PATH.exec(path)?.[1];
    const { accountSid, authToken } = this.#o;
    if (record.auth?.username !== accountSid || record.auth.password !== authToken || (sid !== undefined && sid !== accountSid)) {
      return this.#error(res, record, { status: 401, code: 20003, message: 'Authentication Error - invalid username' });
    }
    if (sid === undefined) {
      return this.#error(res, record, { status: 404, code: 20404, message: `The requested resource ${path} was not found` });
    }
    if (req.method !== 'POST') {
      return this.#error(res, record, { status: 405, code: 20004, message: 'Method not allowed' });
    }
    if (!(record.contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
      return this.#error(res, record, { status: 400, code: 20001, message: 'Content-Type must be application/x-www-form-urlencoded' });
    }
    record.form = [...new URLSearchParams(body)];
    const failure = this.#checkCall(record);
    if (failure !== undefined) return this.#error(res, record, failure);
    this.#send(res, record, 201, this.#callResource(record));
  }

  #checkCall(record: RecordedRequest): TwilioError | undefined {
    const to = TwilioRestServer.field(record, 'To');
    const from = TwilioRestServer.field(record, 'From');
    if (to === undefined || to === '') return { status: 400, code: 21201, message: "No 'To' number is specified" };
    if (from === undefined || from === '') return { status: 400, code: 21603, message: "A 'From' phone number is required." };
    const how = ['Url', 'Twiml', 'ApplicationSid'].filter((k) => TwilioRestServer.field(record, k) !== undefined);
    if (how.length === 0) return { status: 400, code: 21205, message: 'Url parameter is required.' };
    if (this.#o.invalidNumbers?.includes(to) === true) {
      return { status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` };
    }
    if (this.#o.ownedNumbers !== undefined && !this.#o.ownedNumbers.includes(from)) {
      return {
        status: 400,
        code: 21210,
        message: `The source phone number provided, ${from}, is not yet verified for your account. You may only make calls from phone numbers that you've verified or purchased from Twilio.`,
      };
    }
    return undefined;
  }

  /** The Call resource as the API returns it right after creation. */
  #callResource(record: RecordedRequest): Record<string, unknown> {
    this.#calls += 1;
    const sid = `CA${this.#calls.toString(16).padStart(32, '0')}`;
    const accountSid = this.#o.accountSid;
    const uri = `/${API_VERSION}/Accounts/${accountSid}/Calls/${sid}.json`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const to = TwilioRestServer.field(record, 'To')!;
    const from = TwilioRestServer.field(record, 'From')!;
    return {
      account_sid: accountSid,
      annotation: null,
      answered_by: null,
      api_version: API_VERSION,
      caller_name: null,
      date_created: now,
      date_updated: now,
      direction: 'outbound-api',
      duration: null,
      end_time: null,
      forwarded_from: null,
      from,
      from_formatted: from,
      group_sid: null,
      parent_call_sid: null,
      phone_number_sid: null,
      price: null,
      price_unit: 'USD',
      queue_time: '0',
      sid,
      start_time: null,
      status: 'queued',
      subresource_uris: {
        notifications: uri.replace('.json', '/Notifications.json'),
        recordings: uri.replace('.json', '/Recordings.json'),
        payments: uri.replace('.json', '/Payments.json'),
        events: uri.replace('.json', '/Events.json'),
        siprec: uri.replace('.json', '/Siprec.json'),
        streams: uri.replace('.json', '/Streams.json'),
        user_defined_message_subscriptions: uri.replace('.json', '/UserDefinedMessageSubscriptions.json'),
        user_defined_messages: uri.replace('.json', '/UserDefinedMessages.json'),
      },
      to,
      to_formatted: to,
      trunk_sid: null,
      uri,
    };
  }

  #error(res: ServerResponse, record: RecordedRequest, e: TwilioError): void {
    this.#send(res, record, e.status, {
      code: e.code,
      message: e.message,
      more_info: `https://www.twilio.com/docs/errors/${e.code}`,
      status: e.status,
    });
  }

  #send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown): void {
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function basicAuth(header: string | undefined): RecordedRequest['auth'] {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (m === null) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > BODY_LIMIT_BYTES) throw new Error(`request body over ${BODY_LIMIT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
