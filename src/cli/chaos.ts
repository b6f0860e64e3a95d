import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chaosTables, missedGoals } from '../chaos/chaosTables.ts';
import { CHAOS_FAULTS, type ChaosFault } from '../chaos/faultPlan.ts';
import { runChaos, type ChaosOptions } from '../chaos/runChaos.ts';
import { UsageError } from './main.ts';
import { parseCommandOptions, positiveOption } from './options.ts';

/**
 * `switchboard chaos` (`npm run chaos`): calls under load while the daemon's
 * workers are faulted at random (src/chaos/runChaos.ts). Exit codes: 0 every
 * goal met, 1 a goal missed (each named on stderr), 2 bad options.
 */
const USAGE = `usage: switchboard chaos [options]

Runs calls against a daemon started for the run and faults its call workers at random.
  --calls N       calls (default 100)
  --minutes M     length of the run (default 5); or --seconds S
  --every S       seconds between faults (default 10)
  --faults LIST   kinds to draw from (default ${CHAOS_FAULTS.join(',')})
  --seed N        seed of the faults and the calls (default 1)
  --report DIR    write chaos-report.json there
Goals: no call dropped, an affected call silent ≤ 100 ms, no silence on a call no fault touched.`;

export function parseChaosArgs(args: string[]): { options: ChaosOptions; reportDir: string | undefined; help: boolean } {
  const values = parseCommandOptions(
    args,
    {
      calls: { type: 'string' },
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      every: { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  const kinds = typeof values['faults'] === 'string' ? values['faults'].split(',').map((k) => k.trim()) : [...CHAOS_FAULTS];
  const unknown = kinds.filter((k) => !(CHAOS_FAULTS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) throw new UsageError(`--faults: unknown kind ${JSON.stringify(unknown[0] ?? '')}; kinds: ${CHAOS_FAULTS.join(', ')}`);
  const durationS = values['seconds'] !== undefined ? positiveOption(values['seconds'], 'seconds', 0) : positiveOption(values['minutes'], 'minutes', 5) * 60;
  return {
    options: {
      calls: Math.round(positiveOption(values['calls'], 'calls', 100)),
      durationS,
      everyS: positiveOption(values['every'], 'every', 10),
      kinds: kinds as ChaosFault[],
      seed: Math.round(positiveOption(values['seed'], 'seed', 1)),
    },
    reportDir: typeof values['report'] === 'string' ? resolve(values['report']) : undefined,
    help: values['help'] === true,
  };
}

export async function chaos(args: string[]): Promise<number> {
  const { options, reportDir, help } = parseChaosArgs(args);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  let report;
  try {
    report = await runChaos(options, { onNotice: (m) => console.error(m) });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  console.log(chaosTables(report));
  if (reportDir !== undefined) {
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(join(reportDir, 'chaos-report.json'), JSON.stringify(report, null, 1));
  }
  const missed = missedGoals(report);
  for (const m of missed) console.error(`goal missed: ${m}`);
  return missed.length === 0 ? 0 : 1;
}
