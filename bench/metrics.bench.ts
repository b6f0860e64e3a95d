/**
 * What a /metrics scrape costs as calls grow, with per-call series off (the
 * default) and on (`--metrics.per-call-series`): series on the page, its
 * size, the time the registry takes to render it (all of it on the main
 * thread, which runs the supervisor and the Twilio sockets) and GET /metrics
 * over HTTP. Each mode is a real runtime built by createRuntime from the
 * loaded configuration, with real RTP calls (latched, no media: every call
 * has its actors and QoS figures all the same).
 */
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { createRuntime } from '../src/supervisor/createRuntime.ts';
import { createHttpServer } from '../src/server/server.ts';
import { fillRtpCalls } from './lib/fillCalls.ts';
import { printTable } from './table.ts';

const CALLS = [0, 60, 600];
const SCRAPES = 10;
const PORT_MIN = 32_000;
const quiet = pino({ level: 'silent' });
const ms = (ns: number) => ns / 1e6;

async function measure(perCallSeries: boolean): Promise<Array<Record<string, string | number>>> {
  const config = loadConfig({
    argv: [
      '--port', '0',
      '--media-workers', '2',
      '--rtp.port-min', String(PORT_MIN),
      '--rtp.port-max', String(PORT_MIN + 2 * Math.max(...CALLS) + 8),
      ...(perCallSeries ? ['--metrics.per-call-series'] : []),
    ],
    env: {},
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  const sup = await createRuntime(config, quiet);
  const http = createHttpServer(sup, config, quiet);
  const { port } = await http.listen();
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const calls of CALLS) {
      await fillRtpCalls(sup, calls);
      await sup.metrics.metrics(); // warm-up
      const render = createHistogram();
      let text = '';
      for (let i = 0; i < SCRAPES; i++) {
        const t0 = process.hrtime.bigint();
        text = await sup.metrics.metrics();
        render.record(Number(process.hrtime.bigint() - t0));
      }
      const get = createHistogram();
      let bytes = 0;
      for (let i = 0; i < SCRAPES; i++) {
        const t0 = process.hrtime.bigint();
        bytes = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).arrayBuffer()).byteLength;
        get.record(Number(process.hrtime.bigint() - t0));
      }
      const own = text.split('\n').filter((l) => l.startsWith('switchboard_'));
      rows.push({
        'per-call series': perCallSeries ? 'on' : 'off',
        calls: sup.listCalls().length,
        'switchboard_* series': own.length,
        'of them per call': own.filter((l) => l.startsWith('switchboard_call_qos{')).length,
        'page KB': bytes / 1024,
        'render p50 ms': ms(render.percentile(50)),
        'render max ms': ms(render.max),
        'GET p50 ms': ms(get.percentile(50)),
      });
    }
  } finally {
    await http.close();
    for (const c of sup.listCalls()) await sup.deleteCall(c.id);
    await sup.stop();
  }
  return rows;
}

export default async function run(): Promise<void> {
  const rows = [...(await measure(false)), ...(await measure(true))];
  printTable(
    `GET /metrics against live RTP calls (${SCRAPES} scrapes each, sequential; render: the registry's text, on the main thread; the page also holds Node's process series)`,
    rows,
  );
}
