import { pino, type Logger } from 'pino';

/** A real pino logger that keeps its lines in memory so tests can assert on them. */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    {
      write(s: string): void {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { log, lines };
}
