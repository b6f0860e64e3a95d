import type { FuzzTarget } from './FuzzTarget.ts';
import { configEnvTarget, configFileTarget } from './targets/config.ts';
import { authTarget, callsBodyTarget, jsonBodyTarget, pathTarget } from './targets/http.ts';
import { base64Target, quoteTarget, twilioTarget } from './targets/twilio.ts';
import { streamControlTarget, streamHeaderTarget } from './targets/stream.ts';
import { webhookTarget } from './targets/webhook.ts';
import { sipTarget } from './targets/sip.ts';
import { dtmfTarget, rtcpTarget, rtpTarget, srtpTarget } from './targets/wire.ts';

/**
 * Every fuzzed entry point, one line each. A new parser (SIP, SDP, the raw
 * stream header) adds a `fuzzTarget({...})` in test/fuzz/targets/ and its
 * name here; the property test and `npm run fuzz` pick it up.
 */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  rtpTarget,
  rtcpTarget,
  srtpTarget,
  dtmfTarget,
  twilioTarget,
  base64Target,
  quoteTarget,
  jsonBodyTarget,
  callsBodyTarget,
  pathTarget,
  authTarget,
  webhookTarget,
  configEnvTarget,
  configFileTarget,
  streamHeaderTarget,
  streamControlTarget,
  sipTarget,
];
