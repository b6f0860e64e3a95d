import { hostActors } from '../host.ts';
import { createAgent } from '../agent/createAgent.ts';
import { createJitterActor } from '../jitter/JitterActor.ts';
import { createRtpLeg } from '../rtp/RtpLeg.ts';
import { createTwilioLeg } from '../twilio/TwilioLeg.ts';
import { createStreamLeg } from '../stream/StreamLeg.ts';

/**
 * A call worker (placement `call`, ActorKind.ts): every per-call kind on one
 * thread, so a call's actors tick together in stage order.
 */
hostActors({ jitter: createJitterActor, agent: createAgent, rtp: createRtpLeg, twilio: createTwilioLeg, stream: createStreamLeg });
