import { parseArgs } from 'node:util';
import { UsageError } from './main.ts';

/**
 * `switchboard drain [--url URL] [--wait] [--timeout-ms N] [--interval-ms N]`:
 * asks a running daemon to stop taking calls (`POST /v1/drain`) and, with
 * `--wait`, waits until its live calls have ended. This is the Kubernetes
 * preStop hook (deploy/k8s/deployment.yaml): the pod leaves the Service at
 * once (readiness drops), keeps its calls until they hang up, and only then
 * does the kubelet send SIGTERM, which finds nothing left to drain.
 *
 * The control token is read from SWITCHBOARD_CONTROL_TOKEN, the variable the
 * daemon itself reads, so it is never on a command line (visible in `ps`).
 */

export const DRAIN_HELP = `usage: switchboard drain [--url URL] [--wait] [--timeout-ms N] [--interval-ms N]

  --url URL         the daemon (default http://127.0.0.1:$SWITCHBOARD_PORT, port 8080 when unset)
  --wait            return only once no call is live (or the timeout passes: exit 1)
  --timeout-ms N    how long --wait waits (default $SWITCHBOARD_DRAIN_DEADLINE_MS, else 30 min)
  --interval-ms N   how often --wait asks (default 1000)

The control token comes from SWITCHBOARD_CONTROL_TOKEN.`;

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** One answer from the daemon may take this long before the hook gives up on it (a hung daemon is the kubelet's to kill). */
const REQUEST_TIMEOUT_MS = 10_000;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer of milliseconds, got "${text}"`);
  return n;
}

export async function drain(args: string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        wait: { type: 'boolean', default: false },
        'timeout-ms': { type: 'string' },
        'interval-ms': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${DRAIN_HELP}`);
  }
  if (values.help) {
    console.log(DRAIN_HELP);
    return 0;
  }
  const base = values.url ?? `http://127.0.0.1:${env['SWITCHBOARD_PORT'] ?? '8080'}`;
  const timeoutMs = positive('--timeout-ms', values['timeout-ms'], positive('SWITCHBOARD_DRAIN_DEADLINE_MS', env['SWITCHBOARD_DRAIN_DEADLINE_MS'], DEFAULT_TIMEOUT_MS));
  const intervalMs = positive('--interval-ms', values['interval-ms'], 1000);
  const token = env['SWITCHBOARD_CONTROL_TOKEN'];
  const headers: Record<string, string> = token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` };

  try {
    return await drainAndWait(base, headers, values.wait, timeoutMs, intervalMs);
  } catch (err) {
    // The daemon is not there (refused) or did not answer in time: say so, without a stack.
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    console.error(`switchboard drain: ${base} did not answer: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`);
    return 1;
  }
}

async function drainAndWait(base: string, headers: Record<string, string>, wait: boolean, timeoutMs: number, intervalMs: number): Promise<number> {
  const started = await fetch(new URL('/v1/drain', base), { method: 'POST', headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (started.status !== 202) {
    console.error(`switchboard drain: POST /v1/drain answered ${started.status}: ${await started.text()}`);
    return 1;
  }
  const { calls } = (await started.json()) as { calls: number };
  console.log(JSON.stringify({ msg: 'draining', calls }));
  if (!wait) return 0;

  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(new URL('/v1/calls', base), { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (res.status !== 200) {
      console.error(`switchboard drain: GET /v1/calls answered ${res.status}: ${await res.text()}`);
      return 1;
    }
    const live = ((await res.json()) as { calls: unknown[] }).calls.length;
    if (live === 0) {
      console.log(JSON.stringify({ msg: 'drained' }));
      return 0;
    }
    if (Date.now() >= until) {
      console.error(`switchboard drain: ${live} call(s) still live after ${timeoutMs} ms`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(1, until - Date.now()))));
  }
}
