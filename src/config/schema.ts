/** The configuration's keys, their types and limits, and their defaults (layers: src/config.ts). */

import { z } from 'zod';
import { cidrListProblem } from '../wire/cidr.ts';
import { parseCaptureSpec, parsePlaybackSpec } from '../devices/deviceSpec.ts';

/** True when `parse` takes the text (the message of its RangeError is the spec's forms). */
const parses = (parse: (t: string) => unknown) => (t: string) => {
  try {
    parse(t);
    return true;
  } catch {
    return false;
  }
};

export const CONFIG_FILE = 'switchboard.config.json';
export const ENV_PREFIX = 'SWITCHBOARD_';
/** Names a config file in the environment, below `--config`. */
export const ENV_CONFIG_FILE = 'SWITCHBOARD_CONFIG';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The agents of DESIGN.md; one is the default for calls that name none. */
export const AGENTS = ['echo', 'loopback', 'tone', 'openai', 'pipeline'] as const;

const int = (min: number, max: number) =>
  z.number().int().min(min).max(max).describe(`an integer ${min}–${max}`);
// RTP takes the even port of a pair and RTCP the odd one above it (RFC 3550 §11).
const rtpPort = z
  .number()
  .int()
  .min(1024)
  .max(65534)
  .refine((n) => n % 2 === 0)
  .describe('an even integer 1024–65534');

/** Twilio signs the URL it requested: a public URL with credentials, a query or a fragment is not one it requests. */
function plainHttpsUrl(text: string): boolean {
  // Refinements run after a failed check too; a text that is no URL at all is z.url()'s to report.
  if (!URL.canParse(text)) return true;
  const u = new URL(text);
  return u.username === '' && u.password === '' && u.search === '' && u.hash === '';
}

/**
 * One stage of the pipeline agent. `apiKeyEnv` names the environment variable
 * that holds its key (keys never sit in the config); empty for a server that
 * takes none.
 */
const pipelineStage = (model: string) =>
  z.strictObject({
    baseUrl: z.url({ protocol: /^https?$/ }).describe('an http(s) URL such as https://api.openai.com/v1'),
    model: z.string().min(1).describe(model),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$|^$/).describe('an environment variable name, or empty for no key'),
  });

export const ConfigSchema = z.strictObject({
  host: z.string().min(1).describe('a host name or IP address'),
  port: int(0, 65535),
  mediaWorkers: int(1, 256),
  networkWorkers: int(1, 64),
  agentWorkers: int(1, 64),
  captureWorkers: int(1, 16),
  /**
   * `call`: each call's actors on one call worker (as many as mediaWorkers), ticked in order so a
   * frame crosses the call within its tick; `kind`: media, network and agent pools of their own.
   */
  placement: z.enum(['call', 'kind']).describe('call or kind'),
  /** One loaded spare thread per worker kind, so a restart is one message, not a thread start. */
  spareThreads: z.boolean().describe('true or false'),
  controlToken: z.string().min(1).describe('a non-empty string').optional(),
  /**
   * Opens the read routes (/status, /metrics, /dashboard), which show callers' numbers, CallSids
   * and DTMF digits, and nothing else: for a dashboard or a scraper that must not place calls.
   * Once set they need it (or the control token) on any bind; on a non-loopback bind they need a
   * token anyway.
   */
  statusToken: z.string().min(1).describe('a non-empty string').optional(),
  enableFaultInjection: z.boolean().describe('true or false'),
  logLevel: z.enum(LOG_LEVELS).describe(`one of ${LOG_LEVELS.join(', ')}`),
  drainDeadlineMs: int(0, 3_600_000),
  rtp: z
    .strictObject({
      portMin: rtpPort,
      portMax: rtpPort,
      /** A call whose peer sends neither RTP nor RTCP this long is over (a peer gone without BYE). */
      idleTimeoutMs: int(1000, 3_600_000),
      /**
       * The address RTP legs bind (a trunk must reach it); defaults to `host`. Separate from
       * `host` so media can face the network while the control API stays on loopback.
       */
      bindHost: z.string().min(1).describe('an IP address of this machine').optional(),
      /**
       * The networks a `latch` call's peer may be learned from; packets from elsewhere never
       * become the peer. Unset: any source that passes the latch probation.
       */
      latchCidr: z
        .union([z.string(), z.array(z.string())])
        .refine((v) => cidrListProblem(v) === undefined)
        .describe('CIDR blocks such as "10.0.0.0/8,2001:db8::/32" (a comma-separated string or an array)')
        .optional(),
    })
    .superRefine((r, ctx) => {
      if (r.portMin >= r.portMax) {
        ctx.addIssue({
          code: 'custom',
          path: ['portMin'],
          message: `expected a port below rtp.portMax (${r.portMax})`,
          params: { explained: true },
        });
      }
    }),
  // SIP (RFC 3261) over UDP and TCP on `port`, TLS on `tlsPort` with `tls.*` (src/legs/sip/).
  sip: z.strictObject({
    /** Off by default: a second daemon on the machine (or a test) must not fight for 5060. */
    enabled: z.boolean().describe('true or false'),
    port: int(0, 65535),
    tlsPort: int(0, 65535),
    /** The address SIP binds; defaults to `rtp.bindHost`, else `host`. */
    bindHost: z.string().min(1).describe('an IP address of this machine').optional(),
    /** The address peers reach us at (Via, Contact, SDP) when bindHost is a wildcard such as 0.0.0.0. */
    advertise: z.string().min(1).describe('an IP address or host name peers reach').optional(),
    /** Request-URI users routed to agents, e.g. "support=openai,test=echo"; other users name the agent themselves. */
    routes: z
      .string()
      .regex(/^[^=,\s]+=[A-Za-z]+(,[^=,\s]+=[A-Za-z]+)*$/)
      .describe('"user=agent" pairs, comma-separated')
      .optional(),
    /** The networks that may send SIP (unset: any). */
    allow: z
      .union([z.string(), z.array(z.string())])
      .refine((v) => cidrListProblem(v) === undefined)
      .describe('CIDR blocks such as "10.0.0.0/8,2001:db8::/32"')
      .optional(),
    /** Digest authentication of INVITEs (RFC 8760): "user:password" pairs, comma-separated; unset: none. */
    authUsers: z
      .string()
      .regex(/^[^:,]+:[^,]+(,[^:,]+:[^,]+)*$/)
      .describe('"user:password" pairs, comma-separated')
      .optional(),
    authRealm: z.string().min(1).describe('a realm such as the host name'),
    /** New INVITEs a second from one address (twice as many in a burst); beyond, they are dropped and counted. */
    invitesPerSecond: int(1, 100_000),
    /** Credentials for a trunk that challenges our outbound INVITEs. */
    trunk: z
      .strictObject({ username: z.string().min(1).describe('a user name'), password: z.string().min(1).describe('a password') })
      .optional(),
    /** Keep a binding at a registrar (RFC 3261 §10), answered with `trunk` when challenged; calls to `user` reach the default agent. */
    register: z
      .strictObject({
        registrar: z.string().regex(/^sip:[A-Za-z0-9.\-]+(:\d{1,5})?$/).describe('"sip:host[:port]"'),
        user: z.string().regex(/^[A-Za-z0-9+\-_.!~*'()]{1,64}$/).describe('a SIP user name such as an extension or +15551234567'),
        expiresS: int(60, 86_400),
      })
      .optional(),
  }),
  /** A certificate and key (PEM files) for TLS listeners (SIP TLS on sip.tlsPort). */
  tls: z.strictObject({
    cert: z.string().min(1).describe('a path to a PEM certificate').optional(),
    key: z.string().min(1).describe('a path to a PEM private key').optional(),
  }),
  agent: z.strictObject({ default: z.enum(AGENTS).describe(`one of ${AGENTS.join(', ')}`) }),
  // The `openai` agent (OpenAI Realtime API). The key is OPENAI_API_KEY, from the environment only.
  openai: z.strictObject({
    baseUrl: z.url().describe('an http(s) URL such as https://api.openai.com/v1'),
    model: z.string().min(1).describe('a Realtime model name'),
    voice: z.string().min(1).describe('a voice name such as marin'),
    instructions: z.string().describe('the session instructions'),
    /** A JSON file holding the session's `tools` array (function definitions). */
    toolsFile: z.string().min(1).describe('a path to a JSON file holding an array of tools').optional(),
    /** A PEM file of extra trusted CAs for the Realtime endpoint (a private gateway). */
    caFile: z.string().min(1).describe('a path to a PEM file').optional(),
    /** A lost session is re-opened after this long, doubling per attempt (five attempts per outage). */
    reconnectBaseMs: int(10, 60_000),
  }),
  // The `pipeline` agent: STT → LLM → TTS, each an OpenAI-compatible HTTP API of its own.
  pipeline: z.strictObject({
    /** Silence after the caller's speech that ends a turn (the VAD's hangover). */
    hangoverMs: int(20, 5000),
    /** A stage that sends nothing this long has timed out (retried once). */
    timeoutMs: int(100, 120_000),
    stt: pipelineStage('a transcription model such as whisper-1').extend({
      /** Ask for the transcript as server-sent events (`stream: true`), where the server supports it. */
      stream: z.boolean().describe('true or false'),
    }),
    llm: pipelineStage('a chat model such as gpt-4o-mini').extend({
      instructions: z.string().describe('the system message'),
      /** A JSON file holding the chat `tools` array (function definitions). */
      toolsFile: z.string().min(1).describe('a path to a JSON file holding an array of tools').optional(),
    }),
    tts: pipelineStage('a speech model such as gpt-4o-mini-tts').extend({
      voice: z.string().min(1).describe('a voice name such as alloy'),
    }),
  }),
  twilio: z.strictObject({
    /**
     * The public https URL Twilio reaches this daemon at (e.g. https://voice.example.com):
     * what Twilio signs its requests with, and where the TwiML points the stream
     * (wss://…/twilio/media). Without it both come from the request's Host header.
     */
    publicUrl: z
      .url({ protocol: /^https$/ })
      .refine(plainHttpsUrl)
      .describe('an https URL without credentials, query or fragment, such as https://voice.example.com')
      .optional(),
    /**
     * On a non-loopback bind without TWILIO_AUTH_TOKEN the daemon refuses to start, since anyone
     * could then open calls on /twilio/media; true accepts unsigned webhooks and streams there
     * (a proxy in front authenticates them). With the token, signatures are checked regardless.
     */
    allowUnsigned: z.boolean().describe('true or false'),
    /** A stream that sends nothing this long is treated as gone (Twilio sends media every 20 ms). */
    idleTimeoutMs: int(100, 600_000),
  }),
  // The raw audio stream (WS /v1/stream, DESIGN: "The raw audio stream protocol").
  stream: z.strictObject({
    /** A ping goes out this often; a client that answers nothing (no pong, no message) for two periods is gone. */
    pingIntervalMs: int(100, 600_000),
    /** A WebSocket message longer than this closes the stream with 1009 (a 20 ms L16 frame at 48 kHz is 1928 bytes). */
    maxMessageBytes: int(64, 1024 * 1024),
  }),
  http: z
    .strictObject({
      bodyLimitBytes: int(64, 16 * 1024 * 1024),
      /**
       * TCP connections at once, WebSockets included (each Twilio call holds one); beyond, new ones
       * are closed on accept and counted. Keep it below the process's file limit (ulimit -n) less
       * two UDP sockets per RTP call.
       */
      maxConnections: int(16, 1_000_000),
      /**
       * Open WebSockets from one address (IPv6: one /64); beyond, the upgrade gets 429. Twilio opens
       * every stream of a region from a few addresses of its own, so this must exceed the Twilio
       * calls one instance carries; below maxConnections so one address cannot take them all.
       */
      maxWebSocketsPerIp: int(1, 1_000_000),
      /** A request's headers must all arrive within this (a slow sender gets 408 and is cut). */
      headersTimeoutMs: int(100, 600_000),
      /** A whole request, body included, must arrive within this (408). */
      requestTimeoutMs: int(100, 3_600_000),
      /** An idle keep-alive connection is closed after this. */
      keepAliveTimeoutMs: int(100, 600_000),
    })
    .superRefine((h, ctx) => {
      // node:http refuses a headers timeout longer than the request timeout.
      if (h.headersTimeoutMs > h.requestTimeoutMs) {
        ctx.addIssue({
          code: 'custom',
          path: ['headersTimeoutMs'],
          message: `expected at most http.requestTimeoutMs (${h.requestTimeoutMs})`,
          params: { explained: true },
        });
      }
    }),
  limits: z.strictObject({
    /**
     * Calls at once at most; beyond, new ones get 503 with Retry-After (WebSockets: close 1013).
     * Default: MAX_CALLS_PER_MEDIA_WORKER for each media worker the cores can run at once.
     */
    maxCalls: int(1, 1_000_000).optional(),
  }),
  recording: z.strictObject({
    /** Where recordings are written (`<id>.wav` live, `.opus`/`.mp3` after the call, `<id>.json` metadata). */
    dir: z.string().min(1).describe('a directory path'),
    /** Finished recordings older than this are deleted (checked at start and hourly). */
    retentionDays: int(1, 36_500),
    /** Recordings written at once at most; beyond, `record: true` is refused with 503. */
    maxActive: int(1, 100_000),
    /** Record every Twilio call (a stream's `record` custom parameter asks for one call). */
    twilio: z.boolean().describe('true or false'),
    /** Post-call jobs: Ogg Opus (mono mix) and MP3 (two channels) copies, and the caller channel's quality report. */
    opus: z.boolean().describe('true or false'),
    mp3: z.boolean().describe('true or false'),
    report: z.boolean().describe('true or false'),
    /** Threads of the post-call job pool, at the lowest CPU priority. */
    jobThreads: int(1, 64),
    /** Jobs waiting at most; more are refused and reported failed. */
    jobQueue: int(1, 1_000_000),
  }),
  /**
   * Local audio: at start the daemon places one capture call whose caller is this source
   * (src/devices/deviceSpec.ts) and whose audio plays to `playback`. A device that is missing
   * or cannot run is logged in one line and the daemon runs without it (capture: no call;
   * playback: the call plays nowhere).
   */
  capture: z.string().refine(parses(parseCaptureSpec)).describe('device:NAME, file:PATH.wav, tone:HZ or none'),
  playback: z.string().refine(parses(parsePlaybackSpec)).describe('device:NAME or none'),
  devices: z.strictObject({
    /** What the playback device plays of the capture call: the agent, the caller (a monitor), or both. */
    listen: z.enum(['agent', 'caller', 'both']).describe('agent, caller or both'),
    /** PortAudio's block: 10 or 20 ms of 48 kHz audio per device buffer. */
    blockMs: z.union([z.literal(10), z.literal(20)]).describe('10 or 20'),
  }),
  metrics: z.strictObject({
    /**
     * One /metrics series per call, actor kind and QoS figure, besides the aggregates and
     * histograms. Off by default: about 30 series a call (megabytes a scrape at hundreds of
     * calls); /status has every call's figures.
     */
    perCallSeries: z.boolean().describe('true or false'),
  }),
});

/** Credentials, read from the environment only and never reported. */
export interface Secrets {
  openaiApiKey?: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
}

export const SECRET_ENV: Readonly<Record<keyof Secrets, string>> = {
  openaiApiKey: 'OPENAI_API_KEY',
  twilioAccountSid: 'TWILIO_ACCOUNT_SID',
  twilioAuthToken: 'TWILIO_AUTH_TOKEN',
};

export type Config = z.infer<typeof ConfigSchema> & {
  readonly secrets: Secrets;
  /** The file the configuration came from, when there was one. */
  readonly configFile: string | undefined;
};

export function defaults(parallelism: number): z.input<typeof ConfigSchema> {
  return {
    host: '127.0.0.1',
    port: 8080,
    mediaWorkers: parallelism,
    networkWorkers: 1,
    agentWorkers: 1,
    captureWorkers: 1,
    placement: 'call',
    spareThreads: true,
    enableFaultInjection: false,
    logLevel: 'info',
    drainDeadlineMs: 30_000,
    rtp: { portMin: 10_000, portMax: 20_000, idleTimeoutMs: 60_000 },
    sip: { enabled: false, port: 5060, tlsPort: 5061, authRealm: 'switchboard', invitesPerSecond: 50 },
    tls: {},
    agent: { default: 'echo' },
    openai: {
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-realtime',
      voice: 'marin',
      instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
      reconnectBaseMs: 250,
    },
    pipeline: {
      hangoverMs: 500,
      timeoutMs: 10_000,
      stt: { baseUrl: 'https://api.openai.com/v1', model: 'whisper-1', apiKeyEnv: 'OPENAI_API_KEY', stream: false },
      llm: {
        baseUrl: 'https://api.openai.com/v1',
        model: 'gpt-4o-mini',
        apiKeyEnv: 'OPENAI_API_KEY',
        instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
      },
      tts: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini-tts', voice: 'alloy', apiKeyEnv: 'OPENAI_API_KEY' },
    },
    twilio: { idleTimeoutMs: 10_000, allowUnsigned: false },
    stream: { pingIntervalMs: 5_000, maxMessageBytes: 4096 },
    http: {
      bodyLimitBytes: 65_536,
      maxConnections: 1024,
      maxWebSocketsPerIp: 500,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    },
    limits: {},
    recording: {
      dir: 'recordings',
      retentionDays: 30,
      maxActive: 1000,
      twilio: false,
      opus: true,
      mp3: true,
      report: true,
      jobThreads: 1,
      jobQueue: 1000,
    },
    metrics: { perCallSeries: false },
    capture: 'none',
    playback: 'none',
    devices: { listen: 'agent', blockMs: 20 },
  };
}
