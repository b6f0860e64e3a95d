import type { ActorKind } from './ActorKind.ts';
import { agentKind } from './agent/kind.ts';
import { captureKind } from './capture/kind.ts';
import { jitterKind } from './jitter/kind.ts';
import { rtpKind } from './rtp/kind.ts';
import { streamKind } from './stream/kind.ts';
import { twilioKind } from './twilio/kind.ts';

/** Every actor kind the supervisor can place: one line each. */
export const ACTOR_KINDS: Readonly<Record<string, ActorKind>> = {
  capture: captureKind,
  jitter: jitterKind,
  agent: agentKind,
  rtp: rtpKind,
  twilio: twilioKind,
  stream: streamKind,
};
