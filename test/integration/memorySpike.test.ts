import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startTwilioDaemon, type TwilioDaemon } from '../helpers/twilioDaemon.ts';

/**
 * After a spike of calls has ended, the daemon's memory returns to within
 * 10% of where it was before: the rings of ended calls are collected on
 * every thread (src/supervisor/MemoryReclaimer.ts) and their memory goes
 * back to the system (src/cli/start.ts, the malloc threshold).
 */
let d: TwilioDaemon | undefined;
afterAll(async () => {
  await d?.stop();
});

const SPIKE_CALLS = 300;
const refusals = new Set<string>();
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function spike(base: string, calls: number): Promise<number> {
  const ids: string[] = [];
  for (let i = 0; i < calls; i += 50) {
    const replies = await Promise.all(
      Array.from({ length: Math.min(50, calls - i) }, () =>
        fetch(`${base}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"transport":"synthetic","rateHz":48000}' }),
      ),
    );
    for (const r of replies) {
      if (r.status === 201) ids.push(((await r.json()) as { id: string }).id);
      else refusals.add(await r.text());
    }
  }
  for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => fetch(`${base}/v1/calls/${id}`, { method: 'DELETE' })));
  return ids.length;
}

describe('memory after a spike', () => {
  it(`returns to within 10% of its level before ${SPIKE_CALLS} calls came and went`, async () => {
    d = await startTwilioDaemon(['--limits.max-calls', String(SPIKE_CALLS)]);
    const reclaimed = () => d!.lines.filter((l) => l['msg'] === 'memory of ended actors reclaimed').length;
    // Warm: the first calls load what every later call shares (modules, WASM instances).
    await spike(d.base, 20);
    await expect.poll(reclaimed, { timeout: 15_000, interval: 200 }).toBe(1);
    const before = rssMb(d.pid);
    const taken = await spike(d.base, SPIKE_CALLS);
    expect(taken, [...refusals].join()).toBeGreaterThan(SPIKE_CALLS / 2);
    const peak = rssMb(d.pid);
    await expect.poll(reclaimed, { timeout: 20_000, interval: 200 }).toBe(2);
    const after = rssMb(d.pid);
    expect(peak - before, `before ${before.toFixed(0)} MB, at the peak ${peak.toFixed(0)} MB`).toBeGreaterThan(25);
    expect(after, `before ${before.toFixed(0)} MB, at the peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB`).toBeLessThan(before * 1.1);
  });
});
