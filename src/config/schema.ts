/** The configuration's keys, their types and limits, and their defaults (layers: src/config.ts). */

import { z } from 'zod';

export const CONFIG_FILE = 'switchboard.config.json';
export const ENV_PREFIX = 'SWITCHBOARD_';
/** Names a config file in the environment, below `--config`. */
export const ENV_CONFIG_FILE = 'SWITCHBOARD_CONFIG';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The agents of DESIGN.md; one is the default for calls that name none. */
export const AGENTS = ['echo', 'loopback', 'tone', 'openai'] as const;

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

export const ConfigSchema = z.strictObject({
  host: z.string().min(1).describe('a host name or IP address'),
  port: int(0, 65535),
  mediaWorkers: int(1, 256),
  networkWorkers: int(1, 64),
  agentWorkers: int(1, 64),
  captureWorkers: int(1, 16),
  controlToken: z.string().min(1).describe('a non-empty string').optional(),
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
  }),
  twilio: z.strictObject({
    /**
     * The public https URL Twilio reaches this daemon at (e.g. https://voice.example.com):
     * what Twilio signs its requests with, and where the TwiML points the stream
     * (wss://…/twilio/media). Without it both come from the request's Host header.
     */
    publicUrl: z.url().describe('an https URL such as https://voice.example.com').optional(),
    /** A stream that sends nothing this long is treated as gone (Twilio sends media every 20 ms). */
    idleTimeoutMs: int(100, 600_000),
  }),
  http: z.strictObject({ bodyLimitBytes: int(64, 16 * 1024 * 1024) }),
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
    enableFaultInjection: false,
    logLevel: 'info',
    drainDeadlineMs: 30_000,
    rtp: { portMin: 10_000, portMax: 20_000, idleTimeoutMs: 60_000 },
    agent: { default: 'echo' },
    openai: {
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-realtime',
      voice: 'marin',
      instructions: 'You are a helpful voice assistant answering a phone call. Keep your answers short.',
    },
    twilio: { idleTimeoutMs: 10_000 },
    http: { bodyLimitBytes: 65_536 },
  };
}
