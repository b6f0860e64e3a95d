import { ConfigError, type Config } from '../config.ts';

/**
 * What the daemon's port needs when others can reach it. On a loopback bind
 * only this machine's users can connect, and the routes stay as open as the
 * tokens set make them. On any other bind:
 * - the control API needs the control token (no token: refuse to start);
 * - the read routes (status, metrics, dashboard: callers' numbers, CallSids,
 *   DTMF digits) need the status or the control token;
 * - the Twilio routes need TWILIO_AUTH_TOKEN, so every webhook and stream is
 *   signed, or an explicit `twilio.allowUnsigned` (no token and no such
 *   setting: refuse to start, since anyone could open calls).
 * `/healthz` and `/readyz` stay open: orchestrators probe them.
 */

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(?:::ffff:)?127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * Refusing to start is kinder than starting open: an operator sees the
 * reason at once instead of learning it from calls nobody placed. Throws
 * ConfigError naming what to set.
 */
export function assertSafeBind(config: Pick<Config, 'host' | 'controlToken' | 'twilio' | 'secrets'>): void {
  if (isLoopback(config.host)) return;
  if (config.controlToken === undefined) {
    throw new ConfigError(
      `config: host: refusing to listen on ${config.host}, which is not a loopback address, without a control token; ` +
        'set one (SWITCHBOARD_CONTROL_TOKEN or --control-token) or listen on 127.0.0.1',
    );
  }
  if (config.secrets.twilioAuthToken === undefined && !config.twilio.allowUnsigned) {
    throw new ConfigError(
      `config: twilio.allowUnsigned: refusing to take unsigned Twilio webhooks and Media Streams on ${config.host}, ` +
        'which is not a loopback address (anyone could open calls); set TWILIO_AUTH_TOKEN so every request must carry ' +
        'a valid X-Twilio-Signature, or, where a proxy in front authenticates Twilio, twilio.allowUnsigned: true ' +
        '(SWITCHBOARD_TWILIO__ALLOW_UNSIGNED or --twilio.allow-unsigned)',
    );
  }
}

/** Whether the read routes need a token: once a status token is set, and always on a non-loopback bind. */
export function readsGuarded(config: Pick<Config, 'host' | 'statusToken'>): boolean {
  return config.statusToken !== undefined || !isLoopback(config.host);
}
