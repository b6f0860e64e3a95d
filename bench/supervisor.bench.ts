/**
 * The runtime's own costs: restart time (crash → the actor serving again),
 * supervisor overhead per frame (the host's tick loop and heartbeat around
 * actors that do nothing), and `/status` latency with 1000 actors.
 */
import { createHistogram } from 'node:perf_hooks';
import { pino } from 'pino';
import { FrameMeta } from '../src/frames/FrameRing.ts';
import { Supervisor } from '../src/supervisor/Supervisor.ts';
import { captureKind } from '../src/actors/capture/kind.ts';
import { loadConfig } from '../src/config.ts';
import { createHttpServer } from '../src/server/server.ts';
import { printTable } from './table.ts';
import { nullKind } from '../test/fixtures/nullKind.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: 'silent' });
const ms = (ns: number) => ns / 1e6;

/** `warm`: each crash waits until the spare thread is loaded again; cold: back-to-back crashes find none. */
async function restartTimes(crashes: number, warm: boolean) {
  const sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 2 },
    logLevel: 'error',
    log: quiet,
    kinds: { capture: captureKind },
    restartIntensity: { maxRestarts: 1e9, windowMs: 1 },
  });
  await sup.start();
  const actor = await sup.createActor('capture', { source: 'synthetic', rateHz: 16000 });
  const ring = sup.ringOf(actor, 'out')!;
  const buf = new Int16Array(960);
  const meta = new FrameMeta();
  const h = createHistogram();
  for (let i = 0; i < crashes; i++) {
    await sleep(50);
    if (warm) await sup.whenWarm();
    while (ring.read(buf, meta));
    const t0 = process.hrtime.bigint();
    await sup.injectFault(actor, 'crash');
    // Serving again: the re-created actor's first frame (sequence 0) is in the ring.
    for (;;) {
      if (ring.read(buf, meta) && meta.sequence === 0) break;
      await sleep(1);
    }
    h.record(Number(process.hrtime.bigint() - t0));
  }
  await sup.stop();
  return h;
}

async function tickOverhead(actors: number) {
  const sup = new Supervisor({
    poolSizes: { media: 1, network: 1, agent: 1, capture: 1 },
    logLevel: 'error',
    log: quiet,
    kinds: { null: nullKind },
  });
  await sup.start();
  for (let i = 0; i < actors; i++) await sup.createActor('null', {});
  await sleep(200);
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    samples.push(sup.workerStatuses()[0]!.load.tickUs);
  }
  await sup.stop();
  samples.sort((a, b) => a - b);
  return { medianTickUs: samples[samples.length >> 1]!, p99TickUs: samples[Math.floor(samples.length * 0.99)]! };
}

async function statusLatency(actors: number) {
  const sup = new Supervisor({
    poolSizes: { media: 2, network: 1, agent: 1, capture: 1 },
    logLevel: 'error',
    log: quiet,
    kinds: { null: nullKind },
  });
  await sup.start();
  for (let i = 0; i < actors; i++) await sup.createActor('null', {});
  const direct = createHistogram();
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    JSON.stringify(sup.status());
    direct.record(Number(process.hrtime.bigint() - t0));
  }
  const config = loadConfig({ argv: ['--port', '0'], env: {}, cwd: process.cwd() });
  const http = createHttpServer(sup, config, quiet);
  const { port } = await http.listen();
  const overHttp = createHistogram();
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    bytes = (await res.arrayBuffer()).byteLength;
    overHttp.record(Number(process.hrtime.bigint() - t0));
  }
  await http.close();
  await sup.stop();
  return { direct, overHttp, bytes };
}

export default async function run(): Promise<void> {
  const warm = await restartTimes(20, true);
  const cold = await restartTimes(10, false);
  printTable('Restart: injected crash → the actor serving its first frame again (workers from source via tsx)', [
    { restart: 'spare thread loaded (20)', p50_ms: ms(warm.percentile(50)), p99_ms: ms(warm.percentile(99)), max_ms: ms(warm.max) },
    { restart: 'no spare: thread start (10)', p50_ms: ms(cold.percentile(50)), p99_ms: ms(cold.percentile(99)), max_ms: ms(cold.max) },
  ]);
  const rows = [];
  for (const n of [1, 100, 1000]) {
    const o = await tickOverhead(n);
    rows.push({
      actors: n,
      median_tick_us: o.medianTickUs,
      p99_tick_us: o.p99TickUs,
      per_actor_frame_us: o.medianTickUs / n,
      share_of_frame_pct: (o.medianTickUs / 20_000) * 100,
    });
  }
  printTable('Supervisor overhead per frame: host tick loop + heartbeat around no-op actors, one worker', rows);
  const s = await statusLatency(1000);
  printTable('/status with 1000 actors on 2 workers (200 requests each, sequential)', [
    { path: 'status() + JSON.stringify', p50_ms: ms(s.direct.percentile(50)), p99_ms: ms(s.direct.percentile(99)), max_ms: ms(s.direct.max), bytes: s.bytes },
    { path: 'GET /status over HTTP', p50_ms: ms(s.overHttp.percentile(50)), p99_ms: ms(s.overHttp.percentile(99)), max_ms: ms(s.overHttp.max), bytes: s.bytes },
  ]);
}
