import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { daemonRequest } from './daemonHttp.ts';

/**
 * The daemon a load run starts when it is given no target: `switchboard
 * start` as a child process, so its CPU and memory are its own and not the
 * driver's. It listens on a free port of 127.0.0.1 (port 0, read from its
 * `listening` log line), takes RTP ports from a range sized for the run,
 * and is allowed the calls and connections the run makes. It is ready when
 * `/readyz` says so, and is stopped with SIGTERM (a drain), or SIGKILL when
 * that does not end it.
 */

export interface DaemonChild {
  baseUrl: string;
  pid: number;
  /** The command line, for the report. */
  args: readonly string[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const LISTEN_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** Below the kernel's ephemeral range (32768–60999 on Linux), where the callers' own sockets bind. */
const RTP_PORT_FLOOR = 10_000;
const RTP_PORT_CEILING = 32_000;
/** Spare port pairs beyond one a call: pairs held while a call ends, and pairs other processes hold. */
const SPARE_PAIRS = 64;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** `node bin/switchboard.js start …` from a build; from source (tests, tsx) the CLI's module through tsx. */
function command(args: readonly string[]): string[] {
  if (!FROM_SOURCE) return [`${ROOT}bin/switchboard.js`, ...args];
  const main = new URL('../cli/main.ts', import.meta.url).href;
  const run = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).then((code) => { process.exitCode = code; })`;
  return ['--import', 'tsx', '-e', run, ...args];
}

/** The flags a run of `streams` calls needs; `seed` picks the RTP range, so parallel runs rarely meet. */
export function daemonArgs(streams: number, seed: number): string[] {
  const span = 2 * (streams + SPARE_PAIRS);
  const room = Math.max(0, RTP_PORT_CEILING - RTP_PORT_FLOOR - span);
  const portMin = RTP_PORT_FLOOR + 2 * Math.floor(((seed * 7919) % (room + 1)) / 2);
  return [
    'start',
    '--host', '127.0.0.1',
    '--port', '0',
    '--log-level', 'info',
    '--drain-deadline-ms', '2000',
    '--rtp.port-min', String(portMin),
    '--rtp.port-max', String(Math.min(65_534, portMin + span)),
    '--limits.max-calls', String(streams + 16),
    '--http.max-connections', String(Math.max(1024, 2 * streams + 256)),
    '--http.max-web-sockets-per-ip', String(Math.max(500, streams + 16)),
  ];
}

export async function startDaemonChild(streams: number, seed: number, extraArgs: readonly string[] = []): Promise<DaemonChild> {
  const args = [...daemonArgs(streams, seed), ...extraArgs];
  // The daemon is the run's own: none of the driver's SWITCHBOARD_* settings or Twilio credentials reach it.
  const env: NodeJS.ProcessEnv = { MALLOC_MMAP_THRESHOLD_: '65536' };
  for (const [k, v] of Object.entries(process.env)) {
    if ((!k.startsWith('SWITCHBOARD_') || k === 'SWITCHBOARD_DSP_WASM') && k !== 'TWILIO_AUTH_TOKEN') env[k] = v;
  }
  const child = spawn(process.execPath, command(args), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const stop = async (): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const [code, signal] = await exited;
    clearTimeout(timer);
    return { code, signal };
  };
  try {
    const port = await listeningPort(child, () => stderr);
    const baseUrl = `http://127.0.0.1:${port}`;
    await untilReady(baseUrl, child, () => stderr);
    return { baseUrl, pid: child.pid!, args, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reads the JSON log until the `listening` line; the rest of the log is read and dropped, so the pipe never fills. */
function listeningPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let partial = '';
    let found = false;
    const timer = setTimeout(() => fail(`it did not listen within ${LISTEN_TIMEOUT_MS} ms`), LISTEN_TIMEOUT_MS);
    const fail = (why: string): void => {
      clearTimeout(timer);
      if (!found) reject(new Error(`the daemon did not start: ${why}; stderr: ${stderr().slice(-1500) || '(empty)'}`));
      found = true;
    };
    child.once('exit', (code, signal) => fail(`it exited [code:${code}, signal:${signal}]`));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (found) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          const l = JSON.parse(line) as { msg?: unknown; port?: unknown };
          if (l.msg === 'listening' && typeof l.port === 'number') {
            found = true;
            clearTimeout(timer);
            partial = '';
            resolve(l.port);
            return;
          }
        } catch {
          // not a log line
        }
      }
    });
  });
}

async function untilReady(baseUrl: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the daemon exited before it was ready; stderr: ${stderr().slice(-1500)}`);
    try {
      const res = await daemonRequest(baseUrl, 'GET', '/readyz', { timeoutMs: 2000 });
      if (res.status === 200) return;
      last = JSON.stringify(res.json).slice(0, 300);
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the daemon was not ready within ${READY_TIMEOUT_MS} ms [${last}]`);
}
