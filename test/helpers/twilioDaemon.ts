import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnDaemon } from './daemonProcess.ts';
import { readFileSync } from 'node:fs';

/**
 * `switchboard start` in a child process, for loads and benchmarks where the
 * callers must not share the daemon's event loop (nor its CPU account).
 * Everything is read from outside, as an operator would: the port from the
 * `listening` log line, calls from `GET /v1/calls` and `GET /status`, bad
 * input from `GET /metrics`, CPU from /proc/<pid>/stat.
 */

/** Starting a daemon from source (tsx transform, workers, WebAssembly) on a busy machine. */
const START_TIMEOUT_MS = 30_000;
/** A drain with nothing live, then the workers stop: a few seconds at most. */
const STOP_TIMEOUT_MS = 15_000;
/** /proc/<pid>/stat counts CPU in clock ticks; Linux's USER_HZ is 100 on every common build. */
const CLOCK_TICKS_PER_S = 100;

export interface DaemonCall {
  id: string;
  transport: string;
  agent?: string;
  actors: string[];
  twilio?: { streamSid: string; callSid: string };
  qos?: Record<string, Record<string, number>>;
}

export interface TwilioDaemon {
  child: ChildProcess;
  pid: number;
  port: number;
  base: string;
  /** `ws://127.0.0.1:<port>/twilio/media` */
  mediaUrl: string;
  /** The daemon's JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Calls with their live QoS (`GET /status`). */
  calls(): Promise<DaemonCall[]>;
  /** `switchboard_bad_input_total{source="twilio"}`, summed over reasons. */
  twilioBadInput(): Promise<number>;
  /** CPU seconds the daemon (every thread) has used so far. */
  cpuSeconds(): number;
  /** SIGTERM (drain, then stop); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startTwilioDaemon(args: string[] = []): Promise<TwilioDaemon> {
  const { child, lines, stderr, logged } = spawnDaemon(['--port', '0', '--log-level', 'info', '--media-workers', '1', ...args]);
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const listening = await logged((l) => l['msg'] === 'listening', 'listening', START_TIMEOUT_MS).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`the daemon did not start: ${err.message}`);
  });
  const port = listening['port'] as number;
  const base = `http://127.0.0.1:${port}`;
  const pid = child.pid!;

  return {
    child,
    pid,
    port,
    base,
    mediaUrl: `ws://127.0.0.1:${port}/twilio/media`,
    lines,
    stderr,
    async calls() {
      const res = await fetch(`${base}/status`);
      const status = (await res.json()) as { calls: DaemonCall[] };
      return status.calls;
    },
    async twilioBadInput() {
      const text = await (await fetch(`${base}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('switchboard_bad_input_total{') && line.includes('source="twilio"')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    cpuSeconds() {
      // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
