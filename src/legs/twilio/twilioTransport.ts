import { TWILIO_LEG_RATE_HZ } from '../../actors/twilio/kind.ts';
import { agentActorConfig, type AgentSettings } from '../../supervisor/agentConfig.ts';
import { RequestError } from '../../supervisor/Runtime.ts';
import { isRangeError, type Transport } from '../../calls/transports.ts';
import { legCall } from '../../calls/CallGraph.ts';
import { MediaStreamSession } from './MediaStreamSession.ts';

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
        // The stream's packets come from this thread (the session), not from the leg actor.
        const leg = { kind: 'twilio', config: opts.leadMs === undefined ? {} : { leadMs: opts.leadMs } };
        const { jitter, leg: legId } = await ctx.build(legCall(leg, { codec: 'PCMU', rateHz: TWILIO_LEG_RATE_HZ }, agentConfig, { packets: false }));
        session.bind(
          { packets: ctx.ringOf(jitter!, 'in')!, wire: ctx.ringOf(legId!, 'wire')!, echo: ctx.ringOf(legId!, 'echo')! },
          ctx.emit,
          (reason) => ctx.end(reason),
        );
        const start = session.start;
        return {
          answer: { twilio: { streamSid: start.streamSid, callSid: start.callSid, customParameters: start.customParameters }, agent: agentConfig['agent'] },
          release: () => session.hangup('call ended'),
          qos: () => ({ ...session.figures }),
        };
      } catch (err) {
        if (isRangeError(err)) throw new RequestError(422, err.message);
        throw err;
      }
    },
  };
}
