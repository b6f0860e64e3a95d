import { configHelp, ConfigError, loadConfig, publicConfig, type Config } from '../config.ts';
import { preflight } from '../config/preflight.ts';
import { createLogger, type Logger } from '../log.ts';
import { assertSafeBind, createHttpServer, type HttpServer } from '../server/server.ts';
import type { Runtime } from '../supervisor/Runtime.ts';
import { createRuntime } from '../supervisor/createRuntime.ts';
import { DeviceCatalog } from '../devices/DeviceCatalog.ts';
import { startLocalAudio } from './localAudio.ts';

/**
 * `switchboard start`: the daemon. Loads the configuration, starts the
 * runtime (workers and actors) and the HTTP server, and runs until told to
 * stop.
 *
 * Stopping:
 * - SIGTERM or SIGINT: drain (no new calls; live ones get up to
 *   drainDeadlineMs to end), stop the workers, close HTTP; exit code 0.
 * - A second SIGTERM/SIGINT while stopping: exit at once with code 130
 *   (128 + SIGINT, the shell's code for an interrupted command), whichever
 *   signal it was.
 * - A fault in one call's handling ends that call (logged, counted in
 *   switchboard_call_errors_total); the handlers of every call catch their
 *   own. What still escapes to the process is a broken invariant of the
 *   process itself: logged, then the live calls are drained (up to
 *   drainDeadlineMs) and the daemon stops with exit code 1. A failure to
 *   start (runtime, port in use) stops it at once with exit code 1.
 * - A bad configuration, or one this machine cannot run (an RTP address it
 *   lacks, a tools or CA file that is missing or malformed; see
 *   config/preflight.ts): the message on stderr, exit code 2, nothing started.
 */

/** Exit code of a forced exit (second signal). */
export const FORCED_EXIT_CODE = 130;
/** Beyond the drain deadline, stopping workers and HTTP may take this long before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;
/**
 * After an orderly stop the event loop should be empty and the process end by
 * itself; if something still holds it (a stuck handle), it is ended after this.
 */
export const LINGER_MS = 2_000;

const HELP = `usage: switchboard start [options]

Runs the daemon. Options override environment variables, which override the
config file, which overrides the defaults. OPENAI_API_KEY, TWILIO_ACCOUNT_SID
and TWILIO_AUTH_TOKEN are read from the environment.

options (flag, environment variable, expected value):
${configHelp()}

SIGTERM or SIGINT drains and stops (exit 0); a second one exits at once (exit ${FORCED_EXIT_CODE}).`;

/**
 * glibc serves allocations below a threshold from its heap, and raises the
 * threshold each time a larger block is freed: after one burst of calls the
 * rings' 100–300 KB buffers come from the heap, and freeing them does not
 * give the memory back. A fixed threshold keeps them in their own mappings,
 * returned when freed (`mallopt(M_MMAP_THRESHOLD)`, read from the
 * environment at process start only).
 */
const MALLOC_MMAP_ENV = 'MALLOC_MMAP_THRESHOLD_';
const MALLOC_MMAP_THRESHOLD = 65_536;

interface StopRequest {
  code: number;
  drain: boolean;
}

export async function start(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig({ argv: args, env: process.env, cwd: process.cwd() });
    assertSafeBind(config);
    await preflight(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const log = createLogger({ level: config.logLevel });
  log.info({ config: publicConfig(config) }, 'starting');
  if (process.platform === 'linux' && process.env[MALLOC_MMAP_ENV] === undefined) {
    log.warn(
      { env: `${MALLOC_MMAP_ENV}=${MALLOC_MMAP_THRESHOLD}` },
      "memory of ended calls may not return to the system after a spike: start with this in the environment (npm start sets it)",
    );
  }
  const code = await runDaemon(config, log);
  // Unref'd: it fires only if something else still keeps the process alive.
  setTimeout(() => process.exit(code), LINGER_MS).unref();
  return code;
}

async function runDaemon(config: Config, log: Logger): Promise<number> {
  let stop: StopRequest | undefined;
  let wake = (): void => undefined;
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const requestStop = (req: StopRequest): void => {
    stop = req;
    wake();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop !== undefined) {
      log.warn({ signal, code: FORCED_EXIT_CODE }, 'second signal while stopping: exiting now');
      process.exit(FORCED_EXIT_CODE);
    }
    log.info({ signal, deadlineMs: config.drainDeadlineMs }, 'signal received: draining, then stopping');
    requestStop({ code: 0, drain: true });
  };
  const onUncaught = (err: unknown, origin: string): void => {
    log.fatal({ err, origin }, 'uncaught exception on the main thread: draining, then stopping');
    if (stop === undefined) requestStop({ code: 1, drain: true });
    else stop.code = 1;
  };
  const onUnhandledRejection = (reason: unknown): void => onUncaught(reason, 'unhandledRejection');
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandledRejection);

  let runtime: Runtime | undefined;
  let http: HttpServer | undefined;
  try {
    // Sound devices are scanned in a child process beside start-up (one log line: found, or why none).
    const deviceCatalog = new DeviceCatalog();
    const scanned = deviceCatalog.scan(log);
    runtime = await createRuntime({ ...config, deviceCatalog }, log);
    http = createHttpServer(runtime, config, log);
    const { host, port } = await http.listen();
    const shown = host.includes(':') ? `[${host}]` : host;
    log.info({ url: `http://${shown}:${port}/`, host, port }, 'listening');
    if (config.capture !== 'none' || config.playback !== 'none') {
      await scanned;
      await startLocalAudio(runtime, config, log);
    }
  } catch (err) {
    log.fatal({ err }, 'start-up failed');
    if (stop === undefined) requestStop({ code: 1, drain: false });
    else stop.code = 1;
  }

  await stopRequested;
  const { drain } = stop!;
  const overrun = setTimeout(
    () => {
      log.error('stopping took too long: exiting');
      process.exit(1);
    },
    (drain ? config.drainDeadlineMs : 0) + SHUTDOWN_GRACE_MS,
  );
  overrun.unref();

  if (drain && runtime !== undefined) {
    await runtime.drain(config.drainDeadlineMs).catch((err: unknown) => log.error({ err }, 'drain failed'));
  }
  await runtime?.stop().catch((err: unknown) => {
    log.error({ err }, 'stopping the runtime failed');
    stop!.code = 1;
  });
  await http?.close();
  clearTimeout(overrun);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandledRejection);
  log.info({ code: stop!.code }, 'stopped');
  return stop!.code;
}
