import { describe, expect, it } from 'vitest';
import { parseLoadArgs } from '../../src/cli/load.ts';
import { UsageError } from '../../src/cli/main.ts';
import { crossedThresholds, FailIfSyntaxError, parseFailIf } from '../../src/load/failIf.ts';
import { LoadOptionError, validateLoadOptions } from '../../src/load/LoadOptions.ts';
import { SUMMARY_FIGURES } from '../../src/load/report.ts';

describe('load options', () => {
  it('fills the defaults and reads the command line of DESIGN.md', () => {
    const { options, thresholds, reportDir } = parseLoadArgs(['--streams', '200', '--transport', 'rtp', '--codec', 'pcmu', '--loss', '2', '--jitter', '30', '--duration', '60']);
    expect(thresholds).toEqual([]);
    expect(reportDir).toBeUndefined();
    const o = validateLoadOptions(options, 2);
    expect(o).toMatchObject({ streams: 200, transport: 'rtp', codec: 'pcmu', loss: 2, jitter: 30, duration: 60, agent: 'loopback', ramp: 50, seed: 1, reorder: 0, duplicate: 0, threads: 1 });
    expect(o.burst).toBeUndefined();
    expect(o.target).toBeUndefined();
    expect(validateLoadOptions({ streams: 1000 }, 2).threads).toBe(2);
    expect(validateLoadOptions({ streams: 10, target: 'http://127.0.0.1:8080/' }, 2).target).toBe('http://127.0.0.1:8080');
    // SIP negotiates its codec in SDP: any of them; --sip-port names a target's SIP port.
    const sip = validateLoadOptions(parseLoadArgs(['--streams', '5', '--transport', 'sip', '--codec', 'opus', '--sip-port', '5070']).options, 2);
    expect(sip).toMatchObject({ transport: 'sip', codec: 'opus', sipPort: 5070 });
    expect(() => validateLoadOptions({ streams: 1, transport: 'sip', sipPort: 70_000 }, 2)).toThrow(/--sip-port expects an integer 1–65535/);
  });

  it.each([
    [{ streams: 0 }, /--streams expects an integer 1–5000 \[got:0\]/],
    [{ streams: -3 }, /--streams/],
    [{ streams: 2.5 }, /--streams expects an integer/],
    [{ streams: 1e6 }, /--streams expects an integer 1–5000/],
    [{ streams: 1, transport: 'webrtc' }, /--transport expects one of rtp, twilio, sip, mixed \[got:webrtc\]/],
    [{ streams: 1, codec: 'gsm' }, /--codec expects one of pcmu, pcma, g722, opus \[got:gsm\]/],
    [{ streams: 1, transport: 'twilio', codec: 'opus' }, /carries 8 kHz µ-law only/],
    [{ streams: 1, agent: 'openai' }, /--agent expects one of loopback, echo, tone/],
    [{ streams: 1, loss: -1 }, /--loss expects a number 0–99/],
    [{ streams: 1, loss: 100 }, /--loss/],
    [{ streams: 1, reorder: 101 }, /--reorder expects a number 0–100/],
    [{ streams: 1, duplicate: -0.5 }, /--duplicate/],
    [{ streams: 1, jitter: 5000 }, /--jitter expects a number 0–1000/],
    [{ streams: 1, burst: 0.5 }, /--burst expects a number 1–1000/],
    [{ streams: 1, loss: 80, burst: 2 }, /loss 80% cannot come in bursts of 2 packets on average \(at most 66.7%\)/],
    [{ streams: 1, ramp: 0 }, /--ramp/],
    [{ streams: 1, duration: Number.NaN }, /--duration/],
    [{ streams: 1, target: 'ftp://x' }, /--target expects a plain http\(s\) URL/],
    [{ streams: 1, target: 'not a url' }, /--target expects an http\(s\) URL/],
    [{ streams: 1, target: 'http://u:p@127.0.0.1:1' }, /without credentials/],
    [{ streams: 1, token: 'a\nb' }, /--token/],
  ])('refuses %j with a message naming the option', (opts, message) => {
    expect(() => validateLoadOptions(opts as never, 2)).toThrow(LoadOptionError);
    expect(() => validateLoadOptions(opts as never, 2)).toThrow(message);
  });

  it('refuses a malformed command line as a usage error', () => {
    expect(() => parseLoadArgs([])).toThrow(/--streams is required/);
    expect(() => parseLoadArgs(['--streams', 'ten'])).toThrow(new UsageError('--streams expects a number [got:ten]'));
    expect(() => parseLoadArgs(['--streams', '5', '--bogus', '1'])).toThrow(UsageError);
    expect(() => parseLoadArgs(['--streams', '5', 'extra'])).toThrow(UsageError);
    expect(() => parseLoadArgs(['--streams', '5', '--fail-if', 'latencyP99Ms>>40'])).toThrow(/--fail-if: cannot read "latencyP99Ms>>40"/);
    expect(parseLoadArgs(['--help']).help).toBe(true);
  });
});

describe('--fail-if', () => {
  const figures = SUMMARY_FIGURES;

  it('reads thresholds and says which hold', () => {
    const t = parseFailIf('latencyP99Ms>40, mosP5<4,returnedPct<=99.9,tickP99Ms >= 10', figures);
    expect(t.map(({ figure, op, value }) => [figure, op, value])).toEqual([
      ['latencyP99Ms', '>', 40],
      ['mosP5', '<', 4],
      ['returnedPct', '<=', 99.9],
      ['tickP99Ms', '>=', 10],
    ]);
    const base = { latencyP99Ms: 40, mosP5: 4.1, returnedPct: 100, tickP99Ms: 9.99 };
    expect(crossedThresholds(t, base)).toEqual([]);
    expect(crossedThresholds(t, { ...base, latencyP99Ms: 40.01, tickP99Ms: 10 }).map((c) => c.threshold.figure)).toEqual(['latencyP99Ms', 'tickP99Ms']);
    expect(crossedThresholds(t, { ...base, returnedPct: 99.9 }).map((c) => [c.threshold.figure, c.actual])).toEqual([['returnedPct', 99.9]]);
    // A figure the run could not measure fails the check rather than passing it.
    expect(crossedThresholds(t, { ...base, mosP5: null })).toEqual([{ threshold: t[1], actual: null }]);
    expect(parseFailIf('latencyP50Ms<-1e3', figures)[0]!.value).toBe(-1000);
  });

  it.each([
    ['', /empty/],
    ['latency>40', /unknown figure "latency"; the report has streams, /],
    ['latencyP99Ms=40', /cannot read "latencyP99Ms=40"/],
    ['latencyP99Ms>', /cannot read/],
    ['>40', /cannot read/],
    ['latencyP99Ms>40,', /cannot read ""/],
    ['latencyP99Ms>4O', /cannot read/],
  ])('refuses %j', (expr, message) => {
    expect(() => parseFailIf(expr, figures)).toThrow(FailIfSyntaxError);
    expect(() => parseFailIf(expr, figures)).toThrow(message);
  });
});
