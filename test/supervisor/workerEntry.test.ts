import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startWorker, workerEntry } from '../../src/supervisor/workerEntry.ts';

describe('workerEntry', () => {
  it('starts a TypeScript worker entry from source, which loads the DSP core', async () => {
    const w = startWorker(import.meta.url, '../fixtures/ping.worker', { workerData: 7 });
    const [msg] = await once(w, 'message');
    expect(msg).toEqual({ ok: true, data: 7 });
    await w.terminate();
  });

  it('surfaces an error thrown in a source worker', async () => {
    const w = startWorker(import.meta.url, '../fixtures/ping.worker', { workerData: 'throw' });
    const [err] = await once(w, 'error');
    expect(String(err)).toContain('asked to throw');
  });

  it('chooses the .js entry for built code', () => {
    const { url, fromSource } = workerEntry('file:///x/dist/a.js', './b.worker');
    expect(url.href).toBe('file:///x/dist/b.worker.js');
    expect(fromSource).toBe(false);
  });
});
