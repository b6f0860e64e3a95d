import { TWILIO_LEG_RATE_HZ } from '../actors/twilio/TwilioLeg.ts';
import { agentActorConfig, type AgentSettings } from './agentConfig.ts';
import { RequestError } from './Runtime.ts';
import { isRangeError, type Transport } from './transports.ts';
import { MediaStreamSession } from './twilio/MediaStreamSession.ts';

export interface TwilioTransportOptions {
  agents: AgentSettings;
  /** The leg's lead over Twilio's playout, ms (default 60). */
  leadMs?: number;
}

/**
 * The `twilio` call transport. Its calls are made by Twilio's Media Stream
 * (`WS /twilio/media`, on its `start` message), never by `POST /v1/calls`:
 * the request carries the stream's session, which a JSON body cannot. Builds
 * jitter/PLC (µ-law, 8 kHz; its packets come from the session) → agent → the
 * Twilio leg (network worker), and hands the session the rings it talks to.
 */
export function twilioTransport(opts: TwilioTransportOptions): Transport {
  return {
    name: 'twilio',
    async create(req, ctx) {
      const session = req['session'];
      if (!(session instanceof MediaStreamSession) || session.start === undefined) {
        throw new RequestError(422, 'transport: "twilio" calls are made by Twilio Media Streams (WS /twilio/media), not by this API');
      }
      const agentConfig = agentActorConfig(req['agent'], TWILIO_LEG_RATE_HZ, true, opts.agents);
      try {
        const jitter = await ctx.createActor('jitter', { codec: 'PCMU', rateHz: TWILIO_LEG_RATE_HZ }, ctx.callId);
        const agent = await ctx.createActor('agent', agentConfig, ctx.callId, { in: ctx.ringOf(jitter, 'out')! });
        const leg = await ctx.createActor('twilio', opts.leadMs === undefined ? {} : { leadMs: opts.leadMs }, ctx.callId, {
          in: ctx.ringOf(agent, 'out')!,
          heard: ctx.ringOf(agent, 'heard')!,
        });
        session.bind({ packets: ctx.ringOf(jitter, 'in')!, wire: ctx.ringOf(leg, 'wire')!, echo: ctx.ringOf(leg, 'echo')! }, ctx.emit);
        const start = session.start;
        return {
          actors: [leg, agent, jitter],
          answer: { twilio: { streamSid: start.streamSid, callSid: start.callSid, customParameters: start.customParameters }, agent: agentConfig['agent'] },
          release: () => session.hangup('call ended'),
          ended: () => session.endedReason,
          qos: () => ({ ...session.figures }),
        };
      } catch (err) {
        if (isRangeError(err)) throw new RequestError(422, err.message);
        throw err;
      }
    },
  };
}
