import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'test/fixtures/switchboard.ts';
/** The installed command, as `npm start` runs it: the built code in dist/ (`npm install` builds it). */
const BUILT_ENTRY = 'bin/switchboard.js';

export interface SpawnOptions {
  /** Run the built daemon (bin/switchboard.js, dist/) instead of the source: what ships, its worker and job files included. */
  built?: boolean;
}

export interface DaemonProcess {
  child: ChildProcess;
  /** Its JSON log lines as they arrive (a line that is not JSON as `{ raw }`). */
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /**
   * The first log line that satisfies `pred`, as soon as it is read; rejects,
   * naming `what`, once the process has closed or `timeoutMs` has passed
   * without one.
   */
  logged(pred: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * `switchboard start …` as a real child process from source (`node --import
 * tsx`), or built (`opts.built`), its stdout read as JSON lines. The
 * parent's SWITCHBOARD_* settings do not leak into it (except the DSP build override).
 */
export function spawnDaemon(args: readonly string[], env: Readonly<Record<string, string>> = {}, opts: SpawnOptions = {}): DaemonProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_') || k === 'SWITCHBOARD_DSP_WASM'));
  if (opts.built === true && !existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('no built daemon in dist/: run npm run build first');
  const entry = opts.built === true ? [BUILT_ENTRY] : ['--import', 'tsx', ENTRY];
  const child = spawn(process.execPath, [...entry, 'start', ...args], {
    cwd: ROOT,
    // As `npm start` runs it (see src/cli/start.ts: memory returns after a spike).
    env: { MALLOC_MMAP_THRESHOLD_: '65536', ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  /** Re-checked after every chunk of log lines and once the process has closed (its output all read). */
  const watchers = new Set<() => void>();
  let closed = false;
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      if (p.trim() === '') continue;
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ raw: p });
      }
    }
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  child.once('close', () => {
    closed = true;
    for (const w of watchers) w();
  });

  const logged: DaemonProcess['logged'] = (pred, what, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const settle = (hit: Record<string, unknown> | undefined, why: string): void => {
        clearTimeout(timer);
        watchers.delete(check);
        if (hit !== undefined) resolve(hit);
        else reject(new Error(`no log line for ${what} (${why}); stderr: ${err.slice(-2000)}; lines: ${JSON.stringify(lines.map((l) => l['msg']))}`));
      };
      const check = (): void => {
        const hit = lines.find(pred);
        if (hit !== undefined || closed) settle(hit, `exited with ${child.exitCode ?? child.signalCode}`);
      };
      const timer = setTimeout(() => settle(undefined, `none in ${timeoutMs} ms`), timeoutMs);
      watchers.add(check);
      check();
    });
  return { child, lines, stderr: () => err, logged };
}
