import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHttpServer, type HttpServer } from '../../src/supervisor/http/server.ts';
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
    const seen: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      const res = await readyz();
      seen.push(res.status);
      if (res.status === 503) {
        const body = (await res.json()) as { ready: boolean; reasons: string[] };
        expect(body.ready).toBe(false);
        expect(body.reasons.join()).toMatch(/worker null-0 is (starting|restarting|crashed)/);
      } else await res.arrayBuffer();
      if (seen.includes(503) && res.status === 200) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toContain(503);
    expect(seen.at(-1)).toBe(200);
  });

  it('stays 503 with the cause once a worker exceeds its restart limit', async () => {
    const { sup, readyz } = await serve({ maxRestarts: 0, windowMs: 30_000 });
    await sup.createActor('null', {});
    await sup.injectFault('null-0', 'exit');
    const t0 = Date.now();
    while (sup.readiness().ready && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    const res = await readyz();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, reasons: ['worker null-0 is failed (exited with code 70)'] });
  });
});
