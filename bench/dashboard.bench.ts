/**
 * What the dashboard costs the main thread (which also runs the supervisor
 * and the Twilio sockets) as calls grow: one sample with every call's row
 * (the feed reads each call's stats slots in place) and the update frame it
 * sends, beside what one /status costs (the objects and their JSON), which
 * is what a page polling /status made the daemon do every second. A real
 * runtime built by createRuntime, with real RTP calls (bench/lib/fillCalls.ts).
 */
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { DashboardFeed } from '../src/server/dashboard/feed.ts';
import { DASHBOARD_HISTORY_S } from '../src/server/dashboard/events.ts';
import { createRuntime } from '../src/supervisor/createRuntime.ts';
import { fillRtpCalls } from './lib/fillCalls.ts';
import { printTable } from './table.ts';

const CALLS = [0, 100, 1000];
const SAMPLES = 50;
const PORT_MIN = 22_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: 'silent' });
const ms = (ns: number) => ns / 1e6;

/**
 * Runs `fn` SAMPLES times (after one warm-up), a few ms apart so timers and
 * workers run between, as they do between the real samples a second apart;
 * its wall-time histogram. Node 20 cannot read one thread's CPU time, and the
 * workers of 1,000 calls keep the cores busy, so the low end (min) is the
 * feed's own cost and the rest adds waits for a core.
 */
async function timed(fn: () => void): Promise<ReturnType<typeof createHistogram>> {
  fn();
  const h = createHistogram();
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    h.record(Number(process.hrtime.bigint() - t0));
    await sleep(5);
  }
  return h;
}

export default async function run(): Promise<void> {
  const config = loadConfig({
    argv: ['--port', '0', '--media-workers', '2', '--rtp.port-min', String(PORT_MIN), '--rtp.port-max', String(PORT_MIN + 2 * Math.max(...CALLS) + 8)],
    env: {},
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  const sup = await createRuntime(config, quiet);
  const feed = new DashboardFeed(sup, DASHBOARD_HISTORY_S);
  // A full history, as after ten minutes: the snapshot a new viewer gets carries all of it.
  for (let t = 0; t < DASHBOARD_HISTORY_S; t++) feed.sample(Date.now() + t * 1000, { history: true, calls: false });
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const calls of CALLS) {
      await fillRtpCalls(sup, calls);
      let update = '';
      const sample = await timed(() => {
        feed.sample(Date.now(), { history: true, calls: true });
        update = feed.update();
      });
      let status = '';
      const poll = await timed(() => {
        status = JSON.stringify(sup.status());
      });
      rows.push({
        calls: sup.listCalls().length,
        'sample + update min ms': ms(sample.min),
        'p50 ms': ms(sample.percentile(50)),
        'p99 ms': ms(sample.percentile(99)),
        'update KB': Buffer.byteLength(update) / 1024,
        'snapshot KB': Buffer.byteLength(feed.snapshot(DASHBOARD_HISTORY_S)) / 1024,
        '/status min ms': ms(poll.min),
        '/status p50 ms': ms(poll.percentile(50)),
        '/status KB': Buffer.byteLength(status) / 1024,
      });
    }
  } finally {
    for (const c of sup.listCalls()) await sup.deleteCall(c.id);
    await sup.stop();
  }
  printTable(
    `Dashboard feed on the main thread: one sample with every call's row and its update frame (${SAMPLES} samples each, 5 ms apart; wall time: min is the feed's own cost, above it waits for a core the calls' workers hold), beside one /status as JSON (what a page polling /status cost a second)`,
    rows,
  );
}
