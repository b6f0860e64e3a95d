import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DaemonUnreachableError } from '../load/daemonHttp.ts';
import { crossedThresholds, FailIfSyntaxError, parseFailIf, type Threshold } from '../load/failIf.ts';
import { htmlReport } from '../load/htmlReport.ts';
import { LOAD_AGENTS, LOAD_CODECS, LoadOptionError, MAX_STREAMS, type LoadOptions } from '../load/LoadOptions.ts';
import { ProgressLine } from '../load/progress.ts';
import { SUMMARY_FIGURES, type LoadReport } from '../load/report.ts';
import { runLoad, type LoadSample } from '../load/runLoad.ts';
import { UsageError } from './main.ts';
import { formatNumber, formatTable } from './table.ts';

/**
 * `switchboard load`: the load driver's command line, a thin layer over
 * runLoad (src/load/runLoad.ts). Exit codes: 0 done, 1 a `--fail-if`
 * threshold crossed or the run could not be made (an unreachable target),
 * 2 bad options; a second Ctrl-C exits at once with 130.
 */

const USAGE = `usage: switchboard load --streams N [options]

Places N synthetic calls against a daemon and reports what came back.
  --streams N          calls (1–${MAX_STREAMS})
  --transport T        rtp, twilio, sip (INVITE over UDP), or mixed (rtp and twilio alternately); default rtp
  --codec C            ${LOAD_CODECS.join(', ')} (twilio: pcmu only); default pcmu
  --ramp R             calls started per second; default 50
  --duration S         seconds each call lasts; default 30
  --agent A            ${LOAD_AGENTS.join(', ')}; default loopback (latency is measured through loopback only)
  --seed N             seed of the impairments and of each call's speech; default 1
  --loss P             % of packets lost on the way in; default 0
  --burst L            mean loss burst in packets (Gilbert-Elliott); default: independent losses
  --jitter MS          extra delay per packet, uniform 0–MS, order kept; default 0
  --reorder P          % of packets overtaken by the next one; default 0
  --duplicate P        % of packets sent twice; default 0
  --target URL         a running daemon (http://host:port); default: start one for the run
  --token TOKEN        bearer token for the target's /v1 and /status
  --sip-port N         the target's SIP port (--transport sip with --target); default 5060
  --threads N          caller threads; default one per 250 calls, at most the cores
  --speech DIR         speech corpus directory; default ../shared/data/speech beside the project
  --report DIR         write load-report.json and load-report.html there
  --fail-if EXPR       exit 1 when a threshold holds, e.g. latencyP99Ms>40,mosP5<4,returnedPct<99.9
                       figures: ${SUMMARY_FIGURES.join(', ')}`;

const NUMERIC = ['streams', 'ramp', 'duration', 'seed', 'loss', 'burst', 'jitter', 'reorder', 'duplicate', 'threads', 'sip-port'] as const;
const FORCED_EXIT_CODE = 130;

interface Parsed {
  options: LoadOptions;
  reportDir: string | undefined;
  thresholds: Threshold[];
  help: boolean;
}

/** Reads the command line; throws UsageError naming what is wrong. */
export function parseLoadArgs(args: string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(NUMERIC.map((k) => [k, { type: 'string' as const }])),
        transport: { type: 'string' },
        codec: { type: 'string' },
        agent: { type: 'string' },
        target: { type: 'string' },
        token: { type: 'string' },
        speech: { type: 'string' },
        report: { type: 'string' },
        'fail-if': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values['help'] === true) return { options: { streams: 1 }, reportDir: undefined, thresholds: [], help: true };
  const options: Record<string, unknown> = {};
  for (const k of NUMERIC) {
    const v = values[k];
    if (typeof v !== 'string') continue;
    if (!/^-?(?:\d+(?:\.\d*)?|\.\d+)$/.test(v.trim())) throw new UsageError(`--${k} expects a number [got:${v.slice(0, 40)}]`);
    options[k === 'sip-port' ? 'sipPort' : k] = Number(v);
  }
  if (options['streams'] === undefined) throw new UsageError(`--streams is required\n\n${USAGE}`);
  for (const k of ['transport', 'codec', 'agent', 'target', 'token'] as const) if (typeof values[k] === 'string') options[k] = values[k];
  if (typeof values['speech'] === 'string') options['speechDir'] = resolve(values['speech']);
  let thresholds: Threshold[] = [];
  if (typeof values['fail-if'] === 'string') {
    try {
      thresholds = parseFailIf(values['fail-if'], SUMMARY_FIGURES);
    } catch (err) {
      if (err instanceof FailIfSyntaxError) throw new UsageError(err.message);
      throw err;
    }
  }
  return { options: options as unknown as LoadOptions, reportDir: typeof values['report'] === 'string' ? resolve(values['report']) : undefined, thresholds, help: false };
}

const v = (x: number | null, digits?: number): string | number => (x === null ? 'n/a' : digits === undefined ? x : Number(x.toFixed(digits)));

/** The end-of-run tables: the calls, then the daemon and the driver. */
export function reportTables(r: LoadReport): string {
  const s = r.summary;
  const o = r.options;
  const calls = formatTable(`${o.streams} × ${o.transport} ${o.codec}, ${o.duration} s, agent ${o.agent}, loss ${o.loss}%, jitter ${o.jitter} ms`, [
    {
      calls: `${s.callsCompleted} done`,
      refused: v(s.callsRefused),
      failed: v(s.callsFailed),
      'latency p50 ms': v(s.latencyP50Ms),
      'p99 ms': v(s.latencyP99Ms),
      'max ms': v(s.latencyMaxMs),
      'returned %': v(s.returnedPct, 2),
      'jitter ms': v(s.jitterMs),
      'MOS mean': v(s.mosMean),
      'MOS p5': v(s.mosP5),
      malformed: v(s.malformed),
    },
  ]);
  const cost = formatTable('Daemon and driver', [
    {
      'peak calls': v(s.peakCalls),
      'daemon CPU %': v(s.daemonCpuPct),
      'RSS MB': v(s.daemonRssMb),
      'RSS/call KB': v(s.rssPerCallKb),
      'tick p50 ms': v(s.tickP50Ms),
      'tick p99 ms': v(s.tickP99Ms),
      'tick max ms': v(s.tickMaxMs),
      'late ticks': v(s.lateTicks),
      'engine p99 ms': v(s.engineLatencyP99Ms),
      'driver CPU %': v(s.driverCpuPct),
      'driver %/call': v(s.driverCpuPerCallPct),
    },
  ]);
  return `${calls}\n${cost}\n`;
}

function progressText(s: LoadSample): string {
  const d = s.daemon;
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${formatNumber(x)}%`);
  return (
    `${s.t.toFixed(0)} s  calls ${s.live} live, ${s.completed} done, ${s.refused} refused, ${s.failed} failed  returned ${pct(s.returnedPct)}` +
    (d === undefined ? '  (no /status)' : `  daemon cpu ${pct(d.cpuPct)} rss ${(d.rssBytes / 2 ** 20).toFixed(0)} MB tick p99 ${d.tick.p99Ms === null ? '–' : d.tick.p99Ms.toFixed(1)} ms`) +
    `  driver cpu ${pct(s.driverCpuPct)}`
  );
}

export async function load(args: string[]): Promise<number> {
  const parsed = parseLoadArgs(args);
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.reportDir !== undefined) {
    try {
      mkdirSync(parsed.reportDir, { recursive: true });
    } catch (err) {
      throw new UsageError(`--report: cannot create ${parsed.reportDir} [${(err as Error).message}]`);
    }
  }
  const progress = new ProgressLine(process.stderr);
  const abort = new AbortController();
  const onSignal = (): void => {
    if (abort.signal.aborted) process.exit(FORCED_EXIT_CODE);
    progress.end();
    process.stderr.write('interrupted: hanging up the calls (again to exit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  let report: LoadReport;
  try {
    report = await runLoad(parsed.options, {
      signal: abort.signal,
      onSample: (s) => progress.update(progressText(s)),
      onNotice: (m) => {
        progress.end();
        process.stderr.write(`switchboard load: ${m}\n`);
      },
    });
  } catch (err) {
    progress.end();
    if (err instanceof LoadOptionError) throw new UsageError(err.message);
    if (err instanceof DaemonUnreachableError) {
      process.stderr.write(`switchboard load: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
  }
  progress.end();
  process.stdout.write(reportTables(report));
  if (parsed.reportDir !== undefined) {
    writeFileSync(join(parsed.reportDir, 'load-report.json'), `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(join(parsed.reportDir, 'load-report.html'), htmlReport(report));
    process.stdout.write(`\nreport: ${join(parsed.reportDir, 'load-report.html')}\n`);
  }
  const crossed = crossedThresholds(parsed.thresholds, report.summary);
  for (const c of crossed) {
    process.stderr.write(`switchboard load: threshold crossed: ${c.threshold.text} [actual:${c.actual === null ? 'not measured' : formatNumber(c.actual)}]\n`);
  }
  return crossed.length > 0 ? 1 : 0;
}
