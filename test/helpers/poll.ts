/**
 * Options for `expect.poll` and `vi.waitFor` (vitest's defaults poll every
 * 50 ms): a condition is checked every POLL_MS, so a test waits no longer
 * than it must, and a time-out names what was awaited.
 *
 * ```ts
 * await expect.poll(() => sup.listCalls().length, within(2000, 'the call')).toBe(1);
 * ```
 */
export const POLL_MS = 2;

export function within(timeout: number, message?: string): { timeout: number; interval: number; message?: string } {
  return message === undefined ? { timeout, interval: POLL_MS } : { timeout, interval: POLL_MS, message };
}
