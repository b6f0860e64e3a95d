import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'test/fixtures/switchboard.ts';

export interface DaemonProcess {
  child: ChildProcess;
  /** Its JSON log lines as they arrive (a line that is not JSON as `{ raw }`). */
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Called after every chunk of log lines. */
  onLines(listener: () => void): void;
}

/**
 * `switchboard start …` as a real child process from source (`node --import
 * tsx`), its stdout read as JSON lines. The parent's SWITCHBOARD_* settings
 * do not leak into it (except the DSP build override).
 */
export function spawnDaemon(args: readonly string[], env: Readonly<Record<string, string>> = {}): DaemonProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_') || k === 'SWITCHBOARD_DSP_WASM'));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'start', ...args], {
    cwd: ROOT,
    // As `npm start` runs it (see src/cli/start.ts: memory returns after a spike).
    env: { MALLOC_MMAP_THRESHOLD_: '65536', ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const listeners: Array<() => void> = [];
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
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return { child, lines, stderr: () => err, onLines: (l) => void listeners.push(l) };
}
