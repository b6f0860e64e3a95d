import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runSoak } from '../soak/runSoak.ts';
import { soakHtml } from '../soak/soakHtml.ts';
import { soakMissed, soakTables } from '../soak/soakTables.ts';
import { UsageError } from './main.ts';
import { parseCommandOptions, positiveOption } from './options.ts';

/**
 * `switchboard soak` (`npm run soak -- --minutes M --calls N`): calls churned
 * for a long while, the daemon's memory and resources sampled (src/soak/).
 * Exit codes: 0 goals met, 1 a goal missed (named on stderr), 2 bad options.
 */
const USAGE = `usage: switchboard soak [options]

Keeps N calls live for M minutes, each ending and replaced, and watches the daemon for leaks.
  --calls N        calls live at once (default 100)
  --minutes M      length of the run (default 60); or --seconds S
  --call-seconds S how long each call lasts (default 30)
  --every S        seconds between samples (default 5)
  --seed N         seed of the calls (default 1)
  --report DIR     write soak-report.json and soak-report.html there
Goals: RSS flat after warm-up (≤ 5 MB/h, judged on runs of 10 minutes or more); descriptors,
handles, timers and RTP ports back to their idle counts after the last call.`;

export async function soak(args: string[]): Promise<number> {
  const values = parseCommandOptions(
    args,
    {
      calls: { type: 'string' },
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      'call-seconds': { type: 'string' },
      every: { type: 'string' },
      seed: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values['help'] === true) {
    console.log(USAGE);
    return 0;
  }
  const durationS = values['seconds'] !== undefined ? positiveOption(values['seconds'], 'seconds', 0) : positiveOption(values['minutes'], 'minutes', 60) * 60;
  let report;
  try {
    report = await runSoak(
      {
        calls: Math.round(positiveOption(values['calls'], 'calls', 100)),
        durationS,
        callS: positiveOption(values['call-seconds'], 'call-seconds', 30),
        sampleS: positiveOption(values['every'], 'every', 5),
        seed: Math.round(positiveOption(values['seed'], 'seed', 1)),
      },
      (s) => process.stderr.isTTY && process.stderr.write(`\r${Math.round(s.t)} s  calls ${s.calls}  rss ${(s.rssBytes / 1048576).toFixed(1)} MB  fds ${s.fds}  `),
    );
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(soakTables(report));
  if (typeof values['report'] === 'string') {
    const dir = resolve(values['report']);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'soak-report.json'), JSON.stringify(report, null, 1));
    writeFileSync(join(dir, 'soak-report.html'), soakHtml(report));
  }
  const missed = soakMissed(report);
  for (const m of missed) console.error(`goal missed: ${m}`);
  return missed.length === 0 ? 0 : 1;
}
