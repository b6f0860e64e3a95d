import type { Caller, CallerContext } from './Caller.ts';

/**
 * The legs a load run can call over, one module each: a new leg (the raw
 * `stream`, WebRTC, SIP) is a caller module and a line here.
 */
export const TRANSPORT_NAMES = ['rtp', 'twilio', 'sip'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Loaded on the caller threads only, so the driver's main thread never loads a codec or a socket. */
export async function loadTransport(name: TransportName): Promise<(ctx: CallerContext) => Caller> {
  switch (name) {
    case 'rtp':
      return (await import('./RtpCaller.ts')).createRtpCaller;
    case 'twilio':
      return (await import('./TwilioCaller.ts')).createTwilioCaller;
    case 'sip':
      return (await import('./SipCaller.ts')).createSipCaller;
  }
}
