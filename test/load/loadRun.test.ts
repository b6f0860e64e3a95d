import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { LoadReport } from '../../src/load/report.ts';

/**
 * The load driver end to end, as a user runs it: the command (in process,
 * from source) starts a real daemon as a child process, places RTP and
 * Twilio calls over real sockets on 127.0.0.1, and writes its reports.
 */

const SPEECH = 'test/fixtures/data/speech';
let dir: string | undefined;

afterEach(() => {
  vi.restoreAllMocks();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function captured(stream: NodeJS.WriteStream): () => string {
  let text = '';
  vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  return () => text;
}

describe('switchboard load', () => {
  it('runs 6 mixed RTP/Twilio calls with 2% loss against a daemon it starts: latency, returned frames, MOS, a self-contained HTML report; a crossed threshold exits 1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-load-'));
    const out = captured(process.stdout);
    const err = captured(process.stderr);
    const code = await main([
      'load', '--streams', '6', '--transport', 'mixed', '--codec', 'pcmu', '--duration', '4', '--ramp', '20',
      '--loss', '2', '--seed', '3', '--speech', SPEECH, '--report', dir,
      // Always crossed: no run returns more than everything.
      '--fail-if', 'returnedPct<101',
    ]);
    vi.restoreAllMocks();
    expect(err()).toContain('threshold crossed: returnedPct<101');
    expect(code).toBe(1);
    expect(out()).toMatch(/## 6 × mixed pcmu, 4 s, agent loopback, loss 2%/);
    expect(out()).toContain('## Daemon and driver');

    const r = JSON.parse(readFileSync(join(dir, 'load-report.json'), 'utf8')) as LoadReport;
    expect(r.daemon.selfStarted).toBe(true);
    expect(r.speech).toContain('synth-m-8k.wav');
    expect(r.calls.map((c) => [c.transport, c.outcome])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i % 2 === 0 ? 'rtp' : 'twilio', 'completed']));
    for (const c of r.calls) {
      expect(c.framesSent).toBe(200);
      expect(c.returnExpected).toBe(200);
      expect(c.returnedPct, `call ${c.index} returned`).toBeGreaterThanOrEqual(98);
      expect(c.returnedMalformed + c.decodeErrors).toBe(0);
      expect(c.mos!).toBeGreaterThan(3);
      expect(c.mos!).toBeLessThanOrEqual(4.5);
    }
    // Latency through loopback, aligned from the audio: every RTP call has it.
    for (const c of r.calls.filter((c) => c.transport === 'rtp')) {
      expect(c.latency, `call ${c.index} latency`).not.toBeNull();
      expect(c.latency!.count).toBeGreaterThanOrEqual(50);
      expect(c.latency!.p50Ms).toBeGreaterThan(0.5);
      expect(c.latency!.p50Ms).toBeLessThan(400);
    }
    const lost = r.calls.reduce((n, c) => n + c.packetsLost, 0);
    expect(lost).toBeGreaterThan(6); // 2% of 1,200
    expect(lost).toBeLessThan(60);
    expect(r.summary.latencyP50Ms).not.toBeNull();
    expect(r.summary.peakCalls).toBeGreaterThanOrEqual(1);
    expect(r.samples.length).toBeGreaterThanOrEqual(3);
    expect(r.summary.daemonRssMb).toBeGreaterThan(10);
    expect(r.summary.driverCpuPct).toBeGreaterThan(0);

    const html = readFileSync(join(dir, 'load-report.html'), 'utf8');
    expect(html).toContain('<script type="application/json" id="data">');
    expect(html).toContain('uPlot');
    // Nothing that would make a browser fetch: no external scripts, styles, images, frames or requests.
    for (const fetching of [/\b(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?\/\//i, /<link\b/i, /@import/i, /url\(\s*["']?\s*(?:https?:)?\/\//i, /\bfetch\(/, /XMLHttpRequest|EventSource|new WebSocket|sendBeacon/]) {
      expect(html).not.toMatch(fetching);
    }
    // The embedded data cannot close its element.
    const data = html.slice(html.indexOf('id="data">') + 10, html.indexOf('</script>', html.indexOf('id="data">')));
    expect(data).not.toContain('<');
    expect(JSON.parse(data).latencyCdf.length).toBeGreaterThan(0);
  });

  it('an unreachable target is a clear error and exit 1', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const err = captured(process.stderr);
    const code = await main(['load', '--streams', '2', '--target', `http://127.0.0.1:${port}`, '--duration', '1']);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(err()).toContain(`cannot reach the daemon [GET http://127.0.0.1:${port}/readyz: ECONNREFUSED]`);
  });

  it('bad options exit 2 with the option named, before anything starts', async () => {
    let text = '';
    vi.spyOn(console, 'error').mockImplementation((m: string) => void (text += `${m}\n`));
    const err = () => text;
    expect(await main(['load', '--streams', '0'])).toBe(2);
    expect(await main(['load', '--streams', '5', '--codec', 'gsm'])).toBe(2);
    expect(await main(['load', '--streams', '5', '--fail-if', 'mos<'])).toBe(2);
    vi.restoreAllMocks();
    expect(err()).toContain('--streams expects an integer 1–5000 [got:0]');
    expect(err()).toContain('--codec expects one of pcmu, pcma, g722, opus [got:gsm]');
    expect(err()).toContain('--fail-if: cannot read "mos<"');
  });
});
