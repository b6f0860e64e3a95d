import { quote } from '../../wire/text.ts';
import { RequestError, type CallRequest } from '../../supervisor/Runtime.ts';
import type { Transport, TransportContext } from '../../calls/transports.ts';
import type { RtpTransport } from '../rtp/rtpTransport.ts';
import { parseSipUri } from '../../wire/sipHeaders.ts';
import { InboundCall } from './InboundCall.ts';
import { OutboundCall } from './OutboundCall.ts';
import type { SipCore } from './SipDialog.ts';

export interface SipTransportOptions {
  rtp: RtpTransport;
  /** The running SIP stack, or undefined when SIP is off (an outbound call is then a 503). */
  stack(): SipCore | undefined;
  /** `sip.trunk`: credentials for a trunk's digest challenge. */
  trunk?: { username: string; password: string } | undefined;
}

/** Extra headers an outbound call may carry: X- headers only, short, printable. */
function extraHeaders(v: unknown): Array<[string, string]> {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RequestError(422, 'headers: expected an object of "X-Name": "value"');
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(v)) {
    if (!/^X-[A-Za-z0-9-]{1,64}$/i.test(name)) throw new RequestError(422, `headers: only X- header names of 1–64 letters, digits and hyphens, got ${quote(name)}`);
    if (typeof value !== 'string' || !/^[\x20-\x7e]{0,256}$/.test(value)) throw new RequestError(422, `headers.${name}: expected printable ASCII up to 256 characters`);
    out.push([name.toLowerCase(), value]);
  }
  if (out.length > 16) throw new RequestError(422, 'headers: at most 16');
  return out;
}

/**
 * The `sip` call transport. A SIP call is an RTP call whose remote and codec
 * come from SDP: inbound (an INVITE, req.inbound from the SIP stack) it makes
 * the RTP transport's call with the offer's media; outbound (`POST /v1/calls
 * {transport:"sip", to, from?, agent?, headers?}`) it reserves the RTP
 * transport's port pair, sends the INVITE and answers 201 at once, the leg
 * made on that pair when the peer answers (progress in the call's events).
 */
export function sipTransport(opts: SipTransportOptions): Transport {
  return {
    name: 'sip',
    async create(req: CallRequest, ctx: TransportContext) {
      const inbound = req['inbound'];
      if (inbound instanceof InboundCall) {
        inbound.bind((detail) => ctx.end(detail));
        const setup = await opts.rtp.create({ transport: 'rtp', ...(req['agent'] !== undefined ? { agent: req['agent'] } : {}), ...inbound.rtpRequest() }, ctx);
        return {
          answer: { ...setup.answer, sip: inbound.info() },
          release: () => {
            setup.release?.();
            inbound.hangup('the call ended');
          },
        };
      }
      return outbound(opts, req, ctx);
    },
  };
}

async function outbound(opts: SipTransportOptions, req: CallRequest, ctx: TransportContext) {
  const to = req['to'];
  const uri = typeof to === 'string' && to.length <= 256 ? parseSipUri(to) : undefined;
  if (uri === undefined || uri.scheme !== 'sip') throw new RequestError(422, `to: expected "sip:user@host[:port]", got ${quote(to)}`);
  const from = req['from'];
  if (from !== undefined && (typeof from !== 'string' || parseSipUri(from) === undefined)) throw new RequestError(422, `from: expected a sip: URI, got ${quote(from)}`);
  const headers = extraHeaders(req['headers']);
  const core = opts.stack();
  if (core === undefined) throw new RequestError(503, 'SIP is not enabled (sip.enabled)');
  let peer;
  try {
    peer = await OutboundCall.peerOf(uri);
  } catch (err) {
    throw new RequestError(422, `to: cannot resolve ${quote(uri.host)} [${(err as Error).message}]`);
  }
  const localPort = await opts.rtp.reserve();
  const call = new OutboundCall(core, opts.rtp, ctx, { to: to as string, uri, from: from === undefined ? undefined : `<${from}>`, agent: req['agent'], headers, trunk: opts.trunk }, localPort, peer);
  call.start();
  return {
    answer: { sip: { callId: call.sipCallId, to, direction: 'outbound' }, rtp: { localPort } },
    release: () => call.release(),
  };
}
