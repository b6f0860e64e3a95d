import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { measureChannel, type QualityReport } from '../../src/recording/qualityReport.ts';
import { speech } from '../helpers/fixtures.ts';

const run = promisify(execFile);

/**
 * The caller channel's quality report: its figures on signals whose answers
 * are known, and the report job on a machine without onnxruntime-node (an
 * optional dependency) — every figure but PLCMOS, and why PLCMOS is missing.
 */
describe('measureChannel', () => {
  it('reads a sine, a clipped square and digital silence exactly', () => {
    const rateHz = 8000;
    const sine = Int16Array.from({ length: rateHz }, (_, i) => Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / rateHz)));
    const s = measureChannel(sine, rateHz);
    // A sine's RMS is its peak less 3.01 dB; half scale peaks at −6.02 dBFS.
    expect(s.levelDbfs).toBeCloseTo(-9.03, 1);
    expect(s.peakDbfs).toBeCloseTo(-6.02, 1);
    expect([s.seconds, s.clippingRatio]).toEqual([1, 0]);

    const square = Int16Array.from({ length: 800 }, (_, i) => (i % 8 < 4 ? 32767 : -32768));
    const q = measureChannel(square, rateHz);
    expect(q.clippingRatio).toBe(1);
    expect(q.levelDbfs).toBeCloseTo(0, 2);

    const silence = measureChannel(new Int16Array(1600), rateHz);
    expect(silence).toMatchObject({ levelDbfs: -120, speechLevelDbfs: -120, peakDbfs: -120, clippingRatio: 0, speechRatio: 0 });
    expect(measureChannel(new Int16Array(0), rateHz)).toMatchObject({ seconds: 0, levelDbfs: -120, speechRatio: 0 });
  });

  it('finds speech in speech and not in silence', () => {
    const { samples, rateHz } = speech('synth-m-8k');
    const talk = measureChannel(samples.subarray(0, 3 * rateHz), rateHz);
    expect(talk.speechRatio).toBeGreaterThan(0.3);
    expect(talk.speechLevelDbfs).toBeGreaterThan(talk.levelDbfs);
  });
});

describe('the report job without onnxruntime-node', () => {
  it('gives level, clipping, speech ratio and concealment share, and says PLCMOS is unavailable', async () => {
    // A process of its own where the package cannot be resolved (test/fixtures/withoutOnnxRuntime.mjs).
    const script = `const m = await import('./src/recording/postCallJobs.worker.ts');
      console.log(JSON.stringify(await m.default({ kind: 'report', wavPath: 'test/fixtures/plcmos/plc_good.wav', concealmentRatio: 0.25 })));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', './test/fixtures/withoutOnnxRuntime.mjs', '--input-type=module', '-e', script], {
      cwd: new URL('../../', import.meta.url),
    });
    const { report } = JSON.parse(stdout) as { report: QualityReport };
    expect(report.plcmos).toBeUndefined();
    expect(report.plcmosUnavailable).toBe('PLCMOS scorer not available: onnxruntime-node not installed (an optional dependency)');
    expect(report.concealmentRatio).toBe(0.25);
    expect(report.seconds).toBeCloseTo(10.1, 1);
    expect(report.levelDbfs).toBeGreaterThan(-40);
    expect(report.levelDbfs).toBeLessThan(-10);
    expect(report.clippingRatio).toBe(0);
    expect(report.speechRatio).toBeGreaterThan(0.5);
  });
});
