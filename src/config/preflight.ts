/**
 * Checks of the configuration against the machine, made once before the
 * daemon starts anything: values that read well but cannot work here (an RTP
 * address this machine does not have, a tools file that is not there). Each
 * failure is a ConfigError that names the key, where its value came from and
 * what was expected, as loadConfig's are; `switchboard start` exits 2.
 */

import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { configSource, type Config } from '../config.ts';
import { loadOpenAISettings } from '../supervisor/agentConfig.ts';
import { loadPipelineSettings } from '../supervisor/pipelineSettings.ts';
import { ConfigError } from './ConfigError.ts';
import { expectedAt } from './keys.ts';

const BIND_ERRORS: Readonly<Record<string, string>> = {
  EADDRNOTAVAIL: 'no such address on this machine (EADDRNOTAVAIL)',
  ENOTFOUND: 'no such host (ENOTFOUND)',
  EAI_AGAIN: 'the name does not resolve now (EAI_AGAIN)',
  EACCES: 'permission denied (EACCES)',
  EINVAL: 'not an address a socket can bind (EINVAL)',
};

/** Binds a UDP socket of the kind an RTP leg opens (src/actors/rtp/RtpLeg.ts) to any port of `host`; the error code, if any. */
function tryBindUdp(host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(err.code ?? err.message);
    });
    socket.bind(0, host, () => {
      socket.close();
      resolve(undefined);
    });
  });
}

/**
 * Every RTP leg binds `rtp.bindHost`; an address the machine lacks would let
 * the daemon start ready and fail each RTP call with 503. One trial bind says
 * so at start (addresses in 127/8 and unspecified ones included, which a
 * list of interfaces would get wrong).
 */
async function checkRtpBindHost(config: Config): Promise<string | undefined> {
  const host = config.rtp.bindHost;
  if (host === undefined) return undefined;
  const code = await tryBindUdp(host);
  if (code === undefined) return undefined;
  const why = BIND_ERRORS[code] ?? code;
  return (
    `config: rtp.bindHost: cannot bind UDP on ${JSON.stringify(host)} (from ${configSource(config, 'rtp.bindHost')}): ${why}; ` +
    `expected ${expectedAt(['rtp', 'bindHost'])}`
  );
}

function checkOpenAIFiles(config: Config): string | undefined {
  try {
    loadOpenAISettings(config.openai, undefined, (key) => configSource(config, key));
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

function checkPipelineFiles(config: Config): string | undefined {
  try {
    loadPipelineSettings(config.pipeline, {}, (key) => configSource(config, key));
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

/** Throws one ConfigError listing every problem found (one line each). */
export async function preflight(config: Config): Promise<void> {
  const problems = [await checkRtpBindHost(config), checkOpenAIFiles(config), checkPipelineFiles(config)].filter((p) => p !== undefined);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
}
