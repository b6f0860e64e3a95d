import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeOpus } from '../../src/dsp/opus.ts';

const CHILD = fileURLToPath(new URL('./opusNativeWorkers.child.ts', import.meta.url));

interface Report {
  exits: Array<{ end: string; code: number; error: string | null; reason: string; packets: number }>;
  concurrent: Array<{ frames: number; differing: number }>;
}

describe.runIf(loadNativeOpus().binding !== undefined)('native Opus on worker threads', () => {
  // One child process for every case: a crash takes it down, not the test runner.
  let child: SpawnSyncReturns<string>;
  beforeAll(() => {
    child = spawnSync(process.execPath, ['--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 50_000 });
  });
  const report = (): Report => JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Report;

  it('the process survives workers holding native encoders that return, throw, exit, are terminated or run out of heap', () => {
    // Before the addon was kept mapped, the first worker's exit killed the process with SIGSEGV.
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toMatchObject({ status: 0, signal: null });
    const byEnd = Object.fromEntries(report().exits.map((e) => [e.end, e]));
    expect(Object.keys(byEnd)).toEqual(['return', 'throw', 'exit', 'terminate', 'heap']);
    for (const e of Object.values(byEnd)) {
      expect(e.reason).toContain("this thread's own copy");
      expect(e.packets).toBe(2);
    }
    expect(byEnd['return']).toMatchObject({ code: 0, error: null });
    expect(byEnd['throw']).toMatchObject({ code: 1, error: 'worker failed on purpose' });
    expect(byEnd['exit']).toMatchObject({ code: 3, error: null });
    expect(byEnd['terminate']).toMatchObject({ code: 1, error: null });
    expect(byEnd['heap']).toMatchObject({ code: 1, error: 'ERR_WORKER_OUT_OF_MEMORY' });
  });

  it('two workers encoding at once produce exactly the packets one thread does', () => {
    // With one addon shared by every thread, its single output buffer mixed their packets.
    expect(child.status).toBe(0);
    expect(report().concurrent).toEqual([
      { frames: 1000, differing: 0 },
      { frames: 1000, differing: 0 },
    ]);
  });
});
