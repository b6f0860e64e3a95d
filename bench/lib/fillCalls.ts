import { RequestError } from '../../src/supervisor/Runtime.ts';
import type { Supervisor } from '../../src/supervisor/Supervisor.ts';

/** How long a runtime refusing calls (its workers overloaded on a busy machine) is given before a row is measured at what it holds. */
export const FILL_PATIENCE_MS = 30_000;

/**
 * Places RTP calls (latched, no media: every call has its actors and QoS
 * figures all the same) until there are `calls`. A 503 is waited out for
 * its Retry-After; past FILL_PATIENCE_MS without progress it stops.
 */
export async function fillRtpCalls(sup: Supervisor, calls: number): Promise<void> {
  let lastProgress = performance.now();
  while (sup.listCalls().length < calls && performance.now() - lastProgress < FILL_PATIENCE_MS) {
    try {
      await sup.createCall({ transport: 'rtp', remote: 'latch', codec: 'PCMU', agent: 'loopback' });
      lastProgress = performance.now();
    } catch (err) {
      if (!(err instanceof RequestError) || err.status !== 503) throw err;
      await new Promise((r) => setTimeout(r, (err.retryAfterS ?? 1) * 1000));
    }
  }
}
