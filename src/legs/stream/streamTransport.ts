import { agentActorConfig, type AgentSettings } from '../../supervisor/agentConfig.ts';
import { RequestError } from '../../supervisor/Runtime.ts';
import { isRangeError, type Transport } from '../../calls/transports.ts';
import { legCall } from '../../calls/CallGraph.ts';
import { STREAM_CODECS } from '../../wire/streamControl.ts';
import { buildStreamStarted } from '../../wire/streamControl.ts';
import { StreamSession } from './StreamSession.ts';

export interface StreamTransportOptions {
  agents: AgentSettings;
  /** The leg's lead over the client's playout, ms (default 60). */
  leadMs?: number;
}

/**
 * The `stream` call transport: calls made by a raw audio stream's `start`
 * (`WS /v1/stream`), never by `POST /v1/calls` (the request carries the
 * socket's session). Builds jitter/PLC at the stream's codec and rate → agent
 * → the stream leg, hands the session its rings, and answers the client
 * `started` with the call's id. `record` and `conference` from `start` stay
 * on the request for the registry to act on.
 */
export function streamTransport(opts: StreamTransportOptions): Transport {
  return {
    name: 'stream',
    async create(req, ctx) {
      const session = req['session'];
      if (!(session instanceof StreamSession) || session.start === undefined) {
        throw new RequestError(422, 'transport: "stream" calls are made by the raw audio stream (WS /v1/stream), not by this API');
      }
      const start = session.start;
      const codec = STREAM_CODECS[start.codec];
      const rateHz = start.rateHz;
      const agentConfig = agentActorConfig(req['agent'], rateHz, codec === 'PCMU', opts.agents);
      try {
        const leg = { kind: 'stream', config: { codec, rateHz, ...(opts.leadMs === undefined ? {} : { leadMs: opts.leadMs }) } };
        const { jitter, leg: legId } = await ctx.build(legCall(leg, { codec, rateHz }, agentConfig, { packets: false }));
        const delayMs = ctx.statOf?.(jitter!, 'currentDelayMs');
        session.bind(
          { packets: ctx.ringOf(jitter!, 'in')!, wire: ctx.ringOf(legId!, 'wire')!, echo: ctx.ringOf(legId!, 'echo')!, ...(delayMs ? { delayMs } : {}) },
          (reason) => ctx.end(reason),
        );
        session.sendText(buildStreamStarted(ctx.callId));
        return {
          answer: { stream: { codec: start.codec, rateHz, ...(start.custom !== undefined ? { custom: start.custom } : {}) }, agent: agentConfig['agent'] },
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
