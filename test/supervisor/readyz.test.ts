import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHttpServer, type HttpServer } from '../../src/server/server.ts';
import { Supervisor } from '../../src/supervisor/Supervisor.ts';
import { memoryLogger } from '../helpers/logger.ts';
import { nullKind } from '../fixtures/nullKind.ts';

/** /readyz over real HTTP while the real supervisor restarts a real worker. */

let sup: Supervisor | undefined;
let http: HttpServer | undefined;
afterEach(async () => {
  await http?.close();
  await sup?.stop();
  sup = http = undefined;
});

async function serve(restartIntensity?: { maxRestarts: number; windowMs: number }) {
  sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'silent',
    log: memoryLogger().log,
    kinds: { null: nullKind },
    ...(restartIntensity !== undefined ? { restartIntensity } : {}),
  });
  await sup.start();
  http = createHttpServer(sup, loadConfig({ argv: ['--port', '0'], env: {}, cwd: '/' }), memoryLogger().log);
  const { port } = await http.listen();
  return { sup, readyz: () => fetch(`http://127.0.0.1:${port}/readyz`) };
}

describe('/readyz during restarts', () => {
  it('is 503 while a crashed worker is being restarted, 200 again after', async () => {
    const { sup, readyz } = await serve();
    // Re-creating this actor takes 400 ms, so the restart stays visible that long.
    const actor = await sup.createActor('null', { createDelayMs: 400 });
    expect((await readyz()).status).toBe(200);
    await sup.injectFault(actor, 'crash');
    // Every answer until it is 200 again after a 503, with the 503 bodies.
    const seen: number[] = [];
    const unready: Array<{ ready: boolean; reasons: string[] }> = [];
    await vi.waitFor(
      async () => {
        const res = await readyz();
        seen.push(res.status);
        if (res.status === 503) unready.push((await res.json()) as { ready: boolean; reasons: string[] });
        else await res.arrayBuffer();
        expect(seen).toContain(503);
        expect(seen.at(-1)).toBe(200);
      },
      { timeout: 3000, interval: 10 },
    );
    for (const body of unready) {
      expect(body.ready).toBe(false);
      expect(body.reasons.join()).toMatch(/worker null-0 is (starting|restarting|crashed)/);
    }
  });

  it('stays 503 with the cause once a worker exceeds its restart limit', async () => {
    const { sup, readyz } = await serve({ maxRestarts: 0, windowMs: 30_000 });
    await sup.createActor('null', {});
    await sup.injectFault('null-0', 'exit');
    await expect.poll(() => sup.readiness().ready, { timeout: 2000, interval: 10, message: 'the exit to be seen' }).toBe(false);
    await sleep(200);
    const res = await readyz();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, reasons: ['worker null-0 is failed (exited with code 70)'] });
  });
});
